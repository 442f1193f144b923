import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Fiber, Layer, Logger, Option, Redacted, TestClock } from "effect"
import type { Scope } from "effect"
import * as AuthenticationError from "../src/AuthenticationError.js"
import * as AuthorizationCodeCredential from "../src/AuthorizationCodeCredential.js"
import { makeRefreshGate } from "../src/internal/refreshGate.js"
import * as TokenCache from "../src/TokenCache.js"
import * as ScriptedEntra from "./fixtures/ScriptedEntra.js"
import * as Time from "./fixtures/Time.js"

const tenantId = "home-tenant"
const scope = "api://demo/user_impersonation"
const otherScope = "https://graph.microsoft.com/User.Read"

const baseOptions = {
  tenantId,
  clientId: "client-1",
  redirectUri: "http://localhost/callback",
  clientSecret: Redacted.make("client-secret-value"),
  authority: "https://login.example"
} satisfies Partial<AuthorizationCodeCredential.Options>

interface Setup {
  readonly entra: ScriptedEntra.ScriptedEntra
  readonly credential: AuthorizationCodeCredential.Service
  readonly code: string
}

const setup = (
  overrides: Partial<AuthorizationCodeCredential.Options> = {},
  options: { readonly entra?: ScriptedEntra.ScriptedEntra; readonly user?: ScriptedEntra.User } = {}
): Effect.Effect<Setup, never, Scope.Scope | TokenCache.TokenCache> =>
  Effect.gen(function*() {
    const entra = options.entra ?? ScriptedEntra.make()
    const code = entra.issueCode(options.user ?? ScriptedEntra.alice)
    const credential = yield* AuthorizationCodeCredential.make({
      ...baseOptions,
      authorizationCode: Redacted.make(code),
      ...overrides
    }).pipe(Effect.provide(entra.layer), Effect.orDie)
    return { entra, credential, code }
  })

const token = (effect: Effect.Effect<{ readonly token: Redacted.Redacted<string> }, unknown>) =>
  Effect.map(effect, (t) => Redacted.value(t.token))

const withMemoryCache = <A, E>(effect: Effect.Effect<A, E, Scope.Scope | TokenCache.TokenCache>) =>
  effect.pipe(Effect.provide(TokenCache.layerMemory), Effect.scoped)

describe("RedeemCode", () => {
  it.effect("redeems the code exactly once under 200 concurrent first calls for two scope sets", () =>
    withMemoryCache(Effect.gen(function*() {
      const { credential, entra } = yield* setup()
      const results = yield* Effect.all(
        Array.from({ length: 200 }, (_, i) => token(credential.getToken(i % 2 === 0 ? scope : otherScope))),
        { concurrency: "unbounded" }
      )
      assert.strictEqual(entra.grants("authorization_code").length, 1)
      // The other scope set waited for the redemption, then used the refresh token once.
      assert.strictEqual(entra.grants("refresh_token").length, 1)
      assert.strictEqual(new Set(results).size, 2)
    })))

  it.effect("sends the fields Entra expects for the code grant", () =>
    withMemoryCache(Effect.gen(function*() {
      const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
      const { code, credential, entra } = yield* setup({ codeVerifier: Redacted.make(verifier) })
      yield* credential.getToken([scope])
      const [request] = entra.requests
      assert.strictEqual(request.url, "https://login.example/home-tenant/oauth2/v2.0/token")
      assert.deepStrictEqual(request.form, {
        client_id: "client-1",
        grant_type: "authorization_code",
        scope: `${scope} openid profile offline_access`,
        client_info: "1",
        client_secret: "client-secret-value",
        code,
        redirect_uri: "http://localhost/callback",
        code_verifier: verifier
      })
      assert.match(request.headers["content-type"], /application\/x-www-form-urlencoded/)
    })))

  it.effect("never sends the code again after a successful redemption", () =>
    withMemoryCache(Effect.gen(function*() {
      const { credential, entra } = yield* setup()
      yield* credential.getToken(scope)
      for (let hour = 0; hour < 5; hour++) {
        yield* TestClock.adjust("61 minutes")
        yield* credential.getToken(scope)
        yield* credential.getToken(otherScope, { claims: "{\"access_token\":{\"acrs\":{\"values\":[\"c1\"]}}}" })
      }
      assert.strictEqual(entra.grants("authorization_code").length, 1)
      assert.strictEqual(entra.grants("refresh_token").length, 10)
    })))

  it.effect("a rejected code leaves nothing to redeem: later calls fail at once without a request", () =>
    withMemoryCache(Effect.gen(function*() {
      const { credential, entra } = yield* setup()
      entra.script.push({
        _tag: "Respond",
        status: 400,
        body: ScriptedEntra.errorBody("invalid_grant", 54005, "OAuth2 Authorization code was already redeemed.")
      })
      const first = yield* Effect.flip(credential.getToken(scope))
      assert.strictEqual(first._tag, "AuthenticationError")
      const second = yield* Effect.flip(credential.getToken(scope))
      assert(second._tag === "AuthenticationError")
      assert.strictEqual(second.reason, "ReauthenticationRequired")
      assert.strictEqual(second.aadstsCode, 54005)
      assert.isTrue(second.isInteractionRequired)
      assert.strictEqual(entra.requests.length, 1)
    })))

  it.effect("a transient failure keeps the code for the next call", () =>
    withMemoryCache(Effect.gen(function*() {
      const { credential, entra } = yield* setup({ http: { maxAttempts: 1 } })
      entra.script.push({ _tag: "Respond", status: 503, body: "<html>Service Unavailable</html>" })
      const error = yield* Effect.flip(credential.getToken(scope))
      assert(error._tag === "AuthenticationError")
      assert.strictEqual(error.statusCode, 503)
      const value = yield* token(credential.getToken(scope))
      assert.match(value, /^at-/)
      assert.strictEqual(entra.grants("authorization_code").length, 2)
    })))

  it.effect("reports the signed-in account from client_info and the ID token", () =>
    withMemoryCache(Effect.gen(function*() {
      const { credential } = yield* setup()
      assert.isTrue(Option.isNone(yield* credential.account))
      yield* credential.getToken(scope)
      const account = yield* credential.account
      assert.deepStrictEqual(Option.getOrThrow(account), {
        homeAccountId: "oid-alice.home-tenant",
        tenantId: "home-tenant",
        username: "alice@contoso.example",
        name: "Alice"
      })
    })))
})

describe("CacheLookup", () => {
  it.effect("serves a cached token without a request, whatever the order and case of the scopes", () =>
    withMemoryCache(Effect.gen(function*() {
      const { credential, entra } = yield* setup()
      const first = yield* token(credential.getToken([scope, otherScope]))
      const again = yield* token(credential.getToken([otherScope.toUpperCase(), scope]))
      const spaced = yield* token(credential.getToken(`${otherScope} ${scope}`))
      assert.strictEqual(again, first)
      assert.strictEqual(spaced, first)
      assert.strictEqual(entra.requests.length, 1)
      const peeked = credential.unsafeCachedToken([scope, otherScope])
      assert.strictEqual(peeked && Redacted.value(peeked.token), first)
    })))

  it.effect("never serves one tenant's token for another", () =>
    withMemoryCache(Effect.gen(function*() {
      const { credential, entra } = yield* setup({ additionallyAllowedTenants: ["other-tenant"] })
      const home = yield* token(credential.getToken(scope))
      const other = yield* token(credential.getToken(scope, { tenantId: "other-tenant" }))
      assert.notStrictEqual(home, other)
      assert.include(other, "other-tenant")
      assert.strictEqual(entra.requests[1].url, "https://login.example/other-tenant/oauth2/v2.0/token")
      assert.strictEqual(yield* token(credential.getToken(scope)), home)
    })))

  it.effect("one cache shared by two users' credentials never hands one user's token to the other", () =>
    withMemoryCache(Effect.gen(function*() {
      const entra = ScriptedEntra.make()
      const forAlice = yield* setup({}, { entra, user: ScriptedEntra.alice })
      const forBob = yield* setup({}, { entra, user: ScriptedEntra.bob })
      const a = yield* token(forAlice.credential.getToken(scope))
      const b = yield* token(forBob.credential.getToken(scope))
      assert.include(a, "oid-alice")
      assert.include(b, "oid-bob")
      assert.strictEqual(yield* token(forAlice.credential.getToken(scope)), a)
      assert.strictEqual(yield* token(forBob.credential.getToken(scope)), b)
      const cache = yield* TokenCache.TokenCache
      assert.strictEqual((yield* cache.listAccounts).length, 2)
    })))
})

describe("RefreshToken", () => {
  it.effect("renews once Entra's refresh_in has passed", () =>
    withMemoryCache(Effect.gen(function*() {
      const { credential, entra } = yield* setup()
      entra.settings.refreshIn = 600
      const first = yield* credential.getToken(scope)
      assert.strictEqual(first.refreshAfterTimestamp, 600_000)
      yield* TestClock.adjust("599 seconds")
      assert.strictEqual(Redacted.value((yield* credential.getToken(scope)).token), Redacted.value(first.token))
      yield* TestClock.adjust("2 seconds")
      const renewed = yield* credential.getToken(scope)
      assert.notStrictEqual(Redacted.value(renewed.token), Redacted.value(first.token))
      assert.strictEqual(entra.grants("refresh_token").length, 1)
    })))

  it.effect("renews within 5 minutes of expiry, not before", () =>
    withMemoryCache(Effect.gen(function*() {
      const { credential, entra } = yield* setup()
      yield* credential.getToken(scope)
      yield* TestClock.adjust("54 minutes")
      yield* credential.getToken(scope)
      assert.strictEqual(entra.grants("refresh_token").length, 0)
      assert.isDefined(credential.unsafeCachedToken(scope))
      yield* TestClock.adjust("61 seconds")
      assert.isUndefined(credential.unsafeCachedToken(scope))
      yield* credential.getToken(scope)
      assert.strictEqual(entra.grants("refresh_token").length, 1)
    })))

  it.effect("a short-lived token is renewed at half its lifetime, not on every call", () =>
    withMemoryCache(Effect.gen(function*() {
      const { credential, entra } = yield* setup()
      entra.settings.expiresIn = 120
      yield* credential.getToken(scope)
      yield* TestClock.adjust("59 seconds")
      yield* credential.getToken(scope)
      assert.strictEqual(entra.grants("refresh_token").length, 0)
      yield* TestClock.adjust("2 seconds")
      yield* credential.getToken(scope)
      assert.strictEqual(entra.grants("refresh_token").length, 1)
    })))

  it.effect("concurrent callers share one refresh request per key", () =>
    withMemoryCache(Effect.gen(function*() {
      const { credential, entra } = yield* setup()
      yield* credential.getToken(scope)
      yield* credential.getToken(otherScope)
      yield* TestClock.adjust("2 hours")
      const results = yield* Effect.all(
        Array.from({ length: 100 }, (_, i) => token(credential.getToken(i % 2 === 0 ? scope : otherScope))),
        { concurrency: "unbounded" }
      )
      assert.strictEqual(new Set(results).size, 2)
      assert.strictEqual(entra.grants("refresh_token").length, 3)
    })))

  it.effect("a failed proactive refresh keeps the cached token, warns without secrets, and waits 30 s", () =>
    Effect.gen(function*() {
      const logs: Array<string> = []
      const capture = Logger.make(({ annotations, logLevel, message }) => {
        logs.push(`${logLevel.label} ${String(message)} ${JSON.stringify(Object.fromEntries(annotations))}`)
      })
      yield* Effect.gen(function*() {
        const { credential, entra } = yield* setup()
        const original = yield* token(credential.getToken(scope))
        yield* TestClock.adjust("56 minutes")
        entra.script.push({
          _tag: "Respond",
          status: 400,
          body: ScriptedEntra.errorBody("invalid_grant", 50076, "Due to a configuration change made by your admin")
        })
        assert.strictEqual(yield* token(credential.getToken(scope)), original)
        assert.strictEqual(entra.grants("refresh_token").length, 1)
        // Within the 30 s back-off the key is not retried.
        yield* TestClock.adjust("29 seconds")
        assert.strictEqual(yield* token(credential.getToken(scope)), original)
        assert.strictEqual(entra.grants("refresh_token").length, 1)
        yield* TestClock.adjust("2 seconds")
        const renewed = yield* token(credential.getToken(scope))
        assert.notStrictEqual(renewed, original)
        assert.strictEqual(entra.grants("refresh_token").length, 2)
      }).pipe(withMemoryCache, Effect.provide(Logger.add(capture)))
      const warnings = logs.filter((line) => line.startsWith("WARN"))
      assert.strictEqual(warnings.length, 1)
      assert.include(warnings[0], "AADSTS50076")
      for (const secret of ["client-secret-value", "at-", "rt-", "code-"]) {
        assert.notInclude(warnings[0], secret)
      }
    }))

  it.effect("a proactive renewal that fails after the token expired is an error, also for callers that joined it", () =>
    withMemoryCache(Effect.gen(function*() {
      const { credential, entra } = yield* setup({ http: { maxAttempts: 1, requestTimeout: "10 minutes" } })
      yield* credential.getToken(scope)
      // Inside the renewal window; Entra takes 5 minutes to refuse, by which time the token has expired.
      yield* TestClock.adjust("56 minutes")
      entra.script.push({
        _tag: "Respond",
        status: 400,
        delay: "5 minutes",
        body: ScriptedEntra.errorBody("invalid_grant", 700082, "The refresh token has expired due to inactivity.")
      })
      const proactive = yield* Effect.fork(Effect.either(credential.getToken(scope)))
      yield* TestClock.adjust("4 minutes") // now past expiry (56 + 4 = 60 min > 59:59)
      const joined = yield* Effect.fork(Effect.either(credential.getToken(scope)))
      yield* TestClock.adjust("2 minutes")
      for (const fiber of [proactive, joined]) {
        const result = yield* Fiber.join(fiber)
        assert(result._tag === "Left", "an expired token must not be served as a success")
        assert(result.left._tag === "AuthenticationError")
        assert.strictEqual(result.left.aadstsCode, 700082)
      }
      assert.strictEqual(entra.grants("refresh_token").length, 1)
    })))

  it.effect("an expired token is always renewed, and a failed renewal is an error", () =>
    withMemoryCache(Effect.gen(function*() {
      const { credential, entra } = yield* setup()
      yield* credential.getToken(scope)
      yield* TestClock.adjust("61 minutes")
      entra.script.push({
        _tag: "Respond",
        status: 400,
        body: ScriptedEntra.errorBody("invalid_grant", 700082, "The refresh token has expired due to inactivity.")
      })
      const error = yield* Effect.flip(credential.getToken(scope))
      assert(error._tag === "AuthenticationError")
      assert.strictEqual(error.aadstsCode, 700082)
      assert.strictEqual(error.grantType, "refresh_token")
      // The failure is not cached: the next call tries again.
      assert.match(yield* token(credential.getToken(scope)), /^at-/)
    })))

  it.effect("uses the newest rotated refresh token", () =>
    withMemoryCache(Effect.gen(function*() {
      const { credential, entra } = yield* setup()
      yield* credential.getToken(scope)
      yield* credential.getToken(otherScope)
      yield* credential.getToken("third/scope")
      const used = entra.grants("refresh_token").map((r) => r.form.refresh_token)
      // The code was #1; the redemption returned refresh token #2, the first refresh #3.
      assert.deepStrictEqual(used.map((rt) => rt.split("-")[1]), ["2", "3"])
    })))

  it.effect("with no refresh token and no code left, fails with ReauthenticationRequired", () =>
    withMemoryCache(Effect.gen(function*() {
      const { credential, entra } = yield* setup()
      entra.settings.returnRefreshToken = false
      yield* credential.getToken(scope)
      const error = yield* Effect.flip(credential.getToken(otherScope))
      assert(error._tag === "AuthenticationError")
      assert.strictEqual(error.reason, "ReauthenticationRequired")
      assert.include(error.message, "sign in again")
      assert.strictEqual(entra.requests.length, 1)
    })))
})

describe("claims and CAE", () => {
  it.effect("a claims request bypasses the cache and is sent to Entra", () =>
    withMemoryCache(Effect.gen(function*() {
      const { credential, entra } = yield* setup()
      const plain = yield* token(credential.getToken(scope))
      const claims = "{\"access_token\":{\"acrs\":{\"essential\":true,\"value\":\"c1\"}}}"
      const challenged = yield* token(credential.getToken(scope, { claims }))
      assert.notStrictEqual(challenged, plain)
      assert.strictEqual(entra.requests[1].form.claims, claims)
      assert.strictEqual(entra.requests[1].form.grant_type, "refresh_token")
    })))

  it.effect("enableCae merges cp1 and keeps CAE tokens apart, sharing one refresh token", () =>
    withMemoryCache(Effect.gen(function*() {
      const { credential, entra } = yield* setup()
      const plain = yield* token(credential.getToken(scope))
      const cae = yield* token(credential.getToken(scope, { enableCae: true }))
      assert.notStrictEqual(cae, plain)
      assert.deepStrictEqual(JSON.parse(entra.requests[1].form.claims), {
        access_token: { xms_cc: { values: ["cp1"] } }
      })
      assert.strictEqual(yield* token(credential.getToken(scope, { enableCae: true })), cae)
      assert.strictEqual(yield* token(credential.getToken(scope)), plain)
      const merged = yield* Effect.gen(function*() {
        yield* credential.getToken(scope, { enableCae: true, claims: "{\"access_token\":{\"nbf\":{\"value\":\"1\"}}}" })
        return JSON.parse(entra.requests[2].form.claims)
      })
      assert.deepStrictEqual(merged, { access_token: { nbf: { value: "1" }, xms_cc: { values: ["cp1"] } } })
      assert.strictEqual(entra.grants("authorization_code").length, 1)
    })))
})

describe("multi-tenant", () => {
  it.effect("refuses a tenant that is not allowed, before any request", () =>
    withMemoryCache(Effect.gen(function*() {
      const { credential, entra } = yield* setup()
      const error = yield* Effect.flip(credential.getToken(scope, { tenantId: "someone-else" }))
      assert(error._tag === "InvalidOptionError")
      assert.strictEqual(error.field, "tenantId")
      assert.include(error.message, "additionallyAllowedTenants")
      assert.strictEqual(entra.requests.length, 0)
    })))

  it.effect("\"*\" allows any tenant; the configured tenant always works", () =>
    withMemoryCache(Effect.gen(function*() {
      const { credential, entra } = yield* setup({ additionallyAllowedTenants: ["*"] })
      yield* credential.getToken(scope, { tenantId: "anyone" })
      yield* credential.getToken(scope, { tenantId: "HOME-TENANT" })
      assert.strictEqual(entra.requests[0].url, "https://login.example/anyone/oauth2/v2.0/token")
      assert.strictEqual(entra.requests[1].url, "https://login.example/home-tenant/oauth2/v2.0/token")
    })))

  it.effect("AZURE_IDENTITY_DISABLE_MULTITENANTAUTH ignores per-request tenants", () =>
    withMemoryCache(Effect.gen(function*() {
      const { credential, entra } = yield* setup()
      yield* credential.getToken(scope, { tenantId: "someone-else" })
      assert.strictEqual(entra.requests[0].url, "https://login.example/home-tenant/oauth2/v2.0/token")
    })).pipe(
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["AZURE_IDENTITY_DISABLE_MULTITENANTAUTH", "true"]])))
    ))
})

describe("transient failures", () => {
  it.effect("retries a 429 after its Retry-After", () =>
    withMemoryCache(Effect.gen(function*() {
      const { credential, entra } = yield* setup()
      entra.script.push({ _tag: "Respond", status: 429, body: "Too Many Requests", headers: { "retry-after": "7" } })
      const fiber = yield* Effect.fork(credential.getToken(scope))
      yield* TestClock.adjust("6 seconds")
      assert.strictEqual(entra.requests.length, 1)
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(fiber)
      assert.strictEqual(entra.requests.length, 2)
    })))

  it.effect("retries 503 and transport errors with backoff, 4 attempts in all", () =>
    withMemoryCache(Effect.gen(function*() {
      const { credential, entra } = yield* setup()
      entra.script.push(
        { _tag: "Respond", status: 503, body: "" },
        { _tag: "Transport" },
        { _tag: "Respond", status: 500, body: "{}" },
        { _tag: "Respond", status: 502, body: "<html><body>502 Bad Gateway</body></html>" },
        { _tag: "Respond", status: 200, body: "never reached" }
      )
      const error = yield* Time.settle(Effect.flip(credential.getToken(scope)))
      assert(error._tag === "AuthenticationError")
      assert.strictEqual(entra.requests.length, 4)
      assert.strictEqual(error.attempts, 4)
      assert.strictEqual(error.statusCode, 502)
      assert.strictEqual(error.errorResponse.error, "server_error")
      assert.include(error.body ?? "", "502 Bad Gateway")
    })))

  it.effect("does not retry an OAuth error", () =>
    withMemoryCache(Effect.gen(function*() {
      const { credential, entra } = yield* setup()
      entra.script.push({
        _tag: "Respond",
        status: 401,
        body: ScriptedEntra.errorBody("invalid_client", 7000215, "Invalid client secret provided.")
      })
      const error = yield* Effect.flip(credential.getToken(scope))
      assert(error._tag === "AuthenticationError")
      assert.strictEqual(error.statusCode, 401)
      assert.strictEqual(entra.requests.length, 1)
    })))

  it.effect("a Retry-After beyond maxRetryAfter fails at once", () =>
    withMemoryCache(Effect.gen(function*() {
      const { credential, entra } = yield* setup()
      entra.script.push({ _tag: "Respond", status: 429, body: "", headers: { "retry-after": "3600" } })
      const error = yield* Effect.flip(credential.getToken(scope))
      assert(error._tag === "AuthenticationError")
      assert.strictEqual(error.retryAfterMs, 3_600_000)
      assert.strictEqual(entra.requests.length, 1)
    })))

  it.effect("the time-out covers the whole exchange and is retried", () =>
    withMemoryCache(Effect.gen(function*() {
      const { credential, entra } = yield* setup({ http: { requestTimeout: "2 seconds", maxAttempts: 2 } })
      entra.script.push({ _tag: "Hang" }, { _tag: "Hang" })
      const error = yield* Time.settle(Effect.flip(credential.getToken(scope)))
      assert(error._tag === "AuthenticationError")
      assert.strictEqual(error.reason, "Timeout")
      assert.strictEqual(entra.requests.length, 2)
    })))
})

describe("AuthenticationError", () => {
  it.effect("carries Entra's response, with a one-line message led by the AADSTS text", () =>
    withMemoryCache(Effect.gen(function*() {
      const { credential, entra } = yield* setup()
      entra.script.push({
        _tag: "Respond",
        status: 400,
        body: ScriptedEntra.errorBody(
          "invalid_grant",
          70008,
          "The provided authorization code or refresh token has expired due to inactivity.",
          { suberror: "bad_token", claims: "{\"access_token\":{\"capolids\":{\"essential\":true}}}" }
        )
      })
      const error = yield* Effect.flip(credential.getToken(scope))
      assert(error._tag === "AuthenticationError")
      assert.strictEqual(
        error.message,
        "AADSTS70008: The provided authorization code or refresh token has expired due to inactivity. " +
          "(invalid_grant, HTTP 400)"
      )
      assert.strictEqual(error.name, "AuthenticationError")
      assert.strictEqual(error.statusCode, 400)
      assert.deepStrictEqual(error.errorResponse.errorCodes, [70008])
      assert.strictEqual(error.errorResponse.traceId, "0d1c2b3a-0000-4000-8000-000000000001")
      assert.strictEqual(error.errorResponse.correlationId, "0d1c2b3a-0000-4000-8000-000000000002")
      assert.strictEqual(error.errorResponse.timestamp, "2026-11-24 10:00:00Z")
      assert.strictEqual(error.errorResponse.suberror, "bad_token")
      assert.strictEqual(error.errorResponse.claims, "{\"access_token\":{\"capolids\":{\"essential\":true}}}")
      assert.strictEqual(error.reason, "ErrorResponse")
    })))

  it.effect("a 200 without an access token is an error, and the body kept is scrubbed", () =>
    withMemoryCache(Effect.gen(function*() {
      const { credential, entra } = yield* setup()
      entra.script.push({
        _tag: "Respond",
        status: 200,
        body: JSON.stringify({ token_type: "Bearer", expires_in: 3600, refresh_token: "rt-leaky-secret" })
      })
      const error = yield* Effect.flip(credential.getToken(scope))
      assert(error._tag === "AuthenticationError")
      assert.strictEqual(error.reason, "InvalidResponse")
      assert.include(error.message, "no access_token")
      assert.notInclude(error.body ?? "", "rt-leaky-secret")
      assert.include(error.body ?? "", "\"refresh_token\":\"***\"")
    })))

  it.effect("malformed JSON on a 200 is an error that quotes no value", () =>
    withMemoryCache(Effect.gen(function*() {
      const { credential, entra } = yield* setup()
      entra.script.push({ _tag: "Respond", status: 200, body: "{\"access_token\": 12345, \"expires_in\": \"soon\"}" })
      const error = yield* Effect.flip(credential.getToken(scope))
      assert(error._tag === "AuthenticationError")
      assert.include(error.message, "invalid access_token, expires_in")
      assert.notInclude(error.message, "12345")
    })))
})

describe("validation before any request", () => {
  const cases: ReadonlyArray<[string, Partial<AuthorizationCodeCredential.Options>, string]> = [
    ["tenant with a slash", { tenantId: "contoso/evil" }, "tenantId"],
    ["empty tenant", { tenantId: "" }, "tenantId"],
    ["http authority", { authority: "http://login.example" }, "authority"],
    ["authority with a query", { authority: "https://login.example/?x=1" }, "authority"],
    ["relative redirect URI", { redirectUri: "/callback" }, "redirectUri"],
    ["short PKCE verifier", { codeVerifier: Redacted.make("short") }, "codeVerifier"],
    ["empty client id", { clientId: " " }, "clientId"],
    ["bad allowed tenant", { additionallyAllowedTenants: ["a b"] }, "additionallyAllowedTenants"],
    ["empty code", { authorizationCode: Redacted.make("") }, "authorizationCode"]
  ]
  for (const [name, overrides, field] of cases) {
    it(`${name} fails construction naming ${field}`, () => {
      const result = AuthorizationCodeCredential.validateOptions({
        ...baseOptions,
        authorizationCode: Redacted.make("a-code"),
        ...overrides
      })
      assert(result._tag === "Left")
      assert.strictEqual(result.left.field, field)
    })
  }

  it("a bare host gets https://, and a trailing slash is dropped", () => {
    const result = AuthorizationCodeCredential.validateOptions({
      ...baseOptions,
      authorizationCode: Redacted.make("a-code"),
      authority: "login.microsoftonline.us/"
    })
    assert(result._tag === "Right")
    assert.strictEqual(result.right.authority, "https://login.microsoftonline.us")
  })

  it.effect("bad scopes and claims fail before any request", () =>
    withMemoryCache(Effect.gen(function*() {
      const { credential, entra } = yield* setup()
      for (const scopes of [[], "", [" "], [scope, ""]] as const) {
        const error = yield* Effect.flip(credential.getToken(scopes))
        assert(error._tag === "InvalidOptionError")
        assert.strictEqual(error.field, "scopes")
      }
      const claims = yield* Effect.flip(credential.getToken(scope, { claims: "{not json" }))
      assert(claims._tag === "InvalidOptionError")
      assert.strictEqual(claims.field, "claims")
      assert.strictEqual(entra.requests.length, 0)
    })))

  it.effect("layerConfig reads AZURE_* with secrets redacted", () =>
    Effect.gen(function*() {
      const entra = ScriptedEntra.make()
      const code = entra.issueCode(ScriptedEntra.alice)
      const provider = ConfigProvider.fromMap(
        new Map([
          ["AZURE_TENANT_ID", tenantId],
          ["AZURE_CLIENT_ID", "client-1"],
          ["AZURE_REDIRECT_URI", "http://localhost/callback"],
          ["AZURE_AUTHORIZATION_CODE", code],
          ["AZURE_CLIENT_SECRET", "env-secret"],
          ["AZURE_AUTHORITY_HOST", "login.example"]
        ])
      )
      yield* Effect.gen(function*() {
        const credential = yield* AuthorizationCodeCredential.AuthorizationCodeCredential
        yield* credential.getToken(scope)
      }).pipe(
        Effect.provide(
          AuthorizationCodeCredential.layerConfig().pipe(
            Layer.provide([entra.layer, TokenCache.layerMemory]),
            Layer.provide(Layer.setConfigProvider(provider))
          )
        )
      )
      assert.strictEqual(entra.requests[0].url, "https://login.example/home-tenant/oauth2/v2.0/token")
      assert.strictEqual(entra.requests[0].form.client_secret, "env-secret")
    }).pipe(Effect.scoped))
})

describe("errors are typed", () => {
  it("InvalidOptionError reads well and names the field", () => {
    const error = new AuthenticationError.InvalidOptionError({ field: "scopes", reason: "at least one scope" })
    assert.strictEqual(error.message, "Invalid scopes: at least one scope")
    assert.strictEqual(error.name, "InvalidOptionError")
  })
})

describe("AZURE_IDENTITY_DISABLE_MULTITENANTAUTH", () => {
  const withEnv = (value: string) =>
    Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["AZURE_IDENTITY_DISABLE_MULTITENANTAUTH", value]])))

  for (const value of ["TRUE", "1", "True", " yes ", "ON"]) {
    it.effect(`"${value}" turns per-request tenants off`, () =>
      withMemoryCache(Effect.gen(function*() {
        const { credential, entra } = yield* setup()
        yield* credential.getToken(scope, { tenantId: "someone-else" })
        assert.strictEqual(entra.requests[0].url, "https://login.example/home-tenant/oauth2/v2.0/token")
      })).pipe(withEnv(value)))
  }

  for (const value of ["0", "false", "no", "", "maybe"]) {
    it.effect(`"${value}" leaves per-request tenants on`, () =>
      withMemoryCache(Effect.gen(function*() {
        const { credential, entra } = yield* setup()
        const error = yield* Effect.flip(credential.getToken(scope, { tenantId: "someone-else" }))
        assert(error._tag === "InvalidOptionError")
        assert.strictEqual(error.field, "tenantId")
        assert.strictEqual(entra.requests.length, 0)
      })).pipe(withEnv(value)))
  }

  it.effect("the option wins over the variable", () =>
    withMemoryCache(Effect.gen(function*() {
      const { credential, entra } = yield* setup({ disableMultiTenantAuth: false, additionallyAllowedTenants: ["*"] })
      yield* credential.getToken(scope, { tenantId: "someone-else" })
      assert.strictEqual(entra.requests[0].url, "https://login.example/someone-else/oauth2/v2.0/token")
    })).pipe(withEnv("true")))

  it("parseFlag: 1/true/yes/on in any case; anything else is off", () => {
    for (const on of ["1", "true", "TRUE", "Yes", "on", " On\n"]) {
      assert.isTrue(AuthorizationCodeCredential.parseFlag(on))
    }
    for (const off of [undefined, "", "0", "false", "FALSE", "no", "off", "2", "truee", "y"]) {
      assert.isFalse(AuthorizationCodeCredential.parseFlag(off))
    }
  })
})

describe("expiry from the token response", () => {
  // A redemption's answer: with an ID token the credential validates, signed at the TestClock's time.
  const scriptedToken = (fields: Record<string, unknown>): Effect.Effect<ScriptedEntra.Scripted> =>
    Effect.map(ScriptedEntra.idToken(), (idToken) => ({
      _tag: "Respond",
      status: 200,
      body: JSON.stringify({
        token_type: "Bearer",
        access_token: "at-scripted",
        refresh_token: "rt-scripted",
        id_token: idToken,
        ...fields
      })
    }))

  it.effect("expires_on sets expiresOnTimestamp (and wins over expires_in)", () =>
    withMemoryCache(Effect.gen(function*() {
      const { credential, entra } = yield* setup()
      yield* TestClock.setTime(1_000_000)
      entra.script.push(yield* scriptedToken({ expires_on: 1_007_200, expires_in: 60 }))
      const first = yield* credential.getToken(scope)
      assert.strictEqual(first.expiresOnTimestamp, 1_007_200_000)
      assert.isUndefined(first.refreshAfterTimestamp)
      // Cached on that expiry: 59 minutes on (long past expires_in's 60 s) it is still served without a request.
      yield* TestClock.adjust("59 minutes")
      assert.strictEqual((yield* credential.getToken(scope)).expiresOnTimestamp, 1_007_200_000)
      assert.strictEqual(entra.requests.length, 1)
    })))

  it.effect("expires_on as a string is read the same way", () =>
    withMemoryCache(Effect.gen(function*() {
      const { credential, entra } = yield* setup()
      entra.script.push(yield* scriptedToken({ expires_on: "7200" }))
      assert.strictEqual((yield* credential.getToken(scope)).expiresOnTimestamp, 7_200_000)
    })))

  it.effect("expires_in counts from when the request was sent", () =>
    withMemoryCache(Effect.gen(function*() {
      const { credential, entra } = yield* setup()
      yield* TestClock.setTime(5_000)
      entra.script.push(yield* scriptedToken({ expires_in: 3600, refresh_in: 1800 }))
      const token = yield* credential.getToken(scope)
      assert.strictEqual(token.expiresOnTimestamp, 5_000 + 3_600_000)
      assert.strictEqual(token.refreshAfterTimestamp, 5_000 + 1_800_000)
    })))

  it.effect("a response with no expiry fails with InvalidResponse and caches nothing", () =>
    withMemoryCache(Effect.gen(function*() {
      const { credential, entra } = yield* setup()
      entra.script.push(yield* scriptedToken({}))
      const error = yield* Effect.flip(credential.getToken(scope))
      assert(error._tag === "AuthenticationError")
      assert.strictEqual(error.reason, "InvalidResponse")
      assert.include(error.message, "neither expires_in nor expires_on")
      assert.isUndefined(credential.unsafeCachedToken(scope))
      assert.notInclude(JSON.stringify(error) + (error.body ?? ""), "at-scripted")
    })))
})

describe("many first callers", () => {
  it.effect("10,000 concurrent first calls for one scope send exactly one request and share its token", () =>
    withMemoryCache(Effect.gen(function*() {
      // About 1–1.5 s, mostly the garbage collector reclaiming 10,000 fibers (CPU profile); linear in the count.
      const { credential, entra } = yield* setup()
      const results = yield* Effect.all(
        Array.from({ length: 10_000 }, () => token(credential.getToken(scope))),
        { concurrency: "unbounded" }
      )
      assert.strictEqual(results.length, 10_000)
      assert.strictEqual(new Set(results).size, 1)
      assert.match(results[0], /^at-/)
      assert.strictEqual(entra.grants("authorization_code").length, 1)
      assert.strictEqual(entra.requests.length, 1)
    })))
})

describe("CAE claims merge", () => {
  const caeClaims = (claims: string | undefined) =>
    withMemoryCache(Effect.gen(function*() {
      const { credential, entra } = yield* setup()
      yield* credential.getToken(scope, { enableCae: true, ...(claims === undefined ? {} : { claims }) })
      return JSON.parse(entra.requests[0].form.claims) as unknown
    }))

  it.effect("keeps the caller's client capabilities and adds cp1", () =>
    Effect.gen(function*() {
      const merged = yield* caeClaims(
        "{\"access_token\":{\"xms_cc\":{\"values\":[\"cp2\",\"custom\"]},\"acrs\":{\"value\":\"c1\"}}}"
      )
      assert.deepStrictEqual(merged, {
        access_token: { xms_cc: { values: ["cp2", "custom", "cp1"] }, acrs: { value: "c1" } }
      })
    }))

  it.effect("adds cp1 only once when the caller already asked for it", () =>
    Effect.gen(function*() {
      const merged = yield* caeClaims("{\"access_token\":{\"xms_cc\":{\"values\":[\"cp1\",\"cp2\"]}}}")
      assert.deepStrictEqual(merged, { access_token: { xms_cc: { values: ["cp1", "cp2"] } } })
    }))

  it.effect("keeps other top-level sections (id_token) untouched", () =>
    Effect.gen(function*() {
      const merged = yield* caeClaims("{\"id_token\":{\"auth_time\":{\"essential\":true}}}")
      assert.deepStrictEqual(merged, {
        id_token: { auth_time: { essential: true } },
        access_token: { xms_cc: { values: ["cp1"] } }
      })
    }))
})

describe("refresh back-off gate", () => {
  it("an expired entry is dropped when read; a live one blocks", () => {
    const gate = makeRefreshGate()
    gate.block("a", 1_000, 0)
    assert.isTrue(gate.blocked("a", 999))
    assert.strictEqual(gate.size(), 1)
    assert.isFalse(gate.blocked("a", 1_000))
    assert.strictEqual(gate.size(), 0)
    assert.isFalse(gate.blocked("never-set", 0))
  })

  it("clear removes an entry (a successful refresh)", () => {
    const gate = makeRefreshGate()
    gate.block("a", 1_000, 0)
    gate.clear("a")
    assert.isFalse(gate.blocked("a", 0))
    assert.strictEqual(gate.size(), 0)
  })

  it("never holds more than its bound: expired entries are swept first, then the oldest live ones", () => {
    const gate = makeRefreshGate(100)
    // 1,000 keys that failed once and are never asked for again.
    for (let i = 0; i < 1_000; i++) gate.block(`key-${i}`, i + 30_000, i)
    assert.isAtMost(gate.size(), 100)
    // Later, all expired: one new failure sweeps them.
    for (let i = 0; i < 100; i++) gate.block(`late-${i}`, 200_000, 100_000)
    assert.strictEqual(gate.size(), 100)
    gate.block("newest", 300_000, 250_000)
    assert.strictEqual(gate.size(), 1)
    assert.isTrue(gate.blocked("newest", 250_000))
  })

  it.effect("the gate expires: after refreshRetryDelay the key is tried again, and a success clears it", () =>
    withMemoryCache(Effect.gen(function*() {
      const { credential, entra } = yield* setup({ refreshRetryDelay: "10 seconds" })
      const original = yield* token(credential.getToken(scope))
      yield* TestClock.adjust("56 minutes")
      entra.script.push({ _tag: "Respond", status: 400, body: ScriptedEntra.errorBody("invalid_grant", 50076, "MFA") })
      assert.strictEqual(yield* token(credential.getToken(scope)), original)
      yield* TestClock.adjust("9 seconds")
      assert.strictEqual(yield* token(credential.getToken(scope)), original)
      assert.strictEqual(entra.grants("refresh_token").length, 1)
      yield* TestClock.adjust("1 second")
      const renewed = yield* token(credential.getToken(scope))
      assert.notStrictEqual(renewed, original)
      assert.strictEqual(entra.grants("refresh_token").length, 2)
    })))
})
