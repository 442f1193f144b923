/**
 * The credential as the composition of its steps: a forced renewal, a replaced refresh policy, a TokenEndpoint and
 * steps taken from the context.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Redacted, TestClock } from "effect"
import * as AuthorizationCodeCredential from "../src/AuthorizationCodeCredential.js"
import * as RedeemCode from "../src/RedeemCode.js"
import * as RefreshPolicy from "../src/RefreshPolicy.js"
import * as TokenCache from "../src/TokenCache.js"
import * as TokenEndpoint from "../src/TokenEndpoint.js"
import * as FakeEndpoint from "./fixtures/FakeEndpoint.js"
import * as OpenIdTenant from "./fixtures/OpenIdTenant.js"
import * as ScriptedEntra from "./fixtures/ScriptedEntra.js"

const scope = "api://demo/read"
// A function: a credential wipes the code it redeemed, so options are not shared between tests.
const options = (): AuthorizationCodeCredential.Options => ({
  ...FakeEndpoint.client,
  authorizationCode: Redacted.make("code-1")
})

const tokenOf = (effect: Effect.Effect<{ readonly token: Redacted.Redacted<string> }, unknown>) =>
  Effect.map(effect, (t) => Redacted.value(t.token))

/** The credential on a fake endpoint (no HTTP), validating its ID tokens with the fake tenant's keys. */
const onFake = (endpoint: FakeEndpoint.FakeEndpoint, overrides: Partial<AuthorizationCodeCredential.Options> = {}) =>
  AuthorizationCodeCredential.makeWithoutTokenEndpoint({
    ...options(),
    ...overrides
  }).pipe(Effect.provide(Layer.merge(endpoint.layer, OpenIdTenant.validatorLayer)), Effect.orDie)

describe("the credential composes its steps", () => {
  it.scoped("a RedeemCode from the context, shared by two credentials holding the same code, sends it once", () =>
    Effect.gen(function*() {
      const endpoint = FakeEndpoint.make()
      const slow = TokenEndpoint.TokenEndpoint.of({
        redeemCode: (request) => Effect.delay(endpoint.service.redeemCode(request), "1 second"),
        redeemRefreshToken: endpoint.service.redeemRefreshToken
      })
      const shared = yield* RedeemCode.make.pipe(
        Effect.provideService(TokenEndpoint.TokenEndpoint, slow),
        Effect.provide(OpenIdTenant.validatorLayer)
      )
      const [first, second] = yield* Effect.all([onFake(endpoint), onFake(endpoint)]).pipe(
        Effect.provideService(RedeemCode.RedeemCode, shared)
      )
      const both = yield* Effect.fork(
        Effect.all([tokenOf(first.getToken(scope)), tokenOf(second.getToken(scope))], { concurrency: 2 })
      )
      yield* TestClock.adjust("1 second")
      assert.deepStrictEqual(yield* Fiber.join(both), ["at-1", "at-1"])
      assert.strictEqual(endpoint.grants("authorization_code").length, 1)
    }).pipe(Effect.provide(TokenCache.layerMemory)))

  it.scoped("renew() asks Entra for a new token even when a fresh one is cached; getToken then serves it", () =>
    Effect.gen(function*() {
      const endpoint = FakeEndpoint.make()
      const credential = yield* onFake(endpoint)
      assert.strictEqual(yield* tokenOf(credential.getToken(scope)), "at-1")
      assert.strictEqual(yield* tokenOf(credential.renew(scope)), "at-2")
      assert.strictEqual(yield* tokenOf(credential.getToken(scope)), "at-2")
      assert.deepStrictEqual(endpoint.calls.map((call) => call.grant), ["authorization_code", "refresh_token"])
    }).pipe(Effect.provide(TokenCache.layerMemory)))

  it.scoped("refreshPolicy: renew at 80% of the lifetime", () =>
    Effect.gen(function*() {
      const endpoint = FakeEndpoint.make()
      const credential = yield* onFake(endpoint, { refreshPolicy: RefreshPolicy.atFractionOfLifetime(0.8) })
      yield* credential.getToken(scope)
      yield* TestClock.adjust("47 minutes")
      assert.strictEqual(yield* tokenOf(credential.getToken(scope)), "at-1")
      yield* TestClock.adjust("1 minute")
      assert.strictEqual(yield* tokenOf(credential.getToken(scope)), "at-2")
    }).pipe(Effect.provide(TokenCache.layerMemory)))

  it.scoped("a RefreshPolicy layer replaces the default for credentials built under it", () =>
    Effect.gen(function*() {
      const endpoint = FakeEndpoint.make()
      const credential = yield* onFake(endpoint).pipe(
        Effect.provide(RefreshPolicy.layer(RefreshPolicy.atFractionOfLifetime(0.5)))
      )
      yield* credential.getToken(scope)
      yield* TestClock.adjust("30 minutes")
      assert.strictEqual(yield* tokenOf(credential.getToken(scope)), "at-2")
    }).pipe(Effect.provide(TokenCache.layerMemory)))

  it.scoped("a TokenEndpoint in the context is used instead of one built on the HttpClient", () =>
    Effect.gen(function*() {
      const endpoint = FakeEndpoint.make()
      const entra = ScriptedEntra.make()
      const credential = yield* AuthorizationCodeCredential.make(options()).pipe(
        Effect.provide(Layer.merge(entra.layer, endpoint.layer)),
        Effect.orDie
      )
      assert.strictEqual(yield* tokenOf(credential.getToken(scope)), "at-1")
      assert.strictEqual(endpoint.calls.length, 1)
      assert.strictEqual(entra.requests.length, 0)
    }).pipe(Effect.provide(TokenCache.layerMemory)))

  it.scoped("a wrapped RedeemCode in the context is the one the credential runs", () =>
    Effect.gen(function*() {
      const endpoint = FakeEndpoint.make()
      const audit: Array<string> = []
      const AuditedRedeemCode = Layer.scoped(
        RedeemCode.RedeemCode,
        Effect.map(RedeemCode.make, (inner) =>
          RedeemCode.RedeemCode.of({
            redeem: (input) =>
              inner.redeem(input).pipe(
                Effect.tap(({ account }) => Effect.sync(() => audit.push(account.homeAccountId)))
              )
          }))
      ).pipe(Layer.provide([endpoint.layer, OpenIdTenant.validatorLayer]))
      // Built in the test's scope: the step's redemptions in flight live as long as the credential.
      const credential = yield* onFake(endpoint).pipe(Effect.provide(yield* Layer.build(AuditedRedeemCode)))
      yield* Effect.all([credential.getToken(scope), credential.getToken("api://demo/write")], { concurrency: 2 })
      assert.deepStrictEqual(audit, ["oid-alice.home-tenant"])
    }).pipe(Effect.provide(TokenCache.layerMemory)))

  it.scoped("the ID token is validated by default: the account is its claims', the fake tenant's keys fetched", () =>
    Effect.gen(function*() {
      const endpoint = FakeEndpoint.make()
      const tenant = OpenIdTenant.make()
      const credential = yield* AuthorizationCodeCredential.makeWithoutTokenEndpoint(options()).pipe(
        Effect.provide(Layer.merge(endpoint.layer, tenant.validatorLayer)),
        Effect.orDie
      )
      yield* credential.getToken(scope)
      const account = yield* credential.account
      assert.deepStrictEqual(account._tag === "Some" ? account.value : undefined, {
        homeAccountId: "oid-alice.home-tenant",
        tenantId: "home-tenant",
        username: "alice@contoso.example",
        name: "Alice"
      })
      assert.deepStrictEqual(tenant.fetched, [
        "/home-tenant/v2.0/.well-known/openid-configuration",
        "/home-tenant/discovery/v2.0/keys"
      ])
    }).pipe(Effect.provide(TokenCache.layerMemory)))

  it.scoped("make() validates by default: an unsigned ID token is InvalidIdToken and nothing is cached", () =>
    Effect.gen(function*() {
      const entra = ScriptedEntra.make()
      const code = entra.issueCode(ScriptedEntra.alice)
      const unsigned = `${Buffer.from("{\"alg\":\"none\"}").toString("base64url")}.${
        Buffer.from(JSON.stringify({ oid: "oid-mallory", tid: "home-tenant", aud: "client-1" })).toString("base64url")
      }.`
      entra.script.push({
        _tag: "Respond",
        status: 200,
        body: JSON.stringify({ token_type: "Bearer", access_token: "at-forged", expires_in: 3600, id_token: unsigned })
      })
      const credential = yield* ScriptedEntra.credential(entra, code).pipe(Effect.orDie)
      const error = yield* Effect.flip(credential.getToken(scope))
      assert.strictEqual(error._tag === "AuthenticationError" ? error.reason : error._tag, "InvalidIdToken")
      assert.isTrue((yield* credential.account)._tag === "None")
      assert.isUndefined(credential.unsafeCachedToken(scope))
      assert.lengthOf(yield* Effect.flatMap(TokenCache.TokenCache, (cache) => cache.listAccounts), 0)
    }).pipe(Effect.provide(TokenCache.layerMemory)))

  it.scoped("without a validator in the context, building is refused before the code is sent", () =>
    Effect.gen(function*() {
      const endpoint = FakeEndpoint.make()
      const error = yield* Effect.flip(
        AuthorizationCodeCredential.makeWithoutTokenEndpoint(options()).pipe(Effect.provide(endpoint.layer))
      )
      assert.strictEqual(error.field, "validateIdToken")
      assert.match(error.reason, /IdTokenValidator\.layer\(\)/)
      assert.lengthOf(endpoint.calls, 0)
    }).pipe(Effect.provide(TokenCache.layerMemory)))

  it.scoped("validateIdToken: false, the opt-out for endpoints without signed ID tokens, needs no validator", () =>
    Effect.gen(function*() {
      const endpoint = FakeEndpoint.make()
      const credential = yield* AuthorizationCodeCredential.makeWithoutTokenEndpoint({
        ...options(),
        validateIdToken: false
      }).pipe(Effect.provide(endpoint.layer), Effect.orDie)
      assert.strictEqual(yield* tokenOf(credential.getToken(scope)), "at-1")
    }).pipe(Effect.provide(TokenCache.layerMemory)))

  it.scoped("an http option out of bounds is refused even when the endpoint is provided", () =>
    Effect.gen(function*() {
      const endpoint = FakeEndpoint.make()
      const error = yield* Effect.flip(
        AuthorizationCodeCredential.makeWithoutTokenEndpoint({ ...options(), http: { maxAttempts: 0 } }).pipe(
          Effect.provide(endpoint.layer)
        )
      )
      assert.strictEqual(error.field, "maxAttempts")
    }).pipe(Effect.provide(TokenCache.layerMemory)))
})
