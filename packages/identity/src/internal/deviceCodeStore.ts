/**
 * The device code's answer stored exactly as a code's redemption is: `RedeemCode` runs on a token endpoint that
 * hands over the answer the polls already got, so the ID token is validated (or not) by the same rule, and the
 * account, its refresh token and the first access token land under the same cache keys. `token` and the
 * credential resumed with the account's `homeAccountId` then work from the cache and refresh as after a browser
 * sign-in.
 *
 * @internal
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type { AuthenticationError } from "../AuthenticationError.js"
import * as IdTokenValidator from "../IdTokenValidator.js"
import * as RedeemCode from "../RedeemCode.js"
import * as TokenCache from "../TokenCache.js"
import * as TokenEndpoint from "../TokenEndpoint.js"
import type * as TokenRequest from "../TokenRequest.js"
import { asDeviceCodeError } from "./deviceCodeErrors.js"

/** What storing needs besides the answer. */
export interface StoreContext {
  readonly cache: TokenCache.Service
  /** Present when the ID token is to be validated. */
  readonly validator: IdTokenValidator.Service | undefined
}

/** Stores the account and tokens of a device-code answer; fails (storing nothing) when the ID token is invalid. */
export const storeAnswer = (
  answer: TokenEndpoint.TokenResponse,
  client: Omit<RedeemCode.RedeemClient, "redirectUri">,
  request: TokenRequest.TokenRequest,
  context: StoreContext
): Effect.Effect<RedeemCode.Redemption, AuthenticationError> => {
  const handOver = TokenEndpoint.TokenEndpoint.of({
    // Runs inside RedeemCode's span: it names the grant these tokens came from.
    redeemCode: () => Effect.as(Effect.annotateCurrentSpan("entra.grant_type", "device_code"), answer),
    redeemRefreshToken: () => Effect.dieMessage("a device-code sign-in refreshes nothing while it is stored")
  })
  const base = Context.make(TokenCache.TokenCache, context.cache).pipe(
    Context.add(TokenEndpoint.TokenEndpoint, handOver)
  )
  const deps = context.validator === undefined
    ? base
    : Context.add(base, IdTokenValidator.IdTokenValidator, context.validator)
  return Effect.gen(function*() {
    const redeemCode = yield* RedeemCode.make
    // No PKCE verifier: nothing is recorded for other processes to adopt, and the placeholder is never sent.
    return yield* redeemCode.redeem({
      // The device-code grant has no redirect URI; the cache keys do not use one.
      client: { ...client, redirectUri: "", validateIdToken: context.validator !== undefined },
      code: Redacted.make(`device-code-${crypto.randomUUID()}`),
      request
    })
  }).pipe(
    Effect.provide(deps),
    Effect.scoped,
    // An ID token refused here came from the device-code grant, not a code's redemption.
    Effect.mapError((error) => asDeviceCodeError(error, []))
  )
}
