import { assert, describe, it } from "@effect/vitest"
import { Effect, FastCheck as fc, Redacted } from "effect"
import { inspect } from "node:util"
import type { AuthenticationError } from "../src/AuthenticationError.js"
import * as TokenEndpoint from "../src/TokenEndpoint.js"
import * as Reachable from "./fixtures/Reachable.js"
import * as ScriptedEntra from "./fixtures/ScriptedEntra.js"

interface Secrets {
  readonly code: string
  readonly clientSecret: string
  readonly verifier: string
  readonly refreshToken: string
}

/** The shapes a server (or a proxy in front of it) might echo a value back in. */
const shapes: ReadonlyArray<
  [string, (s: string) => Omit<Extract<ScriptedEntra.Scripted, { _tag: "Respond" }>, "_tag" | "status">]
> = [
  [
    "JSON description",
    (s) => ({ body: JSON.stringify({ error: "invalid_grant", error_description: `bad code ${s}` }) })
  ],
  ["JSON field", (s) => ({ body: JSON.stringify({ error: "invalid_grant", code: s, client_secret: s }) })],
  ["nested JSON", (s) => ({ body: JSON.stringify({ error: "x", details: { inner: [{ secret: s }] } }) })],
  ["JSON key", (s) => ({ body: JSON.stringify({ error: "x", [s]: 1 }) })],
  [
    "JSON in a string field",
    (s) => ({ body: JSON.stringify({ error: "x", error_description: JSON.stringify({ refresh_token: s }) }) })
  ],
  ["JSON in a JSON string", (s) => ({ body: JSON.stringify(JSON.stringify({ error: "x", code: s })) })],
  ["claims and trace id", (s) => ({ body: JSON.stringify({ error: "x", claims: s, trace_id: s, suberror: s }) })],
  [
    "URL-encoded description",
    (s) => ({ body: JSON.stringify({ error: "x", error_description: `sent: code=${encodeURIComponent(s)}` }) })
  ],
  ["form body", (s) => ({ body: `error=invalid_grant&code=${encodeURIComponent(s)}&client_secret=${s}` })],
  ["HTML page", (s) => ({ body: `<html><title>${s}</title><body><p>Your code: ${s}</p><input value="${s}"></body>` })],
  ["HTML-escaped", (s) => ({ body: `<p>${s.replace(/&/g, "&amp;").replace(/</g, "&lt;")}</p>` })],
  ["plain text", (s) => ({ body: `Error: the grant ${s} is not valid` })],
  ["text after a long page", (s) => ({ body: `${"<b></b>".repeat(3000)}${s} ${s}` })],
  ["headers", (s) => ({ body: "down", headers: { "x-ms-request-id": s, "content-type": `text/${s}` } })],
  ["truncated JSON", (s) => ({ body: `{"access_token":"${s}","refresh_token":"${s}` })]
]

const secretArb = fc.stringMatching(/^[A-Za-z0-9._~+/=-]{8,48}$/)

const everything = (error: AuthenticationError): Array<string> => [
  error.message,
  inspect(error, { depth: 10 }),
  JSON.stringify(error),
  String(error),
  error.body ?? "",
  ...Reachable.strings(error)
]

const run = (secrets: Secrets, scripted: ScriptedEntra.Scripted, grant: "code" | "refresh") =>
  Effect.gen(function*() {
    const entra = ScriptedEntra.make()
    entra.script.push(scripted)
    const endpoint = yield* TokenEndpoint.make({ maxAttempts: 1 }).pipe(Effect.provide(entra.layer))
    const parameters = {
      authority: "https://login.example",
      tenantId: "home-tenant",
      clientId: "client-1",
      clientSecret: Redacted.make(secrets.clientSecret),
      scopes: ["api://demo/.default"]
    }
    return yield* Effect.flip(
      grant === "code"
        ? endpoint.redeemCode({
          ...parameters,
          code: Redacted.make(secrets.code),
          codeVerifier: Redacted.make(secrets.verifier),
          redirectUri: "http://localhost/cb"
        })
        : endpoint.redeemRefreshToken({ ...parameters, refreshToken: Redacted.make(secrets.refreshToken) })
    )
  })

describe("AuthenticationError keeps an allow-list of the body", () => {
  it.effect.prop(
    "a secret echoed back in any shape appears in no field, message, inspect or JSON of the error",
    {
      secrets: fc.record({ code: secretArb, clientSecret: secretArb, verifier: secretArb, refreshToken: secretArb }),
      shape: fc.integer({ min: 0, max: shapes.length - 1 }),
      which: fc.constantFrom<keyof Secrets>("code", "clientSecret", "verifier", "refreshToken"),
      status: fc.constantFrom(200, 400, 401, 429, 500, 502),
      grant: fc.constantFrom<"code" | "refresh">("code", "refresh")
    },
    ({ grant, secrets, shape, status, which }) =>
      Effect.gen(function*() {
        const [name, make] = shapes[shape]
        const echoed = grant === "refresh" && (which === "code" || which === "verifier") ? "refreshToken" : which
        const error = yield* run(secrets, { _tag: "Respond", status, ...make(secrets[echoed]) }, grant)
        for (const text of everything(error)) {
          for (const secret of Object.values(secrets)) {
            if ((grant === "code" && secret === secrets.refreshToken) || secret.length === 0) continue
            assert.notInclude(text, secret, `${name}, HTTP ${status}: a secret survived`)
          }
        }
      }),
    { fastCheck: { numRuns: 300 } }
  )

  it.effect("Entra's fields are kept, other fields only by name, and an HTML page as a short excerpt", () =>
    Effect.gen(function*() {
      const secrets = { code: "c0de-value", clientSecret: "s3cret~value", verifier: "v".repeat(43), refreshToken: "r" }
      const json = yield* run(secrets, {
        _tag: "Respond",
        status: 400,
        body: ScriptedEntra.errorBody("invalid_grant", 70008, "Expired.", { suberror: "bad_token", extra: "x" })
      }, "code")
      assert.strictEqual(json.errorResponse.suberror, "bad_token")
      assert.deepStrictEqual(json.errorResponse.errorCodes, [70008])
      const kept = JSON.parse(json.body ?? "{}") as Record<string, unknown>
      assert.deepStrictEqual(Object.keys(kept).sort(), [
        "correlation_id",
        "error",
        "error_codes",
        "error_description",
        "error_uri",
        "extra",
        "suberror",
        "timestamp",
        "trace_id"
      ])
      assert.strictEqual(kept.extra, "***")
      const page = yield* run(secrets, {
        _tag: "Respond",
        status: 502,
        body: `<html><head><style>p{}</style></head><body><h1>502 Bad Gateway</h1>${"x ".repeat(500)}</body></html>`
      }, "code")
      assert.isTrue((page.body ?? "").startsWith("502 Bad Gateway x x"))
      assert.isAtMost((page.body ?? "").length, 200 + "...(truncated)".length)
    }))
})
