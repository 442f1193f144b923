import { assert, describe, it } from "@effect/vitest"
import * as esbuild from "esbuild"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { pathToFileURL } from "node:url"
import { AuthenticationError as Root } from "../src/index.js"
import * as Facade from "../src/promise.js"
import * as ScriptedEntra from "./fixtures/ScriptedEntra.js"

const failure = () =>
  new Root.AuthenticationError({
    reason: "ErrorResponse",
    statusCode: 400,
    errorResponse: { error: "invalid_client", errorDescription: "AADSTS7000215: Invalid client secret provided." }
  })

// Another copy of the module, with its own copy of `effect`: what the pre-bundled facade, or a CommonJS copy
// beside the ES module one, holds.
const loadSecondCopy = async (): Promise<typeof Root> => {
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "error-copy-"))
  const outfile = Path.join(dir, "AuthenticationError.mjs")
  await esbuild.build({
    entryPoints: [Path.join(import.meta.dirname, "../src/AuthenticationError.ts")],
    bundle: true,
    platform: "node",
    format: "esm",
    outfile,
    logLevel: "error"
  })
  try {
    return await import(pathToFileURL(outfile).href)
  } finally {
    Fs.rmSync(dir, { recursive: true, force: true })
  }
}

describe("one error class from both entry points", () => {
  it("the facade's AuthenticationError is the root's: a facade rejection matches the root's class", async () => {
    assert.strictEqual(Facade.AuthenticationError, Root.AuthenticationError)
    const entra = ScriptedEntra.make()
    entra.script.push({
      _tag: "Respond",
      status: 401,
      body: ScriptedEntra.errorBody("invalid_client", 7000215, "Invalid client secret provided.")
    })
    const code = entra.issueCode(ScriptedEntra.alice)
    const credential = new Facade.AuthorizationCodeCredential("home-tenant", "client-1", code, "http://localhost/cb", {
      authorityHost: "login.example",
      httpClient: entra.client,
      clientSecret: "wrong"
    })
    const error: unknown = await credential.getToken("api://x/.default").then(() => undefined, (e: unknown) => e)
    await credential.close()
    // Compiles: `instanceof` against the root's class narrows, so `aadstsCode` is typed.
    assert.isTrue(error instanceof Root.AuthenticationError && error.aadstsCode === 7000215)
    assert.isTrue(Root.isAuthenticationError(error))
    assert.isTrue(Facade.isAuthenticationError(error))
    assert.isFalse(Facade.isInvalidOptionError(error))
  })

  it("instanceof matches errors of another copy of the module, both ways", async () => {
    const copy = await loadSecondCopy()
    assert.notStrictEqual(copy.AuthenticationError, Root.AuthenticationError)
    const theirs = new copy.AuthenticationError(failure())
    const invalid = new copy.InvalidOptionError({ field: "tenantId", reason: "is empty" })
    assert.isTrue(theirs instanceof Root.AuthenticationError)
    assert.isTrue(failure() instanceof copy.AuthenticationError)
    assert.isTrue(invalid instanceof Root.InvalidOptionError)
    assert.isFalse(invalid instanceof Root.AuthenticationError)
    assert.isTrue(Root.isAuthenticationError(theirs))
    assert.isTrue(copy.isInvalidOptionError(new Root.InvalidOptionError({ field: "scopes", reason: "is empty" })))
  })

  it("other values do not match; a subclass keeps the prototype check", () => {
    for (const value of [undefined, null, "AuthenticationError", new Error("x"), { _tag: "AuthenticationError" }]) {
      assert.isFalse(value instanceof Root.AuthenticationError)
      assert.isFalse(Root.isAuthenticationError(value))
    }
    class Audited extends Root.AuthenticationError {}
    const audited = new Audited(failure())
    assert.isTrue(audited instanceof Audited)
    assert.isTrue(audited instanceof Root.AuthenticationError)
    assert.isFalse(failure() instanceof Audited)
  })

  it("the brand is not a field of the error: keys and JSON are unchanged", () => {
    const error = failure()
    const brand = Symbol.for("@effect-entra/identity/AuthenticationError")
    assert.notInclude(Object.getOwnPropertySymbols(error), brand)
    assert.isFalse(Object.prototype.propertyIsEnumerable.call(Object.getPrototypeOf(error), brand))
    assert.notInclude(JSON.stringify(error), "effect-entra")
  })
})
