import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, Layer, Option, Redacted } from "effect"
import * as RedeemCode from "../src/RedeemCode.js"
import * as TokenCache from "../src/TokenCache.js"
import * as TokenRequest from "../src/TokenRequest.js"
import * as FakeEndpoint from "./fixtures/FakeEndpoint.js"

const { client } = FakeEndpoint
const verifier = Redacted.make("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
const otherVerifier = Redacted.make("x".repeat(43))
const request = Either.getOrThrow(TokenRequest.make(client, "api://demo/read"))

/** The step alone on a fake endpoint and the given cache. */
const redeemer = (endpoint: FakeEndpoint.FakeEndpoint) => RedeemCode.make.pipe(Effect.provide(endpoint.layer))

describe("RedeemCode", () => {
  it.scoped("turns a code into an account, a refresh token and a first access token in the cache", () =>
    Effect.gen(function*() {
      const endpoint = FakeEndpoint.make()
      const cache = yield* TokenCache.TokenCache
      const redeem = yield* redeemer(endpoint)
      const { account, issued } = yield* redeem.redeem({ client, code: Redacted.make("code-1"), request })
      assert.strictEqual(account.homeAccountId, "oid-alice.home-tenant")
      assert.strictEqual(issued?.key, TokenRequest.accessTokenKey(client, account.homeAccountId, request))
      const stored = yield* cache.getAccount(TokenRequest.accountKey(client, account.homeAccountId))
      assert.strictEqual(Redacted.value(Option.getOrThrow(stored).refreshToken!), "rt-1")
      const token = yield* cache.getAccessToken(issued!.key)
      assert.strictEqual(Redacted.value(Option.getOrThrow(token).token), "at-1")
      assert.deepStrictEqual(endpoint.calls.map((call) => [call.grant, call.secret]), [[
        "authorization_code",
        "code-1"
      ]])
    }).pipe(Effect.provide(TokenCache.layerMemory)))

  it.scoped("sends a code once however many fibers ask at the same time", () =>
    Effect.gen(function*() {
      const endpoint = FakeEndpoint.make()
      const redeem = yield* redeemer(endpoint)
      const results = yield* Effect.all(
        Array.from({ length: 50 }, () => redeem.redeem({ client, code: Redacted.make("code-1"), request })),
        { concurrency: "unbounded" }
      )
      assert.strictEqual(endpoint.calls.length, 1)
      assert.strictEqual(new Set(results.map((r) => r.account.homeAccountId)).size, 1)
    }).pipe(Effect.provide(TokenCache.layerMemory)))

  it.scoped("with the same verifier, another instance on the shared cache adopts the redemption; not with another", () =>
    Effect.gen(function*() {
      const endpoint = FakeEndpoint.make()
      const first = yield* redeemer(endpoint)
      const second = yield* redeemer(endpoint)
      const code = "code-1"
      yield* first.redeem({ client, code: Redacted.make(code), codeVerifier: verifier, request })
      const adopted = yield* second.redeem({ client, code: Redacted.make(code), codeVerifier: verifier, request })
      assert.strictEqual(adopted.account.homeAccountId, "oid-alice.home-tenant")
      assert.isUndefined(adopted.issued)
      assert.strictEqual(endpoint.calls.length, 1)
      // Another verifier proves nothing: the code goes to Entra (which would refuse it).
      endpoint.failures.push(FakeEndpoint.oauthError("invalid_grant", 54005))
      const replay = yield* Effect.flip(
        second.redeem({ client, code: Redacted.make(code), codeVerifier: otherVerifier, request })
      )
      assert.strictEqual(replay.aadstsCode, 54005)
      assert.strictEqual(endpoint.calls.length, 2)
    }).pipe(Effect.provide(TokenCache.layerMemory)))

  it("spendsCode: only answers that end the code spend it", () => {
    assert.isTrue(RedeemCode.spendsCode(FakeEndpoint.oauthError("invalid_grant", 54005)))
    assert.isTrue(RedeemCode.spendsCode(FakeEndpoint.oauthError("interaction_required", 50076)))
    assert.isFalse(RedeemCode.spendsCode(FakeEndpoint.oauthError("invalid_client", 7000215, 401)))
    assert.isFalse(RedeemCode.spendsCode(FakeEndpoint.oauthError("invalid_scope", 70011)))
    assert.isFalse(RedeemCode.spendsCode(FakeEndpoint.unavailable()))
  })

  it.scoped("a failure is the caller's to judge: the step keeps nothing and the code can be sent again", () =>
    Effect.gen(function*() {
      const endpoint = FakeEndpoint.make()
      const redeem = yield* redeemer(endpoint)
      endpoint.failures.push(FakeEndpoint.oauthError("invalid_scope", 70011))
      const error = yield* Effect.flip(redeem.redeem({ client, code: Redacted.make("code-1"), request }))
      assert.strictEqual(error.aadstsCode, 70011)
      const { account } = yield* redeem.redeem({ client, code: Redacted.make("code-1"), request })
      assert.strictEqual(account.homeAccountId, "oid-alice.home-tenant")
    }).pipe(Effect.provide(TokenCache.layerMemory)))

  it.scoped("a layer can wrap the step: every redemption is audited, the step itself untouched", () =>
    Effect.gen(function*() {
      const endpoint = FakeEndpoint.make()
      const audit: Array<string> = []
      const Audited = Layer.effect(
        RedeemCode.RedeemCode,
        Effect.map(RedeemCode.make, (inner) =>
          RedeemCode.RedeemCode.of({
            redeem: (input) =>
              inner.redeem(input).pipe(
                Effect.tap(({ account }) => Effect.sync(() => audit.push(account.homeAccountId)))
              )
          }))
      ).pipe(Layer.provide(endpoint.layer))
      const redeem = yield* RedeemCode.RedeemCode.pipe(Effect.provide(yield* Layer.build(Audited)))
      yield* redeem.redeem({ client, code: Redacted.make("code-1"), request })
      assert.deepStrictEqual(audit, ["oid-alice.home-tenant"])
    }).pipe(Effect.provide(TokenCache.layerMemory)))

  it.scoped("a wiped code (a credential redeemed it) is a typed failure, nothing sent", () =>
    Effect.gen(function*() {
      const endpoint = FakeEndpoint.make()
      const redeem = yield* redeemer(endpoint)
      const code = Redacted.make("code-1")
      Redacted.unsafeWipe(code)
      const error = yield* Effect.flip(redeem.redeem({ client, code, request }))
      assert.strictEqual(error.reason, "ReauthenticationRequired")
      assert.strictEqual(endpoint.calls.length, 0)
    }).pipe(Effect.provide(TokenCache.layerMemory)))
})
