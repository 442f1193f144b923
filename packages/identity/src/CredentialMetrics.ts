/**
 * The credential's metrics, on Effect's `Metric` (exported through `@effect/opentelemetry` like any other).
 * Labels carry only low-cardinality, non-secret values: grant type, outcome (`success` or the OAuth `error`),
 * cache result.
 *
 * @since 0.1.0
 */
import * as Metric from "effect/Metric"
import * as MetricBoundaries from "effect/MetricBoundaries"
import * as MetricKey from "effect/MetricKey"

/**
 * Requests to the token endpoint, by `grant_type` and `outcome` (`success`, an OAuth `error` such as
 * `invalid_grant`, or `transport_error`, `timeout`, `server_error`, `invalid_response`).
 *
 * @since 0.1.0
 * @category metrics
 */
export const tokenRequests = Metric.counter("entra_token_requests_total", {
  description: "Token endpoint requests by grant type and outcome",
  incremental: true
})

/**
 * Retries of token requests (429, 5xx, transport errors, time-outs), by `grant_type`.
 *
 * @since 0.1.0
 * @category metrics
 */
export const tokenRequestRetries = Metric.counter("entra_token_request_retries_total", {
  description: "Token endpoint retries by grant type",
  incremental: true
})

/**
 * Wall time of a token request including retries, in milliseconds, by `grant_type`.
 *
 * @since 0.1.0
 * @category metrics
 */
export const tokenRequestDuration = Metric.histogram(
  "entra_token_request_duration_ms",
  MetricBoundaries.exponential({ start: 5, factor: 2, count: 14 }),
  "Token endpoint request time in ms, retries included"
)

const cacheLookupsKey = MetricKey.counter("entra_token_cache_lookups_total", {
  description: "Access-token cache lookups by result",
  incremental: true
})

/**
 * Cache lookups by `result`: `hit` (served from the cache), `miss` (nothing cached) or `renew` (cached but due
 * for renewal).
 *
 * @since 0.1.0
 * @category metrics
 */
export const cacheLookups = Metric.fromMetricKey(cacheLookupsKey)

/**
 * Failed proactive renewals, after which the still-valid cached token was served.
 *
 * @since 0.1.0
 * @category metrics
 */
export const refreshFailures = Metric.counter("entra_token_refresh_failures_total", {
  description: "Failed proactive token renewals (the cached token was served)",
  incremental: true
})

/**
 * Counters whose key carries the label, for the hot path: a cache hit is then one counter update. (`Metric.tagged`
 * would build the labelled key and look it up in the registry on every `unsafeUpdate`: ~20 ns and garbage per hit.)
 */
export const cacheHit = Metric.fromMetricKey(MetricKey.tagged(cacheLookupsKey, "result", "hit"))
/** @internal */
export const cacheMiss = Metric.fromMetricKey(MetricKey.tagged(cacheLookupsKey, "result", "miss"))
/** @internal */
export const cacheRenew = Metric.fromMetricKey(MetricKey.tagged(cacheLookupsKey, "result", "renew"))
