/**
 * The polling step of the device authorization grant (RFC 8628 §3.4, §3.5): the token request with the device
 * code, every `interval` seconds, five seconds more after each `slow_down`, until tokens, a final error, or the
 * end of the code's lifetime. Waits are `Effect.sleep`s (the `Clock` drives them) and interruptible: an
 * interrupted poll sends nothing more.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import type { AuthenticationError } from "../AuthenticationError.js"
import type { ClientParameters, TokenResponse } from "../TokenEndpoint.js"
import type { DeviceAuthorization } from "./deviceCodeAuthorization.js"
import { asDeviceCodeError, expiredOnClient, pollingErrors } from "./deviceCodeErrors.js"
import type { makeExchange } from "./tokenExchange.js"

/** RFC 8628 §3.4. */
export const deviceCodeGrantType = "urn:ietf:params:oauth:grant-type:device_code"

/** RFC 8628 §3.5: after `slow_down`, the interval grows by 5 s for this and every later poll. */
export const slowDownStepSeconds = 5

/** One token request with a form; the token endpoint's own (retries, time-outs, body cap, error mapping). */
export type Exchange = ReturnType<typeof makeExchange>

const pollForm = (parameters: ClientParameters, deviceCode: Redacted.Redacted<string>): Record<string, string> => {
  const form: Record<string, string> = {
    client_id: parameters.clientId,
    grant_type: deviceCodeGrantType,
    device_code: Redacted.value(deviceCode),
    // MSAL's extension, as for the other grants: the answer names the account ({uid}.{utid}).
    client_info: "1"
  }
  if (parameters.clientSecret !== undefined) form.client_secret = Redacted.value(parameters.clientSecret)
  return form
}

/**
 * Polls until the user has signed in (the token response), declined, or the code has expired. The exchange counts
 * and names the polls `device_code`, and never resends a 200 for them: like a code, a device code is spent by the
 * 200 that answers it.
 */
export const pollForToken = (
  exchange: Exchange,
  parameters: ClientParameters,
  authorization: DeviceAuthorization
): Effect.Effect<TokenResponse, AuthenticationError> =>
  Effect.gen(function*() {
    const deadline = authorization.requestedOn + authorization.expiresIn * 1000
    const secrets = [Redacted.value(authorization.deviceCode)]
    let intervalSeconds = authorization.interval
    for (let attempt = 1;; attempt++) {
      const wait = Math.min(intervalSeconds * 1000, deadline - (yield* Clock.currentTimeMillis))
      if (wait <= 0) return yield* expiredOnClient(authorization.expiresIn)
      yield* Effect.sleep(wait)
      if ((yield* Clock.currentTimeMillis) >= deadline) return yield* expiredOnClient(authorization.expiresIn)
      yield* Effect.annotateCurrentSpan("entra.device_code.polls", attempt)
      const answer = yield* Effect.either(
        exchange("device_code", parameters, pollForm(parameters, authorization.deviceCode))
      )
      if (Either.isRight(answer)) return answer.right
      const error = answer.left.errorResponse.error
      if (error === pollingErrors.pending) continue
      if (error === pollingErrors.slowDown) {
        intervalSeconds += slowDownStepSeconds
        continue
      }
      return yield* asDeviceCodeError(answer.left, secrets)
    }
  })
