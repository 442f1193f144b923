/**
 * When tokens are renewed: the default policy (Entra's `refresh_in`, else 5 minutes before expiry, never before
 * half of the lifetime), another one for one credential or for every credential under a layer, and a renewal
 * forced by the caller.
 */
import type * as AuthenticationError from "@effect-entra/identity/AuthenticationError"
import * as AuthorizationCodeCredential from "@effect-entra/identity/AuthorizationCodeCredential"
import * as RefreshPolicy from "@effect-entra/identity/RefreshPolicy"
import type * as TokenCache from "@effect-entra/identity/TokenCache"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"

const options: AuthorizationCodeCredential.Options = {
  tenantId: "contoso.onmicrosoft.com",
  clientId: "00000000-0000-4000-8000-000000000001",
  redirectUri: "https://app.contoso.example/auth/callback",
  authorizationCode: Redacted.make("the code from the redirect")
}

/** One credential renewing at 80% of each token's lifetime. */
export const Renew80Live: Layer.Layer<
  AuthorizationCodeCredential.AuthorizationCodeCredential,
  AuthenticationError.InvalidOptionError,
  HttpClient.HttpClient | TokenCache.TokenCache
> = AuthorizationCodeCredential.layer({ ...options, refreshPolicy: RefreshPolicy.atFractionOfLifetime(0.8) })

/** A policy of one's own: any pair of functions. Here: 10 minutes before expiry, back off 1 minute. */
export const tenMinutesEarly: RefreshPolicy.RefreshPolicy = {
  renewAt: (token) => token.expiresOn - 10 * 60_000,
  retryDelay: () => 60_000
}

/** Every credential built under this layer (and naming no policy of its own) uses `tenMinutesEarly`. */
export const withPolicy = <A, E, R>(layer: Layer.Layer<A, E, R>): Layer.Layer<A, E, R> =>
  layer.pipe(Layer.provide(RefreshPolicy.layer(tenMinutesEarly)))

/**
 * The API refused a token the cache still calls fresh (revoked, or its claims changed): ask Entra for a new one
 * now. Later `getToken` calls serve the new token.
 */
export const renewAfterRejection = (
  scope: string
): Effect.Effect<
  Redacted.Redacted<string>,
  AuthenticationError.TokenError,
  AuthorizationCodeCredential.AuthorizationCodeCredential
> =>
  Effect.gen(function*() {
    const credential = yield* AuthorizationCodeCredential.AuthorizationCodeCredential
    const renewed = yield* credential.renew(scope)
    return renewed.token
  })
