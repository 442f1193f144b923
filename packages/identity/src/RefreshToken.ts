/**
 * The renewal step: a new access token for one key, bought with the account's refresh token (rotated refresh
 * tokens are kept, never going backwards). One request per key however many callers wait, and one process of
 * the fleet under the cache's lease. A proactive renewal (the cached token still valid) that fails keeps serving
 * the cached token and leaves that key alone for the policy's retry delay.
 *
 * @since 0.1.0
 */
import type * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import { AuthenticationError } from "./AuthenticationError.js"
import * as CredentialMetrics from "./CredentialMetrics.js"
import { clientParameters } from "./internal/clientParameters.js"
import { leased } from "./internal/fleetLease.js"
import { spanned } from "./internal/liveServices.js"
import { makeRefreshGate, type RefreshGate } from "./internal/refreshGate.js"
import * as SingleFlight from "./internal/singleFlight.js"
import { toEntry } from "./internal/tokenEntry.js"
import * as RefreshPolicy from "./RefreshPolicy.js"
import * as TokenCache from "./TokenCache.js"
import * as TokenEndpoint from "./TokenEndpoint.js"
import * as TokenRequest from "./TokenRequest.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface RenewRequest {
  readonly client: TokenRequest.Client
  readonly homeAccountId: string
  readonly request: TokenRequest.TokenRequest
  /** Default {@link RefreshPolicy.defaultPolicy}. */
  readonly policy?: RefreshPolicy.RefreshPolicy | undefined
  /**
   * Ask Entra even when the cache (another process) holds a fresh token: a forced renewal. A claims request
   * (`request.bypassCache`) always does.
   */
  readonly force?: boolean | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** A new token for the request's key, written to the cache. */
  readonly renew: (request: RenewRequest) => Effect.Effect<TokenCache.AccessTokenEntry, AuthenticationError>
  /**
   * Renews `current`, a cached token that is due but still valid. If that fails while `current` is valid, it is
   * served (a warning is logged, the failure counted) and the key is not tried again for the policy's delay.
   */
  readonly renewDue: (
    request: RenewRequest,
    current: TokenCache.AccessTokenEntry
  ) => Effect.Effect<TokenCache.AccessTokenEntry, AuthenticationError>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class RefreshToken extends Context.Tag("@effect-entra/identity/RefreshToken")<RefreshToken, Service>() {}

const noRefreshToken = () =>
  new AuthenticationError({
    reason: "ReauthenticationRequired",
    statusCode: 0,
    grantType: "refresh_token",
    errorResponse: {
      error: "interaction_required",
      errorDescription: "No refresh token is cached for this account and the authorization code has " +
        "already been redeemed; sign in again to get a new code"
    }
  })

/** The refresh_token grant for one key: the cached refresh token out, the new tokens into the cache. */
const makeRenewNow = (
  endpoint: TokenEndpoint.Service,
  cache: TokenCache.Service,
  clock: Clock.Clock,
  retryGate: RefreshGate
) =>
({ client, homeAccountId, request }: RenewRequest, key: string) =>
  Effect.gen(function*() {
    const accountKey = TokenRequest.accountKey(client, homeAccountId)
    const stored = yield* cache.getAccount(accountKey)
    if (Option.isNone(stored) || stored.value.refreshToken === undefined) return yield* noRefreshToken()
    const account = stored.value
    const response = yield* endpoint.redeemRefreshToken({
      ...clientParameters(client, request),
      refreshToken: account.refreshToken!
    })
    if (response.refreshToken !== undefined) {
      // Entra rotates refresh tokens: keep the newest; the versioned write refuses to go backwards.
      yield* cache.setAccount(accountKey, {
        ...account,
        refreshToken: response.refreshToken,
        version: account.version + 1,
        updatedOn: clock.unsafeCurrentTimeMillis()
      })
    }
    const entry = toEntry(response, request, homeAccountId)
    yield* cache.setAccessToken(key, entry)
    retryGate.clear(key)
    return entry
  }).pipe(spanned("RefreshToken", () => ({
    captureStackTrace: false,
    attributes: {
      "entra.tenant_id": request.tenantId,
      "entra.scopes": request.scopeKey,
      "entra.grant_type": "refresh_token",
      "entra.cae": request.cae,
      "entra.claims": request.claims !== undefined
    }
  })))

/**
 * What the step is built on.
 *
 * @since 0.1.0
 * @category models
 */
export interface Dependencies {
  readonly endpoint: TokenEndpoint.Service
  readonly cache: TokenCache.Service
  readonly clock: Clock.Clock
  /** Where renewals in flight live. */
  readonly scope: Scope.Scope
}

/**
 * {@link make} from explicit dependencies, synchronously.
 *
 * @since 0.1.0
 * @category constructors
 */
export const unsafeMake = ({ cache, clock, endpoint, scope }: Dependencies): Service => {
  const flights = SingleFlight.make(scope)
  const retryGate = makeRefreshGate()

  const renewNow = makeRenewNow(endpoint, cache, clock, retryGate)

  /** A fresh token another process may have written meanwhile. */
  const freshFromCache = (key: string, policy: RefreshPolicy.RefreshPolicy) =>
    Effect.map(
      cache.getAccessToken(key),
      Option.filter((entry) => clock.unsafeCurrentTimeMillis() < policy.renewAt(entry))
    )

  /** One flight per key: callers that join share its outcome, `onFailure` included (one warning, one count). */
  const renewShared = (
    input: RenewRequest,
    onFailure: (
      key: string,
      error: AuthenticationError
    ) => Effect.Effect<TokenCache.AccessTokenEntry, AuthenticationError>
  ): Effect.Effect<TokenCache.AccessTokenEntry, AuthenticationError> =>
    Effect.suspend(() => {
      const key = TokenRequest.accessTokenKey(input.client, input.homeAccountId, input.request)
      const { bypassCache, claims } = input.request
      const recheck = bypassCache || input.force === true
        ? Effect.succeedNone
        : freshFromCache(key, input.policy ?? RefreshPolicy.defaultPolicy)
      return flights.run(
        bypassCache ? `${key}|claims|${claims}` : key,
        leased(cache, `refresh|${key}`, recheck, renewNow(input, key)).pipe(
          Effect.catchAll((error) => onFailure(key, error))
        )
      )
    })

  const renew = (input: RenewRequest) => renewShared(input, (_key, error) => Effect.fail(error))

  const renewDue = (
    input: RenewRequest,
    current: TokenCache.AccessTokenEntry
  ): Effect.Effect<TokenCache.AccessTokenEntry, AuthenticationError> =>
    Effect.suspend(() => {
      const key = TokenRequest.accessTokenKey(input.client, input.homeAccountId, input.request)
      if (retryGate.blocked(key, clock.unsafeCurrentTimeMillis())) return Effect.succeed(current)
      return renewShared(input, (key, error) => keepServing(input, key, current, error))
    })

  const keepServing = (
    { policy = RefreshPolicy.defaultPolicy, request }: RenewRequest,
    key: string,
    current: TokenCache.AccessTokenEntry,
    error: AuthenticationError
  ) =>
    Effect.gen(function*() {
      const failedAt = clock.unsafeCurrentTimeMillis()
      // Callers that joined this renewal after expiry, or a renewal that outlived the token, must not get an
      // expired token as a success.
      if (failedAt >= current.expiresOn) return yield* Effect.fail(error)
      const retryInMs = policy.retryDelay(current, failedAt)
      retryGate.block(key, failedAt + retryInMs, failedAt)
      yield* Metric.increment(CredentialMetrics.refreshFailures)
      yield* Effect.logWarning("Proactive token refresh failed; serving the cached token until it expires").pipe(
        Effect.annotateLogs({
          error: error.message,
          tenantId: request.tenantId,
          scopes: request.scopeKey,
          expiresOn: new Date(current.expiresOn).toISOString(),
          retryInMs
        })
      )
      return current
    })

  return RefreshToken.of({ renew, renewDue })
}

/**
 * Builds the step on the `TokenEndpoint` and `TokenCache` in the context; renewals in flight live in the `Scope`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<Service, never, TokenEndpoint.TokenEndpoint | TokenCache.TokenCache | Scope.Scope> =
  Effect.gen(function*() {
    return unsafeMake({
      endpoint: yield* TokenEndpoint.TokenEndpoint,
      cache: yield* TokenCache.TokenCache,
      clock: yield* Effect.clock,
      scope: yield* Effect.scope
    })
  })

/**
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<RefreshToken, never, TokenEndpoint.TokenEndpoint | TokenCache.TokenCache> = Layer
  .scoped(RefreshToken, make)
