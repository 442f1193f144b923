import { assert, describe, layer } from "@effect/vitest"
import { Effect } from "effect"
import type { AuthenticationError, InvalidOptionError } from "../../src/AuthenticationError.js"
import * as E from "./fixtures/Emulated.js"

const authError = (error: AuthenticationError | InvalidOptionError): AuthenticationError => {
  assert.strictEqual(error._tag, "AuthenticationError")
  return error as AuthenticationError
}

const gapsMs = (log: ReadonlyArray<{ readonly at: string }>) =>
  log.slice(1).map((entry, i) => Date.parse(entry.at) - Date.parse(log[i]!.at))

// The live clock: retries really sleep (with short delays), and time-outs really fire.
layer(E.EmulatorLive, { excludeTestServices: true })("retries and broken answers against the emulator", (it) => {
  describe("retried", () => {
    it.effect("429 with Retry-After: 1 is retried after a second, then succeeds", () =>
      E.withCredentialDeps(Effect.gen(function*() {
        const { credential, emulator } = yield* E.setup()
        yield* emulator.injectFault({ endpoint: "token", kind: "status", status: 429, retryAfter: 1 })
        const started = Date.now()
        yield* credential.getToken(emulator.defaults.scope)
        assert.isAtLeast(Date.now() - started, 950)
        const log = yield* E.tokenRequests
        assert.deepStrictEqual(log.map((e) => [e.grantType, e.status, e.errorCode]), [
          ["authorization_code", 429, 90055],
          ["authorization_code", 200, undefined]
        ])
        assert.isAtLeast(gapsMs(log)[0]!, 950)
      })))

    it.effect("503 twice, then success", () =>
      E.withCredentialDeps(Effect.gen(function*() {
        const { credential, emulator } = yield* E.setup()
        yield* emulator.injectFault({ endpoint: "token", kind: "status", status: 503, times: 2 })
        yield* credential.getToken(emulator.defaults.scope)
        const log = yield* E.tokenRequests
        assert.deepStrictEqual(log.map((e) => e.status), [503, 503, 200])
      })))

    it.effect("a Retry-After beyond maxRetryAfter fails at once with the 429", () =>
      E.withCredentialDeps(Effect.gen(function*() {
        const { credential, emulator, secrets } = yield* E.setup()
        yield* emulator.injectFault({ endpoint: "token", kind: "status", status: 429, retryAfter: 120 })
        const error = authError(yield* Effect.flip(credential.getToken(emulator.defaults.scope)))
        assert.strictEqual(error.statusCode, 429)
        assert.strictEqual(error.retryAfterMs, 120_000)
        assert.strictEqual(error.attempts, 1)
        assert.strictEqual(error.aadstsCode, 90055)
        assert.isFalse(error.isInteractionRequired)
        E.assertNoSecret(error, secrets)
        // Nothing was spent: the next call redeems the code.
        yield* credential.getToken(emulator.defaults.scope)
        assert.deepStrictEqual((yield* E.tokenRequests).map((e) => e.status), [429, 200])
      })))

    it.effect("an HTML 502 page is retried; when attempts run out the error carries the page", () =>
      E.withCredentialDeps(Effect.gen(function*() {
        const { credential, emulator, secrets } = yield* E.setup({ http: { ...E.fastHttp, maxAttempts: 3 } })
        yield* emulator.injectFault({ endpoint: "token", kind: "html", times: 3 })
        const error = authError(yield* Effect.flip(credential.getToken(emulator.defaults.scope)))
        assert.strictEqual(error.reason, "ErrorResponse")
        assert.strictEqual(error.statusCode, 502)
        assert.strictEqual(error.attempts, 3)
        assert.strictEqual(error.errorResponse.error, "server_error")
        assert.include(error.errorResponse.errorDescription, "text/html")
        assert.include(error.body, "502 Bad Gateway")
        assert.match(error.errorResponse.traceId ?? "", /^[0-9a-f-]{36}$/)
        E.assertNoSecret(error, secrets)
        // A gateway page is not Entra's answer: the code is kept and redeems on the next call.
        yield* credential.getToken(emulator.defaults.scope)
        assert.deepStrictEqual((yield* E.tokenRequests).map((e) => [e.status, e.fault]), [
          [502, "html"],
          [502, "html"],
          [502, "html"],
          [200, undefined]
        ])
      })))

    it.effect("a dropped connection is retried (the emulator drops before the code is spent)", () =>
      E.withCredentialDeps(Effect.gen(function*() {
        const { credential, emulator } = yield* E.setup()
        yield* emulator.injectFault({ endpoint: "token", kind: "drop" })
        yield* credential.getToken(emulator.defaults.scope)
        yield* emulator.injectFault({ endpoint: "token", kind: "drop" })
        yield* credential.getToken("https://graph.microsoft.com/User.Read")
        assert.deepStrictEqual((yield* E.tokenRequests).map((e) => [e.grantType, e.status, e.fault]), [
          ["authorization_code", 0, "drop"],
          ["authorization_code", 200, undefined],
          ["refresh_token", 0, "drop"],
          ["refresh_token", 200, undefined]
        ])
      })))

    it.effect("a truncated refresh answer is retried: a refresh can be repeated", () =>
      E.withCredentialDeps(Effect.gen(function*() {
        const { credential, emulator } = yield* E.setup()
        yield* credential.getToken(emulator.defaults.scope)
        yield* emulator.injectFault({ endpoint: "token", kind: "truncate", grantType: "refresh_token" })
        yield* credential.getToken("https://graph.microsoft.com/User.Read")
        assert.deepStrictEqual((yield* E.tokenRequests).map((e) => [e.grantType, e.status, e.fault]), [
          ["authorization_code", 200, undefined],
          ["refresh_token", 200, "truncate"],
          ["refresh_token", 200, undefined]
        ])
      })))
  })

  describe("not retried", () => {
    it.effect("a truncated code answer is not retried (the code is spent): InvalidResponse, then sign in again", () =>
      E.withCredentialDeps(Effect.gen(function*() {
        const { credential, emulator, secrets } = yield* E.setup()
        yield* emulator.injectFault({ endpoint: "token", kind: "truncate" })
        const error = authError(yield* Effect.flip(credential.getToken(emulator.defaults.scope)))
        assert.strictEqual(error.reason, "InvalidResponse")
        assert.strictEqual(error.statusCode, 200)
        assert.strictEqual(error.attempts, 1)
        assert.strictEqual(error.grantType, "authorization_code")
        E.assertNoSecret(error, secrets)
        const again = authError(yield* Effect.flip(credential.getToken(emulator.defaults.scope)))
        assert.strictEqual(again.reason, "ReauthenticationRequired")
        assert.isTrue(again.isInteractionRequired)
        assert.deepStrictEqual((yield* E.tokenRequests).map((e) => [e.status, e.fault]), [[200, "truncate"]])
      })))

    it.effect("a malformed 200 to the code grant is an InvalidResponse and spends the code", () =>
      E.withCredentialDeps(Effect.gen(function*() {
        const { credential, emulator, secrets } = yield* E.setup()
        yield* emulator.injectFault({ endpoint: "token", kind: "malformed" })
        const error = authError(yield* Effect.flip(credential.getToken(emulator.defaults.scope)))
        assert.strictEqual(error.reason, "InvalidResponse")
        assert.strictEqual(error.statusCode, 200)
        assert.strictEqual(error.attempts, 1)
        assert.strictEqual(error.errorResponse.error, "invalid_response")
        assert.include(error.body, "Service temporarily unavailable")
        E.assertNoSecret(error, secrets)
        const again = authError(yield* Effect.flip(credential.getToken(emulator.defaults.scope)))
        assert.strictEqual(again.reason, "ReauthenticationRequired")
        assert.strictEqual((yield* E.tokenRequests).length, 1)
      })))

    it.effect("a 200 without access_token to a refresh is retried (a refresh token may be sent again)", () =>
      E.withCredentialDeps(Effect.gen(function*() {
        const { credential, emulator } = yield* E.setup()
        yield* credential.getToken(emulator.defaults.scope)
        yield* emulator.injectFault({ endpoint: "token", kind: "malformed", variant: "no-token" })
        yield* credential.getToken("https://graph.microsoft.com/User.Read")
        assert.deepStrictEqual((yield* E.tokenRequests).map((e) => [e.grantType, e.fault]), [
          ["authorization_code", undefined],
          ["refresh_token", "malformed"],
          ["refresh_token", undefined]
        ])
      })))

    it.effect("unusable 200s to a refresh on every attempt: an InvalidResponse after the attempts", () =>
      E.withCredentialDeps(Effect.gen(function*() {
        const { credential, emulator, secrets } = yield* E.setup()
        yield* credential.getToken(emulator.defaults.scope)
        yield* emulator.injectFault({ endpoint: "token", kind: "malformed", variant: "no-token", times: 4 })
        const error = authError(yield* Effect.flip(credential.getToken("https://graph.microsoft.com/User.Read")))
        assert.strictEqual(error.reason, "InvalidResponse")
        assert.strictEqual(error.grantType, "refresh_token")
        assert.strictEqual(error.attempts, 4)
        assert.include(error.errorResponse.errorDescription, "no access_token")
        E.assertNoSecret(error, [...secrets, ...(yield* E.cachedRefreshTokens)])
        yield* credential.getToken("https://graph.microsoft.com/User.Read")
        assert.strictEqual((yield* E.tokenRequests).length, 6)
      })))

    it.effect("an answer slower than requestTimeout fails with Timeout", () =>
      E.withCredentialDeps(Effect.gen(function*() {
        const { credential, emulator, secrets } = yield* E.setup({
          http: { ...E.fastHttp, maxAttempts: 1, requestTimeout: "200 millis" }
        })
        yield* emulator.injectFault({ endpoint: "token", kind: "delay", ms: 700 })
        const started = Date.now()
        const error = authError(yield* Effect.flip(credential.getToken(emulator.defaults.scope)))
        assert.isBelow(Date.now() - started, 650)
        assert.strictEqual(error.reason, "Timeout")
        assert.strictEqual(error.statusCode, 0)
        assert.strictEqual(error.errorResponse.error, "timeout")
        E.assertNoSecret(error, secrets)
        // A time-out is not a definite answer: the code is kept. The emulator dropped the abandoned request when
        // the client hung up, so it is still unspent there and the next call redeems it.
        yield* Effect.sleep("600 millis")
        assert.strictEqual((yield* E.tokenRequests).length, 0)
        yield* credential.getToken(emulator.defaults.scope)
        assert.deepStrictEqual((yield* E.tokenRequests).map((e) => [e.grantType, e.status]), [
          ["authorization_code", 200]
        ])
      })))
  })
})
