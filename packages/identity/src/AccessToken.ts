/**
 * The token shapes handed to callers, in the two conventions of the Azure SDKs.
 *
 * @since 0.1.0
 */
import type * as Redacted from "effect/Redacted"

/**
 * An access token with millisecond timestamps, like `@azure/core-auth`'s `AccessToken`.
 *
 * @since 0.1.0
 * @category models
 */
export interface AccessToken {
  readonly token: Redacted.Redacted<string>
  /** When the token expires, in epoch milliseconds. */
  readonly expiresOnTimestamp: number
  /** When Entra asked clients to renew it (`refresh_in`), in epoch milliseconds. */
  readonly refreshAfterTimestamp?: number | undefined
  /** `Bearer`. */
  readonly tokenType: string
}

/**
 * An access token with second timestamps, like Python's `azure.core.credentials.AccessTokenInfo`.
 *
 * @since 0.1.0
 * @category models
 */
export interface AccessTokenInfo {
  readonly token: Redacted.Redacted<string>
  /** When the token expires, in epoch seconds. */
  readonly expiresOn: number
  /** When Entra asked clients to renew it (`refresh_in`), in epoch seconds. */
  readonly refreshOn?: number | undefined
  readonly tokenType: string
}

/**
 * Converts the millisecond form into the second form.
 *
 * @since 0.1.0
 * @category conversions
 */
export const toInfo = (token: AccessToken): AccessTokenInfo =>
  token.refreshAfterTimestamp === undefined
    ? {
      token: token.token,
      expiresOn: Math.floor(token.expiresOnTimestamp / 1000),
      tokenType: token.tokenType
    }
    : {
      token: token.token,
      expiresOn: Math.floor(token.expiresOnTimestamp / 1000),
      refreshOn: Math.floor(token.refreshAfterTimestamp / 1000),
      tokenType: token.tokenType
    }
