/**
 * The service every credential provides: an access token for a set of scopes.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import type { AccessToken, AccessTokenInfo } from "./AccessToken.js"
import type { TokenError } from "./AuthenticationError.js"

/**
 * Per-request options, as in the Azure SDKs' `GetTokenOptions`.
 *
 * @since 0.1.0
 * @category models
 */
export interface GetTokenOptions {
  /**
   * A claims request (JSON text, e.g. decoded from a `WWW-Authenticate` challenge). The request bypasses the
   * cache and goes to Entra.
   */
  readonly claims?: string | undefined
  /** Ask for a token in another tenant; allowed only for the configured or additionally allowed tenants. */
  readonly tenantId?: string | undefined
  /** Declare the `cp1` client capability (continuous access evaluation). CAE tokens are cached apart. */
  readonly enableCae?: boolean | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  readonly getToken: (
    scopes: string | ReadonlyArray<string>,
    options?: GetTokenOptions
  ) => Effect.Effect<AccessToken, TokenError>
  readonly getTokenInfo: (
    scopes: string | ReadonlyArray<string>,
    options?: GetTokenOptions
  ) => Effect.Effect<AccessTokenInfo, TokenError>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class TokenCredential extends Context.Tag("@effect-entra/identity/TokenCredential")<
  TokenCredential,
  Service
>() {}

/**
 * An access token from the `TokenCredential` in the context.
 *
 * @since 0.1.0
 * @category accessors
 */
export const getToken = (
  scopes: string | ReadonlyArray<string>,
  options?: GetTokenOptions
): Effect.Effect<AccessToken, TokenError, TokenCredential> =>
  Effect.flatMap(TokenCredential, (credential) => credential.getToken(scopes, options))

/**
 * An access token (second timestamps) from the `TokenCredential` in the context.
 *
 * @since 0.1.0
 * @category accessors
 */
export const getTokenInfo = (
  scopes: string | ReadonlyArray<string>,
  options?: GetTokenOptions
): Effect.Effect<AccessTokenInfo, TokenError, TokenCredential> =>
  Effect.flatMap(TokenCredential, (credential) => credential.getTokenInfo(scopes, options))
