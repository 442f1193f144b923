/**
 * What the credential's constructors share besides the composition itself: the validator of the sign-in, and
 * whether the current fiber records spans.
 *
 * @internal
 */
import * as Context from "effect/Context"
import * as DefaultServices from "effect/DefaultServices"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Tracer from "effect/Tracer"
import { InvalidOptionError } from "../AuthenticationError.js"
import * as IdTokenValidator from "../IdTokenValidator.js"
import * as RedeemCode from "../RedeemCode.js"

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

// A cache hit costs a map read and a span some fifty times more: a hit is a span only when a tracer records it.
const nativeTracer = Context.get(DefaultServices.liveServices, Tracer.Tracer)

/** Whether the current fiber runs on Effect's native tracer (no span is recorded anywhere). */
export const untraced = (): boolean => {
  const fiber = Fiber.getCurrentFiber()
  return Option.isNone(fiber) || fiber.value.currentTracer === nativeTracer
}
