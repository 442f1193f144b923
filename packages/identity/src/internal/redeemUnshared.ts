/**
 * The built-in `RedeemCode`'s redemption without its own single flight, for a caller that already runs one
 * redemption per code in a flight that must finish (the credential's account state): a second flight around the
 * same work would fork a second fiber per sign-in and add nothing.
 *
 * @internal
 */
import type * as Effect from "effect/Effect"
import type { AuthenticationError } from "../AuthenticationError.js"
import type { RedeemRequest, Redemption } from "../RedeemCode.js"

/** @internal */
export const redeemUnshared: unique symbol = Symbol.for("@effect-entra/identity/RedeemCode/redeemUnshared")

/** @internal */
export type RedeemUnshared = (request: RedeemRequest) => Effect.Effect<Redemption, AuthenticationError>

/** The step's unshared redemption, when it is the built-in one. */
export const unsharedOf = (service: object): RedeemUnshared | undefined =>
  (service as { readonly [redeemUnshared]?: RedeemUnshared })[redeemUnshared]
