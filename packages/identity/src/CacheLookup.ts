/**
 * The cache read: is there a token for this key, and is it fresh, due for renewal, or expired under a
 * {@link RefreshPolicy.RefreshPolicy}? Counted in `entra_token_cache_lookups_total` (`hit`, `renew`, `miss`).
 *
 * `peek` is the synchronous form for hot paths (the Promise facade's): it sees the cache's in-process level.
 *
 * @since 0.1.0
 */
import type * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as CredentialMetrics from "./CredentialMetrics.js"
import { annotate, spanned } from "./internal/liveServices.js"
import * as RefreshPolicy from "./RefreshPolicy.js"
import * as TokenCache from "./TokenCache.js"

/**
 * What the cache holds for a key.
 *
 * @since 0.1.0
 * @category models
 */
export type Lookup =
  /** Serve it. */
  | { readonly _tag: "Fresh"; readonly entry: TokenCache.AccessTokenEntry }
  /** Still valid, but due: renew it, and serve it if the renewal fails. */
  | { readonly _tag: "Due"; readonly entry: TokenCache.AccessTokenEntry }
  /** Past its expiry: renew it, or fail. */
  | { readonly _tag: "Expired"; readonly entry: TokenCache.AccessTokenEntry }
  | { readonly _tag: "Miss" }

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** Reads `key` (one span, `CacheLookup`) and says what to do with it. */
  readonly lookup: (key: string, policy?: RefreshPolicy.RefreshPolicy) => Effect.Effect<Lookup>
  /** The fresh token for `key` from the cache's in-process level, synchronously, or `undefined`. A hit counts. */
  readonly peek: (key: string, policy?: RefreshPolicy.RefreshPolicy) => TokenCache.AccessTokenEntry | undefined
}

/**
 * @since 0.1.0
 * @category tags
 */
export class CacheLookup extends Context.Tag("@effect-entra/identity/CacheLookup")<CacheLookup, Service>() {}

// Shared, so the metric's unlabelled fast path is taken without allocating.
const noLabels: ReadonlyArray<never> = []

/**
 * Classifies a cached entry at `now`: a pure function of the entry, the time and the policy.
 *
 * @since 0.1.0
 * @category classification
 */
export const classify = (
  entry: Option.Option<TokenCache.AccessTokenEntry>,
  now: number,
  policy: RefreshPolicy.RefreshPolicy = RefreshPolicy.defaultPolicy
): Lookup => {
  if (Option.isNone(entry)) return { _tag: "Miss" }
  const value = entry.value
  if (now < policy.renewAt(value)) return { _tag: "Fresh", entry: value }
  return now < value.expiresOn ? { _tag: "Due", entry: value } : { _tag: "Expired", entry: value }
}

const counters = {
  Fresh: CredentialMetrics.cacheHit,
  Due: CredentialMetrics.cacheRenew,
  Expired: CredentialMetrics.cacheRenew,
  Miss: CredentialMetrics.cacheMiss
} as const

/**
 * {@link make} on an explicit cache and clock, synchronously.
 *
 * @since 0.1.0
 * @category constructors
 */
export const unsafeMake = (cache: TokenCache.Service, clock: Clock.Clock): Service => {
  const lookup = (key: string, policy?: RefreshPolicy.RefreshPolicy): Effect.Effect<Lookup> =>
    Effect.gen(function*() {
      const cached = yield* cache.getAccessToken(key)
      yield* annotate({ "entra.cache.hit": Option.isSome(cached) })
      const found = classify(cached, clock.unsafeCurrentTimeMillis(), policy)
      yield* Metric.increment(counters[found._tag])
      return found
    }).pipe(spanned("CacheLookup", () => ({ captureStackTrace: false })))

  const peek = (key: string, policy: RefreshPolicy.RefreshPolicy = RefreshPolicy.defaultPolicy) => {
    // The cache stays the source of truth: a renewed or removed entry is seen at once, as far as the cache's
    // synchronous peek sees it (file and Redis caches peek their in-process copy: another process's sign-out is
    // seen at the next renewal).
    const entry = cache.peekAccessToken(key)
    if (entry === undefined || clock.unsafeCurrentTimeMillis() >= policy.renewAt(entry)) return undefined
    CredentialMetrics.cacheHit.unsafeUpdate(1, noLabels)
    return entry
  }

  return CacheLookup.of({ lookup, peek })
}

/**
 * Builds the step on the `TokenCache` in the context.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<Service, never, TokenCache.TokenCache> = Effect.gen(function*() {
  return unsafeMake(yield* TokenCache.TokenCache, yield* Effect.clock)
})

/**
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<CacheLookup, never, TokenCache.TokenCache> = Layer.effect(CacheLookup, make)
