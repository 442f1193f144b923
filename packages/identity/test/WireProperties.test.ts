/**
 * Properties over everything that comes from outside: every field of a token response (any JSON value, odd numbers,
 * absent, huge), any status and body, and every option. Whatever arrives, the credential never dies with a defect,
 * every failure is typed, a success is a usable token, and no request goes anywhere but the authority.
 */
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, FastCheck as fc, Redacted } from "effect"
import * as AuthorizationCodeCredential from "../src/AuthorizationCodeCredential.js"
import * as TokenCache from "../src/TokenCache.js"
import * as ScriptedEntra from "./fixtures/ScriptedEntra.js"
import * as Time from "./fixtures/Time.js"

const scope = "api://demo/user_impersonation"
const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url")

/** Numbers a hostile or broken server might send where a lifetime goes. */
const oddNumber = fc.oneof(
  fc.constantFrom(0, -1, 1e30, -1e30, 0.5, 3599.9, Number.MAX_SAFE_INTEGER, 2 ** 53 + 2, 1, 86_400 * 365),
  fc.constantFrom("Infinity", "-Infinity", "NaN", "1e30", "", "3600", " 3600", "0x10", "3600abc"),
  fc.double(),
  fc.integer()
)

/** Any value a JSON field could hold, weighted towards the odd numbers above. */
const anyField = fc.oneof(
  { weight: 3, arbitrary: oddNumber },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  { weight: 1, arbitrary: fc.constant(undefined) }
)

const goodIdToken = `${base64url({ alg: "none" })}.${
  base64url({ oid: "oid-alice", tid: "home-tenant", preferred_username: "alice@contoso.example" })
}.`

/** A 200 token response in which every field may be replaced by something odd. */
const tokenResponse = fc.record({
  token_type: fc.oneof(fc.constant("Bearer"), anyField),
  access_token: fc.oneof(fc.constant("at-1"), anyField, fc.string({ maxLength: 3 })),
  refresh_token: fc.oneof(fc.constant("rt-1"), anyField),
  expires_in: fc.oneof(fc.constant(3600), anyField),
  ext_expires_in: fc.oneof(fc.constant(3600), anyField),
  expires_on: anyField,
  refresh_in: anyField,
  scope: fc.oneof(fc.constant(scope), anyField),
  id_token: fc.oneof(fc.constant(goodIdToken), anyField),
  client_info: fc.oneof(fc.constant(base64url({ uid: "oid-alice", utid: "home-tenant" })), anyField)
}, { requiredKeys: [] })

/** Any answer: a 200 with an odd token response, or any status with any body. */
const answer = fc.oneof(
  { weight: 3, arbitrary: tokenResponse.map((body) => ({ status: 200, body: JSON.stringify(body) })) },
  {
    weight: 1,
    arbitrary: fc.record({
      // 204, 205 and 304 cannot carry a body (the fixture's Response refuses one).
      status: fc.integer({ min: 200, max: 599 }).filter((status) => ![204, 205, 304].includes(status)),
      body: fc.oneof(fc.string(), fc.jsonValue().map((value) => JSON.stringify(value)))
    })
  }
)

/**
 * The answer without a refresh token: a well-formed one would rotate the account's refresh token to a value the
 * scripted endpoint never issued, and the next call would rightly be refused.
 */
const withoutRefreshToken = (reply: { readonly status: number; readonly body: string }) => {
  try {
    const parsed: unknown = JSON.parse(reply.body)
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return reply
    const { refresh_token: _, ...rest } = parsed as Record<string, unknown>
    return { ...reply, body: JSON.stringify(rest) }
  } catch {
    return reply
  }
}

const typedFailure = (cause: Cause.Cause<unknown>) => {
  assert.isFalse(Cause.isDie(cause), `a defect: ${Cause.pretty(cause)}`)
  const failure = Cause.failureOption(cause)
  assert.isTrue(failure._tag === "Some", `not a typed failure: ${Cause.pretty(cause)}`)
  if (failure._tag === "Some") {
    assert.include(["AuthenticationError", "InvalidOptionError"], (failure.value as { _tag: string })._tag)
  }
}

describe("properties of what comes from the wire", () => {
  it.effect.prop(
    "any token-endpoint answer to a redemption: a usable token or a typed error, never a defect",
    [answer],
    ([reply]) =>
      Effect.gen(function*() {
        const entra = ScriptedEntra.make()
        const code = entra.issueCode(ScriptedEntra.alice)
        entra.script.push({ _tag: "Respond", ...reply })
        const credential = yield* ScriptedEntra.credential(entra, code, {
          http: { maxAttempts: 1, requestTimeout: "5 seconds" }
        })
        const start = yield* Effect.clockWith((clock) => clock.currentTimeMillis)
        const exit = yield* Effect.exit(Time.settle(credential.getToken(scope)))
        if (Exit.isFailure(exit)) typedFailure(exit.cause)
        else {
          const token = Redacted.value(exit.value.token)
          assert.isString(token)
          assert.isAbove(token.length, 0)
          assert.isTrue(Number.isFinite(exit.value.expiresOnTimestamp))
          assert.isAbove(exit.value.expiresOnTimestamp, start, "a success is not already expired")
          assert.isBelow(exit.value.expiresOnTimestamp, start + 400 * 86_400_000, "a lifetime within sane bounds")
        }
        for (const request of entra.requests) {
          assert.isTrue(request.url.startsWith(ScriptedEntra.credentialOptions.authority))
        }
      }).pipe(Effect.provide(TokenCache.layerMemory), Effect.scoped),
    { fastCheck: { numRuns: 200 } }
  )

  it.effect.prop(
    "any answer to a refresh: the cached account survives, the failure is typed, and the next good answer works",
    [answer],
    ([reply]) =>
      Effect.gen(function*() {
        const entra = ScriptedEntra.make()
        const code = entra.issueCode(ScriptedEntra.alice)
        const credential = yield* ScriptedEntra.credential(entra, code, {
          http: { maxAttempts: 1, requestTimeout: "5 seconds" }
        })
        yield* credential.getToken(scope)
        entra.script.push({ _tag: "Respond", ...withoutRefreshToken(reply) })
        const exit = yield* Effect.exit(Time.settle(credential.getToken("api://other/scope")))
        if (Exit.isFailure(exit)) typedFailure(exit.cause)
        // Whatever that answer was, the account and its refresh token are still there for the next call.
        const next = yield* Time.settle(credential.getToken("api://third/scope"))
        assert.isString(Redacted.value(next.token))
      }).pipe(Effect.provide(TokenCache.layerMemory), Effect.scoped),
    { fastCheck: { numRuns: 100 } }
  )
})

/** Strings that look like tenants, hosts and URLs, hostile ones included. */
const hostileString = fc.oneof(
  fc.constantFrom(
    ".",
    "..",
    "../common",
    "common/../x",
    "a/b",
    "%2e%2e",
    "contoso.onmicrosoft.com",
    "00000000-0000-0000-0000-000000000001",
    "https:/evil.example",
    "https://evil.example@login.example",
    "https://login.example/../evil",
    "http://login.example",
    "login.example",
    "javascript:alert(1)",
    "",
    " ",
    "\u0000",
    "a".repeat(300)
  ),
  fc.string(),
  fc.webUrl()
)
const hostileNumber = fc.oneof(
  fc.constantFrom(Number.NaN, -1, 0, Infinity, -Infinity, 1e30, 0.5),
  fc.integer(),
  fc.double()
)

describe("properties of every option", () => {
  it.effect.prop(
    "any options: an InvalidOptionError before any request, or a credential that only talks to its authority",
    [hostileString, hostileString, hostileString, hostileNumber, hostileNumber, hostileNumber],
    ([tenantId, authority, redirectUri, requestTimeout, maxAttempts, baseDelay]) =>
      Effect.gen(function*() {
        const entra = ScriptedEntra.make()
        const code = entra.issueCode(ScriptedEntra.alice)
        const made = yield* Effect.exit(
          AuthorizationCodeCredential.make({
            tenantId,
            clientId: "client-1",
            redirectUri,
            authority,
            authorizationCode: Redacted.make(code),
            http: { requestTimeout, maxAttempts, baseDelay } as AuthorizationCodeCredential.Options["http"]
          }).pipe(Effect.provide(entra.layer))
        )
        if (Exit.isFailure(made)) {
          typedFailure(made.cause)
          assert.strictEqual(entra.requests.length, 0, "nothing was sent")
          return
        }
        const exit = yield* Effect.exit(Time.settle(made.value.getToken(scope)))
        if (Exit.isFailure(exit)) typedFailure(exit.cause)
        const origin = new URL(authority.includes("://") ? authority : `https://${authority}`).origin
        for (const request of entra.requests) {
          const url = new URL(request.url)
          assert.strictEqual(
            url.origin,
            origin,
            `a request to ${url.origin} for authority ${JSON.stringify(authority)}`
          )
          // The tenant is one path segment, never a way out of the authority's tenant path.
          assert.notInclude(url.pathname.split("/").slice(1, -3), "..")
        }
      }).pipe(Effect.provide(TokenCache.layerMemory), Effect.scoped),
    { fastCheck: { numRuns: 200 } }
  )
})
