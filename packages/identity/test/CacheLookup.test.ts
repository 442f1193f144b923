import { assert, describe, it } from "@effect/vitest"
import { Effect, Metric, Option, Redacted, TestClock } from "effect"
import * as CacheLookup from "../src/CacheLookup.js"
import * as CredentialMetrics from "../src/CredentialMetrics.js"
import * as RefreshPolicy from "../src/RefreshPolicy.js"
import * as TokenCache from "../src/TokenCache.js"

const minute = 60_000
const entry = (issuedOn: number, lifetimeMs = 60 * minute): TokenCache.AccessTokenEntry => ({
  token: Redacted.make("at-1"),
  tokenType: "Bearer",
  issuedOn,
  expiresOn: issuedOn + lifetimeMs,
  scopes: ["api://demo/read"],
  tenantId: "home-tenant",
  homeAccountId: "oid-alice.home-tenant",
  cae: false
})

const hits = Effect.map(Metric.value(CredentialMetrics.cacheHit), (state) => state.count)

describe("CacheLookup", () => {
  it("classify: miss, fresh, due while valid, expired", () => {
    const cached = Option.some(entry(0))
    assert.strictEqual(CacheLookup.classify(Option.none(), 0)._tag, "Miss")
    assert.strictEqual(CacheLookup.classify(cached, 54 * minute)._tag, "Fresh")
    assert.strictEqual(CacheLookup.classify(cached, 55 * minute)._tag, "Due")
    assert.strictEqual(CacheLookup.classify(cached, 60 * minute)._tag, "Expired")
  })

  it("classify follows the policy it is given", () => {
    const cached = Option.some(entry(0))
    const at80 = RefreshPolicy.atFractionOfLifetime(0.8)
    assert.strictEqual(CacheLookup.classify(cached, 47 * minute, at80)._tag, "Fresh")
    assert.strictEqual(CacheLookup.classify(cached, 48 * minute, at80)._tag, "Due")
  })

  it.effect("lookup reads the cache on the clock: fresh, then due, then expired", () =>
    Effect.gen(function*() {
      const cache = yield* TokenCache.TokenCache
      const lookup = yield* CacheLookup.make
      yield* cache.setAccessToken("key", entry(0))
      assert.strictEqual((yield* lookup.lookup("other"))._tag, "Miss")
      assert.strictEqual((yield* lookup.lookup("key"))._tag, "Fresh")
      yield* TestClock.adjust("56 minutes")
      assert.strictEqual((yield* lookup.lookup("key"))._tag, "Due")
      yield* TestClock.adjust("4 minutes")
      assert.strictEqual((yield* lookup.lookup("key"))._tag, "Expired")
    }).pipe(Effect.provide(TokenCache.layerMemory)))

  it.effect("peek answers synchronously with a fresh token only, and counts the hit", () =>
    Effect.gen(function*() {
      const cache = yield* TokenCache.TokenCache
      const lookup = yield* CacheLookup.make
      yield* cache.setAccessToken("key", entry(0))
      const before = yield* hits
      assert.strictEqual(lookup.peek("key")?.token, (yield* cache.getAccessToken("key")).pipe(Option.getOrThrow).token)
      assert.strictEqual((yield* hits) - before, 1)
      assert.isUndefined(lookup.peek("missing"))
      yield* TestClock.adjust("50 minutes")
      assert.isDefined(lookup.peek("key"))
      assert.isUndefined(lookup.peek("key", RefreshPolicy.atFractionOfLifetime(0.8)))
      yield* TestClock.adjust("5 minutes")
      assert.isUndefined(lookup.peek("key"))
    }).pipe(Effect.provide(TokenCache.layerMemory)))

  it.effect("the layer provides it on the cache of the context", () =>
    Effect.gen(function*() {
      const lookup = yield* CacheLookup.CacheLookup
      assert.strictEqual((yield* lookup.lookup("key"))._tag, "Miss")
    }).pipe(Effect.provide(CacheLookup.layer), Effect.provide(TokenCache.layerMemory)))
})
