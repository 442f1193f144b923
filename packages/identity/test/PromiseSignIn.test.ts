/**
 * The Promise facade's sign-in: the ID token validated by default (and the explicit opt-out), the `nonce`, and
 * the client credentials other than a secret (`clientCertificate`, `clientAssertion`), checked by the constructor
 * before any request.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Crypto from "node:crypto"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { inspect } from "node:util"
import { AuthenticationError, AuthorizationCodeCredential, InvalidOptionError } from "../src/promise.js"
import * as ScriptedEntra from "./fixtures/ScriptedEntra.js"

const scope = "api://demo/user_impersonation"
const certs = Path.join(import.meta.dirname, "fixtures", "certs")
const pemPath = Path.join(certs, "client.pem")
const leaf = new Crypto.X509Certificate(Fs.readFileSync(Path.join(certs, "leaf.crt")))

const make = (options: Record<string, unknown>, entra = ScriptedEntra.make(), nonce?: string) => {
  const code = entra.issueCode(ScriptedEntra.alice, nonce === undefined ? {} : { nonce })
  const credential = new AuthorizationCodeCredential("home-tenant", "client-1", code, "http://localhost/callback", {
    authority: "https://login.example",
    httpClient: entra.client,
    ...options
  })
  return { credential, entra }
}

const rejection = (promise: Promise<unknown>) => promise.then(() => undefined, (error: unknown) => error)

const unsigned = (claims: Record<string, unknown>) =>
  `${Buffer.from("{\"alg\":\"none\"}").toString("base64url")}.${
    Buffer.from(JSON.stringify(claims)).toString("base64url")
  }.`

describe("the facade validates the sign-in", () => {
  it("by default: the account is the validated claims', and credentials on one client share the keys", async () => {
    const entra = ScriptedEntra.make()
    const first = make({ clientSecret: "s" }, entra).credential
    const second = make({ clientSecret: "s" }, entra).credential
    await first.getToken(scope)
    await second.getToken(scope)
    assert.deepStrictEqual(await first.getAccount(), {
      homeAccountId: "oid-alice.home-tenant",
      tenantId: "home-tenant",
      username: "alice@contoso.example",
      name: "Alice"
    })
    // Discovery and keys once for both sign-ins.
    assert.deepStrictEqual(entra.openIdRequests, [
      "/home-tenant/v2.0/.well-known/openid-configuration",
      "/home-tenant/discovery/v2.0/keys"
    ])
    await first.close()
    await second.close()
  })

  it("an unsigned ID token is refused (InvalidIdToken) and nothing is cached", async () => {
    const { credential, entra } = make({ clientSecret: "s" })
    entra.script.push({
      _tag: "Respond",
      status: 200,
      body: JSON.stringify({
        token_type: "Bearer",
        access_token: "at-forged",
        expires_in: 3600,
        id_token: unsigned({ oid: "oid-mallory", tid: "home-tenant", aud: "client-1" })
      })
    })
    const error = await rejection(credential.getToken(scope))
    assert.instanceOf(error, AuthenticationError)
    assert.strictEqual((error as AuthenticationError).reason, "InvalidIdToken")
    assert.isUndefined(await credential.getAccount())
    await credential.close()
  })

  it("validateIdToken: false accepts an endpoint's unsigned ID token (the opt-out)", async () => {
    const { credential, entra } = make({ clientSecret: "s", validateIdToken: false })
    entra.script.push({
      _tag: "Respond",
      status: 200,
      body: JSON.stringify({
        token_type: "Bearer",
        access_token: "at-unsigned",
        expires_in: 3600,
        id_token: unsigned({ oid: "oid-alice", tid: "home-tenant", preferred_username: "alice@contoso.example" })
      })
    })
    assert.strictEqual((await credential.getToken(scope)).token, "at-unsigned")
    assert.lengthOf(entra.openIdRequests, 0)
    await credential.close()
  })

  it("nonce: the sign-in's own is accepted, another one refused", async () => {
    const good = make({ clientSecret: "s", nonce: "n-1" }, undefined, "n-1").credential
    await good.getToken(scope)
    const bad = make({ clientSecret: "s", nonce: "n-2" }, undefined, "n-1").credential
    const error = await rejection(bad.getToken(scope))
    assert.strictEqual((error as AuthenticationError).reason, "InvalidIdToken")
    assert.match((error as AuthenticationError).errorResponse.errorDescription, /nonce/)
    await good.close()
    await bad.close()
  })
})

describe("the facade's client credentials", () => {
  it("clientCertificate signs a client_assertion for the code and the refresh, and sends no secret", async () => {
    const pem = Fs.readFileSync(pemPath, "utf8")
    const { credential, entra } = make({ clientCertificate: { certificate: pem, sendCertificateChain: true } })
    await credential.getToken(scope)
    await credential.getToken("api://other/.default")
    assert.deepStrictEqual(entra.requests.map((r) => r.form.grant_type), ["authorization_code", "refresh_token"])
    for (const { form } of entra.requests) {
      assert.isUndefined(form.client_secret)
      const [h, p, s] = form.client_assertion!.split(".") as [string, string, string]
      assert.isTrue(Crypto.verify("sha256", Buffer.from(`${h}.${p}`), leaf.publicKey, Buffer.from(s, "base64url")))
      const header = JSON.parse(Buffer.from(h, "base64url").toString("utf8")) as Record<string, unknown>
      assert.strictEqual((header.x5c as Array<string>)[0], leaf.raw.toString("base64"))
    }
    for (const text of [inspect(credential), JSON.stringify(credential), String(credential)]) {
      assert.notInclude(text, "PRIVATE KEY")
    }
    await credential.close()
  })

  it("clientAssertion is called for every token request", async () => {
    let calls = 0
    const { credential, entra } = make({ clientAssertion: () => Promise.resolve(`h.federated-${++calls}.s`) })
    await credential.getToken(scope)
    await credential.getToken("api://other/.default")
    assert.deepStrictEqual(entra.requests.map((r) => r.form.client_assertion), ["h.federated-1.s", "h.federated-2.s"])
    await credential.close()
  })

  it("a clientAssertion that rejects fails the request before anything is sent", async () => {
    const { credential, entra } = make({ clientAssertion: () => Promise.reject(new Error("no token file")) })
    const error = await rejection(credential.getToken(scope))
    assert.instanceOf(error, AuthenticationError)
    assert.strictEqual((error as AuthenticationError).errorResponse.error, "invalid_client")
    assert.lengthOf(entra.requests, 0)
    await credential.close()
  })

  const refused: ReadonlyArray<readonly [string, Record<string, unknown>, string]> = [
    [
      "a secret and a certificate",
      { clientSecret: "s", clientCertificate: { certificatePath: pemPath } },
      "clientCertificate"
    ],
    ["a certificate and an assertion", {
      clientCertificate: { certificatePath: pemPath },
      clientAssertion: () => Promise.resolve("h.p.s")
    }, "clientAssertion"],
    ["an assertion that is not a function", { clientAssertion: "h.p.s" }, "clientAssertion"],
    [
      "a certificate file that does not exist",
      { clientCertificate: { certificatePath: "/nonexistent.pem" } },
      "clientCertificate"
    ],
    ["a wrong certificate password", {
      clientCertificate: {
        certificatePath: Path.join(certs, "client-encrypted.pem"),
        certificatePassword: "wrong-pw-value"
      }
    }, "clientCertificate"],
    ["an empty nonce", { clientSecret: "s", nonce: "" }, "nonce"],
    ["a non-boolean validateIdToken", { clientSecret: "s", validateIdToken: "no" }, "validateIdToken"]
  ]
  for (const [name, options, field] of refused) {
    it(`${name}: the constructor throws an InvalidOptionError for ${field}, nothing is sent`, () => {
      const entra = ScriptedEntra.make()
      let thrown: unknown
      try {
        make(options, entra)
      } catch (error) {
        thrown = error
      }
      assert.instanceOf(thrown, InvalidOptionError)
      assert.strictEqual((thrown as InvalidOptionError).field, field)
      assert.notInclude(inspect(thrown), "wrong-pw-value")
      assert.lengthOf(entra.requests, 0)
    })
  }

  it("the secret-third form with a certificate too is refused", () => {
    assert.throws(
      () =>
        new AuthorizationCodeCredential("home-tenant", "client-1", "secret", "code", "http://localhost/callback", {
          clientCertificate: { certificatePath: pemPath }
        }),
      /one client credential/
    )
  })
})

// The fixture's signing is what the validation above relies on: a sanity check it signs at the clock's time.
describe("fixture", () => {
  it.effect("ScriptedEntra.idToken is timed by the Effect clock", () =>
    Effect.gen(function*() {
      const payload = JSON.parse(
        Buffer.from((yield* ScriptedEntra.idToken()).split(".")[1]!, "base64url").toString("utf8")
      ) as Record<string, number>
      assert.strictEqual(payload.iat, 0)
    }))
})
