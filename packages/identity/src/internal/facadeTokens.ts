/**
 * The Promise facade's token shapes: `@azure/core-auth`'s `AccessToken` (ms) and Python's `AccessTokenInfo` (s),
 * and the memo that lets a cached call return an already-settled promise.
 */
import type * as AccessTokenModule from "../AccessToken.js"
import type { AccessToken, AccessTokenInfo } from "../promise.js"
import { toAzureAccessToken } from "./facadeOptions.js"

/**
 * The Azure-shaped copy of the token last served for a scope string, as an already-settled promise: unwrapping
 * `Redacted` and allocating on every cached call showed up in the benchmark, and a promise per call is garbage whose
 * collection costs more as the heap grows. Frozen, since every caller gets the same object.
 */
export class AzureTokenMemo {
  readonly #tokens = new Map<
    string,
    { readonly from: AccessTokenModule.AccessToken; readonly promise: Promise<AccessToken> }
  >()

  resolved(scopes: string | ReadonlyArray<string>, token: AccessTokenModule.AccessToken): Promise<AccessToken> {
    if (typeof scopes !== "string") return Promise.resolve(toAzureAccessToken(token))
    const known = this.#tokens.get(scopes)
    if (known !== undefined && known.from === token) return known.promise
    const promise = Promise.resolve(Object.freeze(toAzureAccessToken(token)))
    if (this.#tokens.size >= 10_000) this.#tokens.clear()
    this.#tokens.set(scopes, { from: token, promise })
    return promise
  }
}

/** Timestamps in epoch seconds. */
export const toAccessTokenInfo = (token: AccessToken): AccessTokenInfo => {
  const info = {
    token: token.token,
    expiresOn: Math.floor(token.expiresOnTimestamp / 1000),
    tokenType: token.tokenType
  }
  return token.refreshAfterTimestamp === undefined
    ? info
    : { ...info, refreshOn: Math.floor(token.refreshAfterTimestamp / 1000) }
}
