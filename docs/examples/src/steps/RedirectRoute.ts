/**
 * A web app's sign-in, step by step: the redirect route redeems the code with the PKCE verifier kept in the
 * user's session and stores the account id there; later requests resume that account from the shared cache
 * with a credential built from `homeAccountId` (no code, no new sign-in).
 */
import type * as AuthenticationError from "@effect-entra/identity/AuthenticationError"
import * as AuthorizationCodeCredential from "@effect-entra/identity/AuthorizationCodeCredential"
import * as RedeemCode from "@effect-entra/identity/RedeemCode"
import type * as TokenCache from "@effect-entra/identity/TokenCache"
import * as TokenEndpoint from "@effect-entra/identity/TokenEndpoint"
import * as TokenRequest from "@effect-entra/identity/TokenRequest"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"

/** The app registration (from configuration in a real app). */
export const client: TokenRequest.Client = {
  authority: "https://login.microsoftonline.com",
  tenantId: "contoso.onmicrosoft.com",
  clientId: "00000000-0000-4000-8000-000000000001",
  redirectUri: "https://app.contoso.example/auth/callback"
}

export const apiScope = "api://contoso-api/access_as_user"

/** What the app keeps per browser session (in a signed cookie, a session store...). */
export interface Session {
  /** Kept from the authorize request (`AuthorizationRequest.makePkce`). */
  readonly codeVerifier: Redacted.Redacted<string>
  /** Set once the user has signed in. */
  readonly homeAccountId?: string | undefined
}

/**
 * `GET /auth/callback?code=…`: the code from the query, the verifier from the session. The account, its refresh
 * token and a first access token land in the shared `TokenCache`; the session only keeps the account id.
 */
export const handleRedirect = (
  session: Session,
  code: Redacted.Redacted<string>
): Effect.Effect<Session, AuthenticationError.TokenError, RedeemCode.RedeemCode> =>
  Effect.gen(function*() {
    const redeemCode = yield* RedeemCode.RedeemCode
    const request = yield* TokenRequest.make(client, apiScope)
    const { account } = yield* redeemCode.redeem({ client, code, codeVerifier: session.codeVerifier, request })
    return { ...session, homeAccountId: account.homeAccountId }
  })

/**
 * A later request of a signed-in user: resume the account from the shared cache. Build it once per user and
 * keep it (its scope is the user's session), or per request: it only reads the cache.
 */
export const credentialFor = (
  homeAccountId: string
): Effect.Effect<
  AuthorizationCodeCredential.Service,
  AuthenticationError.InvalidOptionError,
  HttpClient.HttpClient | TokenCache.TokenCache | Scope.Scope
> => AuthorizationCodeCredential.make({ ...client, homeAccountId })

/** The redemption step on the app's `HttpClient` and shared `TokenCache` (provide those once, at the top). */
export const RedeemCodeLive: Layer.Layer<
  RedeemCode.RedeemCode,
  AuthenticationError.InvalidOptionError,
  HttpClient.HttpClient | TokenCache.TokenCache
> = RedeemCode.layer.pipe(Layer.provide(TokenEndpoint.layer()))
