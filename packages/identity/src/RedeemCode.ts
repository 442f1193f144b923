/**
 * The first step: an authorization code (with its PKCE verifier, redirect URI and client credentials) becomes an
 * account, its refresh token and a first access token, written to the `TokenCache`.
 *
 * A code is sent to Entra once however many fibers ask for it at the same time. With a PKCE verifier the
 * redemption is recorded in the cache under a key bound to the whole sign-in (an HMAC keyed by the verifier), so
 * another process holding the same sign-in adopts it instead of sending the code again; a replayed code with
 * another verifier, redirect URI or secret finds nothing and goes to Entra, which refuses a spent code.
 *
 * ```ts
 * // A web app's redirect route: the code from the query, the verifier from the session.
 * const redeem = yield* RedeemCode.RedeemCode
 * const request = yield* TokenRequest.make(client, "api://my-api/access_as_user")
 * const { account } = yield* redeem.redeem({ client, code, codeVerifier, request })
 * ```
 *
 * @since 0.1.0
 */
import type * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import { AuthenticationError } from "./AuthenticationError.js"
import type * as ClientCredential from "./ClientCredential.js"
import * as IdTokenValidator from "./IdTokenValidator.js"
import { leased } from "./internal/fleetLease.js"
import { makeRedeemNow } from "./internal/redeemExchange.js"
import { type RedeemUnshared, redeemUnshared } from "./internal/redeemUnshared.js"
import { isWiped, redemptionKey } from "./internal/redemptionBinding.js"
import * as SingleFlight from "./internal/singleFlight.js"
import * as TokenCache from "./TokenCache.js"
import * as TokenEndpoint from "./TokenEndpoint.js"
import type * as TokenRequest from "./TokenRequest.js"

/**
 * Who signed in.
 *
 * @since 0.1.0
 * @category models
 */
export interface AccountInfo {
  readonly homeAccountId: string
  readonly tenantId: string
  readonly username?: string | undefined
  readonly name?: string | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface RedeemClient extends TokenRequest.Client {
  /** A certificate or federated credential: its identity is part of what a redemption record is bound to. */
  readonly clientCredential?: ClientCredential.Loaded | undefined
  /** The nonce of the authorize request, checked in the ID token when it is validated. */
  readonly nonce?: string | undefined
  /**
   * `true`: validate the ID token (without an `IdTokenValidator` the redemption fails before the code is sent);
   * `false`: do not, even with one in the context. Default: validate when the context holds a validator (the
   * credential always says which: it validates unless its `validateIdToken` option is `false`).
   */
  readonly validateIdToken?: boolean | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface RedeemRequest {
  readonly client: RedeemClient
  readonly code: Redacted.Redacted<string>
  /** The PKCE verifier of the authorize request; without one, no other process can adopt the redemption. */
  readonly codeVerifier?: Redacted.Redacted<string> | undefined
  /** What the first access token is for. */
  readonly request: TokenRequest.TokenRequest
}

/**
 * What a redemption produced: the account, and the access token it brought (absent when another process of
 * the fleet redeemed the code and this one adopted its account).
 *
 * @since 0.1.0
 * @category models
 */
export interface Redemption {
  readonly account: AccountInfo
  readonly issued?: { readonly key: string; readonly entry: TokenCache.AccessTokenEntry } | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  readonly redeem: (request: RedeemRequest) => Effect.Effect<Redemption, AuthenticationError>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class RedeemCode extends Context.Tag("@effect-entra/identity/RedeemCode")<RedeemCode, Service>() {}

/**
 * Whether an error ends the code: an answer that says it is spent or unusable (invalid_grant: expired, redeemed,
 * PKCE mismatch; or one that needs a new sign-in: MFA, consent), or an unreadable 200 (the code may be spent).
 * After any other error (a wrong secret, a mistyped scope, a 5xx) the code may be sent again.
 *
 * @since 0.1.0
 * @category predicates
 */
export const spendsCode = (error: AuthenticationError): boolean =>
  (error.reason === "ErrorResponse" && error.isInteractionRequired) ||
  (error.reason === "InvalidResponse" && error.statusCode === 200) ||
  error.reason === "InvalidIdToken"

// A credential wipes the code it redeemed: a wiped one is spent, and is reported as such rather than read.
const spentCode = () =>
  new AuthenticationError({
    reason: "ReauthenticationRequired",
    statusCode: 0,
    grantType: "authorization_code",
    errorResponse: {
      error: "invalid_grant",
      errorDescription: "This authorization code was already redeemed (a code is single-use); sign in again"
    },
    attempts: 0
  })

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
  /** Validates the answer's ID token (see {@link RedeemClient.validateIdToken}). */
  readonly validator: Option.Option<IdTokenValidator.Service>
  /** Where a redemption in flight lives. */
  readonly scope: Scope.Scope
}

/**
 * {@link make} from explicit dependencies, synchronously (the credential builds its steps this way: no effect to
 * run per sign-in).
 *
 * @since 0.1.0
 * @category constructors
 */
export const unsafeMake = (dependencies: Dependencies): Service => {
  const { cache, scope } = dependencies
  const flights = SingleFlight.make(scope)
  const redeemNow = makeRedeemNow(dependencies)

  const redeemOnce = (input: RedeemRequest): Effect.Effect<Redemption, AuthenticationError> =>
    Effect.gen(function*() {
      const binding = {
        ...input.client,
        clientSecret: input.client.clientSecret,
        clientCredentialId: input.client.clientCredential?.id,
        codeVerifier: input.codeVerifier
      }
      const codeKey = redemptionKey(binding, input.code)
      // Without a PKCE verifier nothing proves another process holds the same sign-in: redeem here, record nothing.
      if (Option.isNone(codeKey)) return yield* redeemNow(input, codeKey)
      const adoptRecorded: Effect.Effect<Option.Option<Redemption>> = Effect.map(
        cache.getRedemption(codeKey.value),
        Option.map((homeAccountId) => ({ account: { homeAccountId, tenantId: input.client.tenantId } }))
      )
      // Another process of the fleet may have redeemed this code already.
      const recorded = yield* adoptRecorded
      if (Option.isSome(recorded)) return recorded.value
      return yield* leased(cache, `redeem|${codeKey.value}`, adoptRecorded, redeemNow(input, codeKey))
    })

  const service = RedeemCode.of({
    // Keyed by the code itself: the key lives in memory only while the redemption is in flight.
    redeem: (input) =>
      Effect.suspend(() =>
        isWiped(input.code)
          ? Effect.fail(spentCode())
          : flights.run(`redeem|${Redacted.value(input.code)}`, redeemOnce(input), { finishWhenAbandoned: true })
      )
  })
  const unshared: RedeemUnshared = (input) =>
    Effect.suspend(() => isWiped(input.code) ? Effect.fail(spentCode()) : redeemOnce(input))
  return Object.defineProperty(service, redeemUnshared, { value: unshared })
}

/**
 * Builds the step on the `TokenEndpoint` and `TokenCache` in the context; a redemption in flight lives in the
 * `Scope` (it finishes even when every caller has gone: a code sent to Entra must not be lost). With an
 * `IdTokenValidator` in the context, the answer's ID token is validated before anything is cached, and the
 * account is read from its validated claims.
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
      validator: yield* Effect.serviceOption(IdTokenValidator.IdTokenValidator),
      scope: yield* Effect.scope
    })
  })

/**
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<RedeemCode, never, TokenEndpoint.TokenEndpoint | TokenCache.TokenCache> = Layer
  .scoped(RedeemCode, make)
