/**
 * Testing with a `TokenEndpoint` of one's own (here a fake in memory; it could be a proxy or an endpoint on
 * another `HttpClient`), and wrapping a step with a layer without touching the others.
 */
import type * as AuthenticationError from "@effect-entra/identity/AuthenticationError"
import * as AuthorizationCodeCredential from "@effect-entra/identity/AuthorizationCodeCredential"
import * as RedeemCode from "@effect-entra/identity/RedeemCode"
import * as TokenCache from "@effect-entra/identity/TokenCache"
import * as TokenEndpoint from "@effect-entra/identity/TokenEndpoint"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"

/**
 * A token endpoint that answers every request with a fresh one-hour token for one user: no HTTP at all. It sends
 * no ID token, so a credential on it sets `validateIdToken: false` (a fake that signs ID tokens and serves its keys
 * to an `IdTokenValidator` could keep the validation on).
 */
export const fakeEndpoint = (sent: Array<string> = []): TokenEndpoint.Service => {
  const clientInfo = Buffer.from(JSON.stringify({ uid: "oid-alice", utid: "home-tenant" })).toString("base64url")
  const answer = (grant: string) =>
    Effect.map(Clock.currentTimeMillis, (now): TokenEndpoint.TokenResponse => {
      sent.push(grant)
      return {
        accessToken: Redacted.make(`at-${sent.length}`),
        tokenType: "Bearer",
        requestedOn: now,
        expiresOn: now + 3_600_000,
        refreshToken: Redacted.make(`rt-${sent.length}`),
        clientInfo
      }
    })
  return TokenEndpoint.TokenEndpoint.of({
    redeemCode: () => answer("authorization_code"),
    redeemRefreshToken: () => answer("refresh_token")
  })
}

/** The fake as a layer, with a memory cache: what a test of one step, or of the whole credential, needs. */
export const FakeEntraLive = (
  sent: Array<string> = []
): Layer.Layer<TokenEndpoint.TokenEndpoint | TokenCache.TokenCache> =>
  Layer.merge(Layer.succeed(TokenEndpoint.TokenEndpoint, fakeEndpoint(sent)), TokenCache.layerMemory)

/** RedeemCode wrapped to record every redemption (an audit log, here an array); the other steps are untouched. */
export const AuditedRedeemCode = (
  audit: Array<string>
): Layer.Layer<RedeemCode.RedeemCode, never, TokenEndpoint.TokenEndpoint | TokenCache.TokenCache> =>
  Layer.scoped(
    RedeemCode.RedeemCode,
    Effect.map(RedeemCode.make, (inner) =>
      RedeemCode.RedeemCode.of({
        redeem: (request) =>
          inner.redeem(request).pipe(
            Effect.tap(({ account }) => Effect.sync(() => audit.push(account.homeAccountId)))
          )
      }))
  )

/** The whole credential on the context's TokenEndpoint, with the audited step in place of its own. */
export const AuditedCredentialLive = (
  options: AuthorizationCodeCredential.Options,
  audit: Array<string>
): Layer.Layer<
  AuthorizationCodeCredential.AuthorizationCodeCredential,
  AuthenticationError.InvalidOptionError,
  TokenEndpoint.TokenEndpoint | TokenCache.TokenCache
> =>
  AuthorizationCodeCredential.layerWithoutTokenEndpoint(options).pipe(
    Layer.provide(AuditedRedeemCode(audit))
  )
