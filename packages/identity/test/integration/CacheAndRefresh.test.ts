import { assert, describe, layer } from "@effect/vitest"
import { Effect } from "effect"
import * as E from "./fixtures/Emulated.js"

const graphUser = "https://graph.microsoft.com/User.Read"
const graphMail = "https://graph.microsoft.com/Mail.Read"
// The emulator issues tokens for 3599 s and no refresh_in (it sends one only from 2 h up).
const lifetimeMs = 3_599_000
const windowMs = 5 * 60 * 1000

layer(E.EmulatorLive)("CacheLookup and RefreshToken against the emulator", (it) => {
  describe("cache", () => {
    it.effect("a second call is answered from the cache without a request", () =>
      E.withCredentialDeps(Effect.gen(function*() {
        const { credential, emulator } = yield* E.setup()
        const first = yield* credential.getToken(emulator.defaults.scope)
        const second = yield* credential.getToken(emulator.defaults.scope)
        assert.strictEqual(E.tokenOf(second), E.tokenOf(first))
        assert.strictEqual(second.expiresOnTimestamp, first.expiresOnTimestamp)
        assert.isDefined(credential.unsafeCachedToken(emulator.defaults.scope))
        assert.deepStrictEqual(yield* E.countTokenRequests, { authorization_code: 1 })
      })))

    it.effect("scope order and case do not matter", () =>
      E.withCredentialDeps(Effect.gen(function*() {
        const { credential } = yield* E.setup()
        const first = yield* credential.getToken([graphUser, graphMail])
        const reordered = yield* credential.getToken([graphMail.toUpperCase().replace("HTTPS", "https"), graphUser])
        const joined = yield* credential.getToken(`${graphMail.toLowerCase()}  ${graphUser}`)
        assert.strictEqual(E.tokenOf(reordered), E.tokenOf(first))
        assert.strictEqual(E.tokenOf(joined), E.tokenOf(first))
        assert.deepStrictEqual(E.jwtPayload(E.tokenOf(first))["scp"], "User.Read Mail.Read")
        assert.deepStrictEqual(yield* E.countTokenRequests, { authorization_code: 1 })
      })))

    it.effect("CAE and non-CAE tokens are cached apart and share one refresh token", () =>
      E.withCredentialDeps(Effect.gen(function*() {
        const { credential, emulator } = yield* E.setup()
        const plain = yield* credential.getToken(emulator.defaults.scope)
        const cae = yield* credential.getToken(emulator.defaults.scope, { enableCae: true })
        assert.notStrictEqual(E.tokenOf(cae), E.tokenOf(plain))
        assert.isUndefined(E.jwtPayload(E.tokenOf(plain))["xms_cc"])
        assert.deepStrictEqual(E.jwtPayload(E.tokenOf(cae))["xms_cc"], ["cp1"])
        // Both stay cached.
        assert.strictEqual(E.tokenOf(yield* credential.getToken(emulator.defaults.scope)), E.tokenOf(plain))
        assert.strictEqual(
          E.tokenOf(yield* credential.getToken(emulator.defaults.scope, { enableCae: true })),
          E.tokenOf(cae)
        )
        const log = yield* E.tokenRequests
        assert.deepStrictEqual(E.grantCounts(log), { authorization_code: 1, refresh_token: 1 })
        assert.deepStrictEqual(log.map((entry) => entry.hasClaims), [false, true])
        assert.strictEqual((yield* E.cachedRefreshTokens).length, 1)
      })))
  })

  describe("refresh", () => {
    it.effect("an expired token is renewed with the refresh token, once for 50 waiting callers", () =>
      E.withCredentialDeps(Effect.gen(function*() {
        const { credential, emulator } = yield* E.setup()
        const first = yield* credential.getToken(emulator.defaults.scope)
        yield* E.advance(lifetimeMs + 1_000)
        assert.isUndefined(credential.unsafeCachedToken(emulator.defaults.scope))
        const renewed = yield* Effect.all(
          Array.from({ length: 50 }, () => credential.getToken(emulator.defaults.scope)),
          { concurrency: "unbounded" }
        )
        assert.strictEqual(new Set(renewed.map(E.tokenOf)).size, 1)
        assert.notStrictEqual(E.tokenOf(renewed[0]!), E.tokenOf(first))
        assert.isAbove(renewed[0]!.expiresOnTimestamp, first.expiresOnTimestamp)
        assert.deepStrictEqual(yield* E.countTokenRequests, { authorization_code: 1, refresh_token: 1 })
      })))

    it.effect("a token is renewed proactively within 5 minutes of expiry, not before", () =>
      E.withCredentialDeps(Effect.gen(function*() {
        const { credential, emulator } = yield* E.setup()
        const first = yield* credential.getToken(emulator.defaults.scope)
        yield* E.advance(lifetimeMs - windowMs - 1_000)
        assert.strictEqual(E.tokenOf(yield* credential.getToken(emulator.defaults.scope)), E.tokenOf(first))
        assert.deepStrictEqual(yield* E.countTokenRequests, { authorization_code: 1 })
        yield* E.advance(2_000)
        const renewed = yield* credential.getToken(emulator.defaults.scope)
        assert.notStrictEqual(E.tokenOf(renewed), E.tokenOf(first))
        assert.deepStrictEqual(yield* E.countTokenRequests, { authorization_code: 1, refresh_token: 1 })
      })))

    it.effect("a failed proactive refresh serves the cached token and waits 30 s before trying again", () =>
      E.withCredentialDeps(Effect.gen(function*() {
        const { credential, emulator } = yield* E.setup({ http: { ...E.fastHttp, maxAttempts: 1 } })
        const refreshes = Effect.map(E.tokenRequests, (log) => log.filter((e) => e.grantType === "refresh_token"))
        const cached = yield* credential.getToken(emulator.defaults.scope)
        const get = Effect.map(credential.getToken(emulator.defaults.scope), E.tokenOf)
        yield* E.advance(lifetimeMs - windowMs + 1_000)

        yield* emulator.injectFault({ endpoint: "token", kind: "status", status: 500, grantType: "refresh_token" })
        assert.strictEqual(yield* get, E.tokenOf(cached))
        assert.deepStrictEqual((yield* refreshes).map((e) => e.status), [500])

        // Within the 30 s back-off nothing is sent, however often it is asked.
        assert.strictEqual(yield* get, E.tokenOf(cached))
        yield* E.advance(29_000)
        assert.strictEqual(yield* get, E.tokenOf(cached))
        assert.strictEqual((yield* refreshes).length, 1)

        yield* emulator.injectFault({ endpoint: "token", kind: "status", status: 500, grantType: "refresh_token" })
        yield* E.advance(2_000)
        assert.strictEqual(yield* get, E.tokenOf(cached))
        assert.deepStrictEqual((yield* refreshes).map((e) => e.status), [500, 500])

        yield* E.advance(31_000)
        const renewed = yield* get
        assert.notStrictEqual(renewed, E.tokenOf(cached))
        assert.deepStrictEqual((yield* refreshes).map((e) => e.status), [500, 500, 200])
      })))

    it.effect("a revoked refresh token: the cached token is served until it expires, then interaction is required", () =>
      E.withCredentialDeps(Effect.gen(function*() {
        const { credential, emulator, secrets } = yield* E.setup()
        const cached = yield* credential.getToken(emulator.defaults.scope)
        yield* emulator.revokeRefreshTokens(emulator.defaults.users[0]!.username)
        yield* E.advance(lifetimeMs - windowMs + 1_000)
        assert.strictEqual(E.tokenOf(yield* credential.getToken(emulator.defaults.scope)), E.tokenOf(cached))

        yield* E.advance(windowMs)
        const error = yield* Effect.flip(credential.getToken(emulator.defaults.scope))
        assert.strictEqual(error._tag, "AuthenticationError")
        if (error._tag !== "AuthenticationError") return
        assert.isTrue(error.isInteractionRequired)
        assert.strictEqual(error.reason, "ErrorResponse")
        assert.strictEqual(error.statusCode, 400)
        assert.strictEqual(error.aadstsCode, 50173)
        assert.strictEqual(error.errorResponse.suberror, "bad_token")
        assert.strictEqual(error.grantType, "refresh_token")
        E.assertNoSecret(error, [...secrets, ...(yield* E.cachedRefreshTokens), E.tokenOf(cached)])
        const log = yield* E.tokenRequests
        assert.deepStrictEqual(log.map((e) => [e.grantType, e.errorCode]), [
          ["authorization_code", undefined],
          ["refresh_token", 50173],
          ["refresh_token", 50173]
        ])
      })))
  })
})
