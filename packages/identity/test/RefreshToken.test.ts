import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, Option, Redacted, TestClock } from "effect"
import * as RefreshPolicy from "../src/RefreshPolicy.js"
import * as RefreshToken from "../src/RefreshToken.js"
import * as TokenCache from "../src/TokenCache.js"
import * as TokenRequest from "../src/TokenRequest.js"
import * as FakeEndpoint from "./fixtures/FakeEndpoint.js"

const { client } = FakeEndpoint
const homeAccountId = "oid-alice.home-tenant"
const request = Either.getOrThrow(TokenRequest.make(client, "api://demo/read"))
const key = TokenRequest.accessTokenKey(client, homeAccountId, request)

/** An account with a refresh token in the cache, and the step on a fake endpoint. */
const setup = (refreshToken: string | null = "rt-0") =>
  Effect.gen(function*() {
    const endpoint = FakeEndpoint.make()
    const cache = yield* TokenCache.TokenCache
    yield* cache.setAccount(TokenRequest.accountKey(client, homeAccountId), {
      homeAccountId,
      authority: client.authority,
      clientId: client.clientId,
      tenantId: "home-tenant",
      ...(refreshToken === null ? {} : { refreshToken: Redacted.make(refreshToken) }),
      version: 1,
      updatedOn: 0
    })
    const refresh = yield* RefreshToken.make.pipe(Effect.provide(endpoint.layer))
    return { endpoint, cache, refresh }
  })

const tokenOf = (entry: TokenCache.AccessTokenEntry) => Redacted.value(entry.token)

describe("RefreshToken", () => {
  it.scoped("renews with the cached refresh token and keeps the rotated one", () =>
    Effect.gen(function*() {
      const { cache, endpoint, refresh } = yield* setup()
      const entry = yield* refresh.renew({ client, homeAccountId, request })
      assert.strictEqual(tokenOf(entry), "at-1")
      assert.deepStrictEqual(endpoint.calls.map((call) => call.secret), ["rt-0"])
      const account = Option.getOrThrow(yield* cache.getAccount(TokenRequest.accountKey(client, homeAccountId)))
      assert.strictEqual(Redacted.value(account.refreshToken!), "rt-1")
      assert.strictEqual(account.version, 2)
      assert.strictEqual(tokenOf(Option.getOrThrow(yield* cache.getAccessToken(key))), "at-1")
      yield* refresh.renew({ client, homeAccountId, request, force: true })
      assert.deepStrictEqual(endpoint.calls.map((call) => call.secret), ["rt-0", "rt-1"])
    }).pipe(Effect.provide(TokenCache.layerMemory)))

  it.scoped("one request per key however many callers", () =>
    Effect.gen(function*() {
      const { endpoint, refresh } = yield* setup()
      const entries = yield* Effect.all(
        Array.from({ length: 40 }, () => refresh.renew({ client, homeAccountId, request })),
        { concurrency: "unbounded" }
      )
      assert.strictEqual(endpoint.calls.length, 1)
      assert.strictEqual(new Set(entries.map(tokenOf)).size, 1)
    }).pipe(Effect.provide(TokenCache.layerMemory)))

  it.scoped("force asks Entra even when the cache already holds a fresh token", () =>
    Effect.gen(function*() {
      const { endpoint, refresh } = yield* setup()
      yield* refresh.renew({ client, homeAccountId, request })
      // Without force, a fresh token in the cache (written by another process meanwhile) is taken instead.
      const again = yield* refresh.renew({ client, homeAccountId, request })
      assert.strictEqual(tokenOf(again), "at-1")
      const forced = yield* refresh.renew({ client, homeAccountId, request, force: true })
      assert.strictEqual(tokenOf(forced), "at-2")
      assert.strictEqual(endpoint.calls.length, 2)
    }).pipe(Effect.provide(TokenCache.layerMemory)))

  it.scoped("a failed renewal of a due token serves it and waits the policy's retry delay", () =>
    Effect.gen(function*() {
      const { endpoint, refresh } = yield* setup()
      const current = yield* refresh.renew({ client, homeAccountId, request })
      const policy = RefreshPolicy.make({ retryDelay: "10 seconds" })
      yield* TestClock.adjust("56 minutes")
      endpoint.failures.push(FakeEndpoint.unavailable())
      const served = yield* refresh.renewDue({ client, homeAccountId, request, policy }, current)
      assert.strictEqual(tokenOf(served), "at-1")
      assert.strictEqual(endpoint.calls.length, 2)
      // Backing off: no request within the delay.
      yield* TestClock.adjust("9 seconds")
      assert.strictEqual(tokenOf(yield* refresh.renewDue({ client, homeAccountId, request, policy }, current)), "at-1")
      assert.strictEqual(endpoint.calls.length, 2)
      yield* TestClock.adjust("1 second")
      assert.strictEqual(tokenOf(yield* refresh.renewDue({ client, homeAccountId, request, policy }, current)), "at-2")
      assert.strictEqual(endpoint.calls.length, 3)
    }).pipe(Effect.provide(TokenCache.layerMemory)))

  it.scoped("a renewal that fails once the token has expired is an error", () =>
    Effect.gen(function*() {
      const { endpoint, refresh } = yield* setup()
      const current = yield* refresh.renew({ client, homeAccountId, request })
      yield* TestClock.adjust("61 minutes")
      endpoint.failures.push(FakeEndpoint.unavailable())
      const error = yield* Effect.flip(refresh.renewDue({ client, homeAccountId, request }, current))
      assert.strictEqual(error.statusCode, 503)
    }).pipe(Effect.provide(TokenCache.layerMemory)))

  it.scoped("without a refresh token: ReauthenticationRequired, nothing sent", () =>
    Effect.gen(function*() {
      const { endpoint, refresh } = yield* setup(null)
      const error = yield* Effect.flip(refresh.renew({ client, homeAccountId, request }))
      assert.strictEqual(error.reason, "ReauthenticationRequired")
      assert.strictEqual(endpoint.calls.length, 0)
    }).pipe(Effect.provide(TokenCache.layerMemory)))
})
