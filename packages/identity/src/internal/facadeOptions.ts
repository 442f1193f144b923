/**
 * The Promise facade's HTTP options (`@azure/identity`'s names, in ms) checked and turned into the token
 * endpoint's, so a `NaN` or `-1` is an `InvalidOptionError` from the constructor, never a time-out of 0.
 */
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import type * as AccessTokenModule from "../AccessToken.js"
import { InvalidOptionError } from "../AuthenticationError.js"
import { extraOf, invalidCa } from "../NodeHttp.js"
import * as TokenEndpoint from "../TokenEndpoint.js"
import { checkWhole, httpBounds } from "./httpOptions.js"

/** The facade's settings this module reads. */
export interface FacadeHttpInput {
  readonly retryOptions?: {
    readonly maxRetries?: number | undefined
    readonly retryDelayInMs?: number | undefined
    readonly maxRetryDelayInMs?: number | undefined
  } | undefined
  readonly requestTimeoutInMs?: number | undefined
  readonly ca?: string | Buffer | ReadonlyArray<string | Buffer> | undefined
}

const millis = (
  field: string,
  value: unknown,
  bounds: { readonly min: number; readonly max: number }
): Either.Either<number | undefined, InvalidOptionError> => {
  if (value === undefined) return Either.right(undefined)
  if (typeof value !== "number" || !Number.isFinite(value) || value < bounds.min || value > bounds.max) {
    return Either.left(
      new InvalidOptionError({ field, reason: `must be a number of ms from ${bounds.min} to ${bounds.max}` })
    )
  }
  return Either.right(value)
}

/** Checks the facade's HTTP options and maps them to `TokenEndpoint.Options`. */
export const facadeHttpOptions = (options: FacadeHttpInput): Either.Either<TokenEndpoint.Options, InvalidOptionError> =>
  Either.gen(function*() {
    const retry = options.retryOptions
    if (retry !== undefined && (typeof retry !== "object" || retry === null)) {
      return yield* Either.left(new InvalidOptionError({ field: "retryOptions", reason: "must be an object" }))
    }
    const maxRetries = retry?.maxRetries === undefined ? undefined : yield* checkWhole(
      "retryOptions.maxRetries",
      retry.maxRetries,
      { default: 3, min: 0, max: httpBounds.maxAttempts.max - 1 }
    )
    const http: TokenEndpoint.Options = {
      maxAttempts: maxRetries === undefined ? undefined : maxRetries + 1,
      baseDelay: yield* millis("retryOptions.retryDelayInMs", retry?.retryDelayInMs, httpBounds.baseDelay),
      maxDelay: yield* millis("retryOptions.maxRetryDelayInMs", retry?.maxRetryDelayInMs, httpBounds.maxDelay),
      requestTimeout: yield* millis("requestTimeoutInMs", options.requestTimeoutInMs, httpBounds.requestTimeout)
    }
    yield* TokenEndpoint.validateOptions(http)
    const extra = extraOf(options.ca)
    const invalid = extra === undefined ? undefined : invalidCa(extra)
    if (invalid !== undefined) return yield* Either.left(new InvalidOptionError({ field: "ca", reason: invalid }))
    return http
  })

/** `@azure/core-auth`'s token type names. */
const azureTokenType = (tokenType: string): "Bearer" | "pop" => (tokenType.toLowerCase() === "pop" ? "pop" : "Bearer")

/** The facade's token: the value unwrapped, the type as Entra returned it. */
export const toAzureAccessToken = (token: AccessTokenModule.AccessToken): {
  readonly token: string
  readonly expiresOnTimestamp: number
  readonly refreshAfterTimestamp?: number
  readonly tokenType: "Bearer" | "pop"
} =>
  token.refreshAfterTimestamp === undefined
    ? {
      token: Redacted.value(token.token),
      expiresOnTimestamp: token.expiresOnTimestamp,
      tokenType: azureTokenType(token.tokenType)
    }
    : {
      token: Redacted.value(token.token),
      expiresOnTimestamp: token.expiresOnTimestamp,
      refreshAfterTimestamp: token.refreshAfterTimestamp,
      tokenType: azureTokenType(token.tokenType)
    }
