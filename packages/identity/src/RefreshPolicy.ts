/**
 * When a cached token is due for renewal, and how long to leave a key alone after a proactive renewal failed.
 * A policy is a value of two pure functions; the default is {@link defaultPolicy}.
 *
 * ```ts
 * // Renew at 80% of the token's lifetime (or at Entra's refresh_in when that comes first).
 * const Renew80 = RefreshPolicy.layer(RefreshPolicy.atFractionOfLifetime(0.8))
 * ```
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Layer from "effect/Layer"

/**
 * What a policy reads of a cached token (epoch ms).
 *
 * @since 0.1.0
 * @category models
 */
export interface TokenTimes {
  /** When the request that produced the token was sent. */
  readonly issuedOn: number
  readonly expiresOn: number
  /** From Entra's `refresh_in`, when it sent one. */
  readonly refreshOn?: number | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface RefreshPolicy {
  /** Epoch ms from which the token is due: before it, a cached token is served as is. */
  readonly renewAt: (token: TokenTimes) => number
  /** After a proactive renewal failed at `failedAt` (epoch ms): how many ms before that key is tried again. */
  readonly retryDelay: (token: TokenTimes, failedAt: number) => number
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Renew this long before expiry, but never before half of the token's lifetime. Default 5 minutes. */
  readonly window?: Duration.DurationInput | undefined
  /** After a failed proactive renewal, wait this long before trying that key again. Default 30 s. */
  readonly retryDelay?: Duration.DurationInput | undefined
}

const halfLife = (token: TokenTimes) => token.issuedOn + (token.expiresOn - token.issuedOn) / 2

/** Entra's `refresh_in` wins when it comes first: it is how Entra spreads renewals out. */
const honourRefreshIn = (token: TokenTimes, at: number) =>
  token.refreshOn === undefined ? at : Math.min(token.refreshOn, at)

/**
 * A token is due at Entra's `refresh_in`, or `window` before expiry, whichever comes first, but never before
 * half of its lifetime (so a 4-minute token is not renewed on every call). A failed renewal waits `retryDelay`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options = {}): RefreshPolicy => {
  const windowMs = Duration.toMillis(options.window ?? "5 minutes")
  const retryDelayMs = Duration.toMillis(options.retryDelay ?? "30 seconds")
  return {
    renewAt: (token) => honourRefreshIn(token, Math.max(token.expiresOn - windowMs, halfLife(token))),
    retryDelay: () => retryDelayMs
  }
}

/**
 * Today's behaviour: `refresh_in`, else 5 minutes before expiry, never before half-life; 30 s after a failure.
 *
 * @since 0.1.0
 * @category constructors
 */
export const defaultPolicy: RefreshPolicy = make()

/**
 * Due once `fraction` (0 to 1) of the lifetime has passed, or at Entra's `refresh_in` when that comes first.
 * Failures wait `retryDelay` (default 30 s).
 *
 * @since 0.1.0
 * @category constructors
 */
export const atFractionOfLifetime = (
  fraction: number,
  options: { readonly retryDelay?: Duration.DurationInput | undefined } = {}
): RefreshPolicy => {
  if (!(fraction > 0 && fraction <= 1)) throw new RangeError("fraction must be in (0, 1]")
  const retryDelayMs = Duration.toMillis(options.retryDelay ?? "30 seconds")
  return {
    renewAt: (token) => honourRefreshIn(token, token.issuedOn + (token.expiresOn - token.issuedOn) * fraction),
    retryDelay: () => retryDelayMs
  }
}

/**
 * True when `token` should be renewed at `now`.
 *
 * @since 0.1.0
 * @category predicates
 */
export const isDue = (policy: RefreshPolicy, token: TokenTimes, now: number): boolean => now >= policy.renewAt(token)

/**
 * The policy a credential uses when its options name none (`refreshPolicy`, `refreshWindow`,
 * `refreshRetryDelay`): {@link defaultPolicy} unless a layer provides another.
 *
 * @since 0.1.0
 * @category tags
 */
export class CurrentRefreshPolicy extends Context.Reference<CurrentRefreshPolicy>()(
  "@effect-entra/identity/RefreshPolicy",
  { defaultValue: () => defaultPolicy }
) {}

/**
 * Provides `policy` to the credentials built under this layer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (policy: RefreshPolicy): Layer.Layer<CurrentRefreshPolicy> =>
  Layer.succeed(CurrentRefreshPolicy, policy)
