/**
 * What the credential's constructors share besides the composition itself: the steps (the context's, else its
 * own), the validator of the sign-in, and whether the current fiber records spans.
 *
 * @internal
 */
import type * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import { InvalidOptionError } from "../AuthenticationError.js"
import type { Steps } from "../AuthorizationCodeCredential.js"
import * as CacheLookup from "../CacheLookup.js"
import * as ClientCredential from "../ClientCredential.js"
import * as IdTokenValidator from "../IdTokenValidator.js"
import * as RedeemCode from "../RedeemCode.js"
import * as RefreshPolicy from "../RefreshPolicy.js"
import * as RefreshToken from "../RefreshToken.js"
import type * as TokenCache from "../TokenCache.js"
import type * as TokenEndpoint from "../TokenEndpoint.js"
import type { Settings } from "./credentialOptions.js"
import { type RedeemUnshared, unsharedOf } from "./redeemUnshared.js"

/** The context's validator (a shared key cache), else one on the credential's `HttpClient`. */
export const validatorFor = Effect.flatMap(
  Effect.serviceOption(IdTokenValidator.IdTokenValidator),
  Option.match({ onSome: Effect.succeed, onNone: () => IdTokenValidator.make() })
)

/**
 * Without an `HttpClient` to build a validator on, a credential that will redeem a code and validate its ID token
 * needs one in the context (or a `RedeemCode` of its own): said when building, not after the user signed in.
 */
export const validatorRequired = (settings: {
  readonly validateIdToken: boolean
  readonly authorizationCode: unknown
}): Effect.Effect<void, InvalidOptionError> =>
  Effect.gen(function*() {
    if (!settings.validateIdToken || settings.authorizationCode === undefined) return
    const validator = yield* Effect.serviceOption(IdTokenValidator.IdTokenValidator)
    const redeemCode = yield* Effect.serviceOption(RedeemCode.RedeemCode)
    if (Option.isSome(validator) || Option.isSome(redeemCode)) return
    return yield* new InvalidOptionError({
      field: "validateIdToken",
      reason: "the ID token is validated by default, but no IdTokenValidator is in the context: provide " +
        "IdTokenValidator.layer() (on an HttpClient), or set validateIdToken: false for an endpoint that issues " +
        "no signed ID tokens"
    })
  })

export { untraced } from "./liveServices.js"

/** What the credential is composed of: its steps and policy, where its background work lives. */
export interface Parts {
  readonly steps: Steps
  readonly policy: RefreshPolicy.RefreshPolicy
  readonly scope: Scope.Scope
  /** The built-in `RedeemCode`'s redemption without its own flight; absent for a step from the context. */
  readonly unshared: RedeemUnshared | undefined
}

/**
 * The steps and policy of the context, else the credential's own on `cache` and `endpoint` (which gets the
 * settings' client certificate or assertion); synchronous, from one read of the clock and the context.
 */
export const partsFrom = (
  context: Context.Context<Scope.Scope>,
  clock: Clock.Clock,
  settings: Settings,
  cache: TokenCache.Service,
  endpoint: TokenEndpoint.Service,
  validator: IdTokenValidator.Service | undefined
): Parts => {
  const scope = Context.get(context, Scope.Scope)
  const any = context as Context.Context<unknown>
  const signed = ClientCredential.withClientCredential(endpoint, settings.clientCredential)
  const own = <I, S>(tag: Context.Tag<I, S>, build: () => S): S => Option.getOrElse(Context.getOption(any, tag), build)
  const steps: Steps = {
    redeemCode: own(RedeemCode.RedeemCode, () =>
      RedeemCode.unsafeMake({
        endpoint: signed,
        cache,
        clock,
        scope,
        validator: validator === undefined
          ? Context.getOption(any, IdTokenValidator.IdTokenValidator)
          : Option.some(validator)
      })),
    cacheLookup: own(CacheLookup.CacheLookup, () => CacheLookup.unsafeMake(cache, clock)),
    refreshToken: own(
      RefreshToken.RefreshToken,
      () => RefreshToken.unsafeMake({ endpoint: signed, cache, clock, scope })
    ),
    cache
  }
  const policy = settings.refreshPolicy ?? Context.get(any, RefreshPolicy.CurrentRefreshPolicy)
  // Only a step built here may skip its own flight: one from the context may be shared with others.
  const unshared = Option.isNone(Context.getOption(any, RedeemCode.RedeemCode))
    ? unsharedOf(steps.redeemCode)
    : undefined
  return { steps, policy, scope, unshared }
}
