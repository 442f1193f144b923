/**
 * What a token request reuses from one request to the next: its metrics, tagged once (tagging builds and hashes a
 * new metric key on every call), and the token endpoint's URL per authority and tenant (checked once).
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Metric from "effect/Metric"
import type { GrantType, InvalidOptionError } from "../AuthenticationError.js"
import { normalizeAuthority, tokenEndpoint, validateTenantId } from "../Authority.js"
import * as CredentialMetrics from "../CredentialMetrics.js"

const grantTypes: ReadonlyArray<GrantType> = ["authorization_code", "refresh_token", "device_code"]

const perGrant = <M>(make: (grantType: GrantType) => M): (grantType: GrantType) => M => {
  const made = new Map(grantTypes.map((grantType) => [grantType, make(grantType)]))
  return (grantType) => made.get(grantType) ?? make(grantType)
}

const retries = perGrant((grantType) => Metric.tagged(CredentialMetrics.tokenRequestRetries, "grant_type", grantType))

/** Counts a retry of a token request. */
export const countRetry = (grantType: GrantType) => Metric.increment(retries(grantType))

const durations = perGrant((grantType) =>
  Metric.tagged(CredentialMetrics.tokenRequestDuration, "grant_type", grantType)
)

/** Records how long a token request took, retries included, when it succeeds. */
export const measured = (grantType: GrantType) => <A, E>(effect: Effect.Effect<A, E>): Effect.Effect<A, E> =>
  // The clock read directly, as `Effect.timed` would read it, without its extra steps.
  Effect.clockWith((clock) => {
    const start = clock.unsafeCurrentTimeNanos()
    return Effect.tap(effect, () => {
      const elapsed = Duration.nanos(clock.unsafeCurrentTimeNanos() - start)
      return Metric.update(durations(grantType), Duration.toMillis(elapsed))
    })
  })

const requestsByGrant = perGrant((grantType) => Metric.tagged(CredentialMetrics.tokenRequests, "grant_type", grantType))

// The outcome is "success" or Entra's error code, a string from the wire: the memo is bounded.
const requestCounters = new Map<string, typeof CredentialMetrics.tokenRequests>()
const maxCounters = 64

/** Counts a finished token request by grant type and outcome. */
export const countRequest = (grantType: GrantType, outcome: string) => {
  const key = `${grantType} ${outcome}`
  let counter = requestCounters.get(key)
  if (counter === undefined) {
    counter = Metric.tagged(requestsByGrant(grantType), "outcome", outcome)
    if (requestCounters.size < maxCounters) requestCounters.set(key, counter)
  }
  return Metric.increment(counter)
}

/**
 * The token endpoint of an authority and tenant, or why there is none, remembered per pair (a few per credential;
 * the memo is bounded).
 */
export const endpointUrls = () => {
  const known = new Map<string, Either.Either<string, InvalidOptionError>>()
  return (authority: string, tenantId: string): Either.Either<string, InvalidOptionError> => {
    const key = typeof authority === "string" && typeof tenantId === "string" ? `${authority}\n${tenantId}` : undefined
    const found = key === undefined ? undefined : known.get(key)
    if (found !== undefined) return found
    const url = Either.flatMap(
      validateTenantId(tenantId),
      (tenant) => Either.map(normalizeAuthority(authority), (host) => tokenEndpoint(host, tenant))
    )
    if (key !== undefined) {
      if (known.size >= 16) known.clear()
      known.set(key, url)
    }
    return url
  }
}
