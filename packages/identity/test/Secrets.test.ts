import { assert, describe, it } from "@effect/vitest"
import { Effect, FastCheck, Redacted, TestClock } from "effect"
import { inspect } from "node:util"
import * as PromiseFacade from "../src/promise.js"
import * as TokenCache from "../src/TokenCache.js"
import * as Observe from "./fixtures/Observe.js"
import * as Reachable from "./fixtures/Reachable.js"
import * as ScriptedEntra from "./fixtures/ScriptedEntra.js"
import * as Time from "./fixtures/Time.js"

const secret = FastCheck.stringMatching(/^[A-Za-z0-9]{20,40}$/)
const verifierArbitrary = FastCheck.stringMatching(/^[A-Za-z0-9]{43,60}$/)
const scope = "api://demo/user_impersonation"

/** Every way a caller might print or walk an error (or any object): text, message, JSON, inspect, reachable strings. */
const renderings = (value: unknown): Array<string> => [
  String(value),
  (value as Error | undefined)?.message ?? "",
  JSON.stringify(value) ?? "",
  inspect(value, { depth: 20 }),
  inspect(value, { depth: 20, showHidden: true }),
  ...Reachable.strings(value)
]

const noRefreshCodeOf = (code: string) => `${code}r`

const assertNoSecret = (shown: string, secrets: ReadonlyArray<string>) => {
  for (const value of secrets) assert.notInclude(shown, value)
}

describe("secrets", () => {
  it.effect.prop(
    "no secret appears in logs, spans, errors or inspected objects on any path",
    { clientSecret: secret, code: secret, verifier: FastCheck.stringMatching(/^[A-Za-z0-9]{43,60}$/), salt: secret },
    ({ clientSecret, code, salt, verifier }) =>
      Effect.gen(function*() {
        const observed = Observe.make()
        const errors: Array<unknown> = []
        const entra = ScriptedEntra.make()
        entra.settings.tokenSalt = salt
        entra.issueCode(ScriptedEntra.alice, { code })
        yield* Effect.gen(function*() {
          const credential = yield* ScriptedEntra.credential(entra, code, {
            clientSecret: Redacted.make(clientSecret),
            codeVerifier: Redacted.make(verifier)
          })
          const record = <A, E>(effect: Effect.Effect<A, E>) =>
            Effect.catchAll(effect, (error) => Effect.sync(() => void errors.push(error)))
          // Retries (429, transport, 503) then a successful redemption.
          entra.script.push(
            { _tag: "Respond", status: 429, body: "Too Many Requests", headers: { "retry-after": "1" } },
            { _tag: "Transport" },
            { _tag: "Respond", status: 503, body: "<html>down</html>" }
          )
          const token = yield* Time.settle(credential.getToken(scope))
          errors.push(token)
          // Cached, claims, CAE, another tenant refused, bad input.
          yield* credential.getToken(scope)
          yield* credential.getToken(scope, { claims: "{\"access_token\":{\"acrs\":{\"value\":\"c1\"}}}" })
          yield* credential.getToken(scope, { enableCae: true })
          yield* record(credential.getToken(scope, { tenantId: "elsewhere" }))
          yield* record(credential.getToken([]))
          // A 200 that leaks a refresh token but lacks an access token, an OAuth error, an HTML page.
          entra.script.push({
            _tag: "Respond",
            status: 200,
            body: JSON.stringify({ refresh_token: `leak${salt}`, expires_in: 3600 })
          })
          yield* record(credential.getToken("other/one"))
          entra.script.push({
            _tag: "Respond",
            status: 400,
            body: ScriptedEntra.errorBody("invalid_grant", 70008, "The refresh token has expired.")
          })
          yield* record(credential.getToken("other/two"))
          // A failed proactive refresh (logs a warning) and an expired-token refresh that fails.
          yield* TestClock.adjust("56 minutes")
          entra.script.push({ _tag: "Respond", status: 500, body: "{}" }, { _tag: "Respond", status: 500, body: "{}" })
          entra.script.push({ _tag: "Respond", status: 500, body: "{}" }, { _tag: "Respond", status: 500, body: "{}" })
          yield* Time.settle(credential.getToken(scope))
          errors.push(credential)
        }).pipe(Observe.observe(observed), Effect.provide(TokenCache.layerMemory), Effect.scoped)

        assert.isAtLeast(errors.length, 5)
        const shown = [
          observed.text(),
          yield* Observe.metricsText,
          ...errors.flatMap((error) => [
            String(error),
            (error as Error).message ?? "",
            JSON.stringify(error),
            inspect(error, { depth: 20 }),
            // Not only what is printed: everything reachable from the object (bytes of a request body included).
            ...Reachable.strings(error)
          ])
        ].join("\n")
        assert.isTrue(observed.logs.some((line) => line.startsWith("WARN")), "the proactive failure was logged")
        for (const value of [clientSecret, code, verifier, salt]) {
          assert.notInclude(shown, value)
        }
      }),
    { fastCheck: { numRuns: 15 } }
  )

  it.effect.prop(
    "no secret appears in Timeout and ReauthenticationRequired failures, their logs or spans",
    { clientSecret: secret, code: secret, verifier: verifierArbitrary, salt: secret },
    ({ clientSecret, code, salt, verifier }) =>
      Effect.gen(function*() {
        const observed = Observe.make()
        const errors: Array<unknown> = []
        const entra = ScriptedEntra.make()
        entra.settings.tokenSalt = salt
        entra.issueCode(ScriptedEntra.alice, { code })
        const secrets = { clientSecret: Redacted.make(clientSecret), codeVerifier: Redacted.make(verifier) }
        const record = <A, E>(effect: Effect.Effect<A, E>) =>
          Effect.flatMap(Effect.flip(effect), (error) => Effect.sync(() => void errors.push(error)))
        yield* Effect.gen(function*() {
          const http = { requestTimeout: "2 seconds", maxAttempts: 2 } as const
          const credential = yield* ScriptedEntra.credential(entra, code, { ...secrets, http })
          // Timeout while redeeming the code (the form holds the code, the verifier and the client secret).
          entra.script.push({ _tag: "Hang" }, { _tag: "Hang" })
          yield* record(Time.settle(credential.getToken(scope)))
          // The code survives a time-out: redeem it, then time out on the refresh grant (the form holds the
          // refresh token).
          yield* Time.settle(credential.getToken(scope))
          entra.script.push({ _tag: "Hang" }, { _tag: "Hang" })
          yield* record(Time.settle(credential.getToken("other/one")))
          errors.push(credential)
          // A redemption that brought no refresh token: another scope needs ReauthenticationRequired.
          entra.settings.returnRefreshToken = false
          const noRefreshCode = noRefreshCodeOf(code)
          entra.issueCode(ScriptedEntra.alice, { code: noRefreshCode })
          const noRefresh = yield* ScriptedEntra.credential(entra, noRefreshCode, secrets)
          yield* noRefresh.getToken(scope)
          yield* record(noRefresh.getToken("other/two"))
          entra.settings.returnRefreshToken = true

          // A code Entra refuses (MFA required), then ReauthenticationRequired from the spent state.
          const refusedCode = `${code}x`
          const refused = yield* ScriptedEntra.credential(entra, refusedCode, secrets)
          entra.script.push({
            _tag: "Respond",
            status: 400,
            body: ScriptedEntra.errorBody("interaction_required", 50076, "Due to a configuration change", {
              suberror: "basic_action",
              claims: "{\"access_token\":{\"capolids\":{\"essential\":true}}}"
            })
          })
          yield* record(refused.getToken(scope))
          yield* record(refused.getToken(scope))
          errors.push(refused)
        }).pipe(Observe.observe(observed), Effect.provide(TokenCache.layerMemory), Effect.scoped)

        const reasons = errors.flatMap((error) =>
          typeof error === "object" && error !== null && "reason" in error ? [error.reason] : []
        )
        assert.deepStrictEqual(reasons, [
          "Timeout",
          "Timeout",
          "ReauthenticationRequired",
          "ErrorResponse",
          "ReauthenticationRequired"
        ])
        const shown = [observed.text(), yield* Observe.metricsText, ...errors.flatMap(renderings)].join("\n")
        assertNoSecret(shown, [clientSecret, code, verifier, salt, noRefreshCodeOf(code)])
      }),
    { fastCheck: { numRuns: 10 } }
  )

  it.effect.prop(
    "the Promise facade's rejections never show a secret",
    { clientSecret: secret, code: secret, verifier: verifierArbitrary, salt: secret },
    ({ clientSecret, code, salt, verifier }) =>
      Effect.promise(async () => {
        const entra = ScriptedEntra.make()
        entra.settings.tokenSalt = salt
        entra.issueCode(ScriptedEntra.alice, { code })
        const rejections: Array<unknown> = []
        const rejection = (promise: Promise<unknown>) =>
          promise.then(
            () => assert.fail(`expected rejection #${rejections.length + 1}`),
            (error: unknown) => void rejections.push(error)
          )
        const options = {
          clientSecret,
          codeVerifier: verifier,
          authority: "https://login.example",
          httpClient: entra.client,
          requestTimeoutInMs: 50,
          retryOptions: { maxRetries: 0 }
        }
        const credential = new PromiseFacade.AuthorizationCodeCredential(
          "home-tenant",
          "client-1",
          code,
          "http://localhost/callback",
          options
        )
        // Timeout and transport failure on the code grant; the code survives both.
        entra.script.push({ _tag: "Hang" })
        await rejection(credential.getToken(scope))
        entra.script.push({ _tag: "Transport" })
        await rejection(credential.getToken(scope))
        const token = await credential.getToken(scope)
        assert.include(token.token, salt, "the fixture salts the tokens it issues")
        // On the refresh grant: an OAuth error, a 200 leaking a refresh token without an access token, a timeout,
        // a 503, an aborted call.
        entra.script.push({
          _tag: "Respond",
          status: 400,
          body: ScriptedEntra.errorBody("invalid_grant", 70008, "The refresh token has expired.")
        })
        await rejection(credential.getToken("other/one"))
        entra.script.push({
          _tag: "Respond",
          status: 200,
          body: JSON.stringify({ refresh_token: `leak${salt}`, expires_in: 3600 })
        })
        await rejection(credential.getToken("other/two"))
        entra.script.push({ _tag: "Hang" })
        await rejection(credential.getToken("other/three"))
        entra.script.push({ _tag: "Respond", status: 503, body: "<html>down</html>" })
        await rejection(credential.getToken("other/four"))
        entra.script.push({ _tag: "Hang" })
        await rejection(credential.getToken("other/five", { abortSignal: AbortSignal.timeout(10) }))
        // Bad input, a tenant that is not allowed.
        await rejection(credential.getToken([]))
        await rejection(credential.getToken(scope, { tenantId: "elsewhere" }))
        const shownCredential = renderings(credential)
        await credential.close()
        await rejection(credential.getToken(scope))

        // A code Entra refuses, then ReauthenticationRequired without a request.
        const refused = new PromiseFacade.AuthorizationCodeCredential(
          "home-tenant",
          "client-1",
          `${code}x`,
          "http://localhost/callback",
          options
        )
        entra.script.push({
          _tag: "Respond",
          status: 400,
          body: ScriptedEntra.errorBody("invalid_grant", 54005, "OAuth2 Authorization code was already redeemed.")
        })
        await rejection(refused.getToken(scope))
        await rejection(refused.getToken(scope))
        await refused.close()

        const reasons = rejections.map((error) =>
          error instanceof PromiseFacade.AuthenticationError ? error.reason : (error as Error).name
        )
        assert.deepStrictEqual(reasons, [
          "Timeout",
          "Transport",
          "ErrorResponse",
          "InvalidResponse",
          "Timeout",
          "ErrorResponse",
          "AbortError",
          "InvalidOptionError",
          "InvalidOptionError",
          "Error",
          "ErrorResponse",
          "ReauthenticationRequired"
        ])
        const shown = [...shownCredential, ...rejections.flatMap(renderings)].join("\n")
        assertNoSecret(shown, [clientSecret, code, verifier, salt, token.token])
      }),
    { fastCheck: { numRuns: 8 } }
  )
})
