/**
 * The step-by-step examples of docs/credential.md, run against the fake TokenEndpoint (no HTTP).
 */
import * as AuthorizationCodeCredential from "@effect-entra/identity/AuthorizationCodeCredential"
import * as RedeemCode from "@effect-entra/identity/RedeemCode"
import * as RefreshToken from "@effect-entra/identity/RefreshToken"
import * as TokenRequest from "@effect-entra/identity/TokenRequest"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import * as RedirectRoute from "../src/steps/RedirectRoute.js"
import * as RefreshPolicies from "../src/steps/RefreshPolicies.js"
import * as TestSteps from "../src/steps/TestSteps.js"

const verifier = Redacted.make("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
const tokenOf = (token: { readonly token: Redacted.Redacted<string> }) => Redacted.value(token.token)

describe("the steps, as a user composes them", () => {
  it.scoped("the redirect route redeems the code; a later request resumes the account from the shared cache", () =>
    Effect.gen(function*() {
      const sent: Array<string> = []
      const context = yield* Layer.build(
        Layer.provideMerge(RedeemCode.layer, TestSteps.FakeEntraLive(sent))
      )
      const session = yield* RedirectRoute.handleRedirect({ codeVerifier: verifier }, Redacted.make("code-1")).pipe(
        Effect.provide(context)
      )
      assert.strictEqual(session.homeAccountId, "oid-alice.home-tenant")
      const credential = yield* AuthorizationCodeCredential.makeWithoutTokenEndpoint({
        ...RedirectRoute.client,
        homeAccountId: session.homeAccountId
      }).pipe(Effect.provide(context))
      // The first token came with the redemption: served from the cache, no request.
      assert.strictEqual(tokenOf(yield* credential.getToken(RedirectRoute.apiScope)), "at-1")
      assert.deepStrictEqual(sent, ["authorization_code"])
    }))

  it.scoped("one step alone: RefreshToken renews with the refresh token the redemption stored", () =>
    Effect.gen(function*() {
      const sent: Array<string> = []
      const context = yield* Layer.build(
        Layer.provideMerge(Layer.merge(RedeemCode.layer, RefreshToken.layer), TestSteps.FakeEntraLive(sent))
      )
      const request = yield* TokenRequest.make(RedirectRoute.client, RedirectRoute.apiScope)
      const { redeemed, renewed } = yield* Effect.gen(function*() {
        const redeemCode = yield* RedeemCode.RedeemCode
        const refreshToken = yield* RefreshToken.RefreshToken
        const client = RedirectRoute.client
        const redeemed = yield* redeemCode.redeem({ client, code: Redacted.make("code-1"), request })
        const homeAccountId = redeemed.account.homeAccountId
        const renewed = yield* refreshToken.renew({ client, homeAccountId, request, force: true })
        return { redeemed, renewed }
      }).pipe(Effect.provide(context))
      assert.strictEqual(Redacted.value(redeemed.issued!.entry.token), "at-1")
      assert.strictEqual(Redacted.value(renewed.token), "at-2")
      assert.deepStrictEqual(sent, ["authorization_code", "refresh_token"])
    }))

  it.scoped("an audited RedeemCode records the one redemption; renew() forces a new token", () =>
    Effect.gen(function*() {
      const sent: Array<string> = []
      const audit: Array<string> = []
      // The fake endpoint issues no ID token: these credentials opt out of its validation, explicitly.
      const options = { ...RedirectRoute.client, authorizationCode: Redacted.make("code-1"), validateIdToken: false }
      const context = yield* Layer.build(
        TestSteps.AuditedCredentialLive(options, audit).pipe(Layer.provide(TestSteps.FakeEntraLive(sent)))
      )
      const renewed = yield* Effect.gen(function*() {
        const credential = yield* AuthorizationCodeCredential.AuthorizationCodeCredential
        yield* credential.getToken(RedirectRoute.apiScope)
        return yield* RefreshPolicies.renewAfterRejection(RedirectRoute.apiScope)
      }).pipe(Effect.provide(context))
      assert.strictEqual(Redacted.value(renewed), "at-2")
      assert.deepStrictEqual(audit, ["oid-alice.home-tenant"])
      assert.deepStrictEqual(sent, ["authorization_code", "refresh_token"])
    }))

  it.scoped("a policy from a layer: renewed 10 minutes before expiry", () =>
    Effect.gen(function*() {
      const sent: Array<string> = []
      // The fake endpoint issues no ID token: these credentials opt out of its validation, explicitly.
      const options = { ...RedirectRoute.client, authorizationCode: Redacted.make("code-1"), validateIdToken: false }
      const context = yield* Layer.build(
        RefreshPolicies.withPolicy(AuthorizationCodeCredential.layerWithoutTokenEndpoint(options)).pipe(
          Layer.provide(TestSteps.FakeEntraLive(sent))
        )
      )
      const credential = yield* Effect.provide(AuthorizationCodeCredential.AuthorizationCodeCredential, context)
      yield* credential.getToken(RedirectRoute.apiScope)
      yield* TestClock.adjust("49 minutes")
      yield* credential.getToken(RedirectRoute.apiScope)
      assert.deepStrictEqual(sent, ["authorization_code"])
      yield* TestClock.adjust("1 minute")
      assert.strictEqual(tokenOf(yield* credential.getToken(RedirectRoute.apiScope)), "at-2")
    }))
})
