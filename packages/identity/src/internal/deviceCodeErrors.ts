/**
 * The device-code grant's failures as `AuthenticationError`s: the token exchange's errors re-issued with the device
 * code blanked out of every text, and the expiry the client itself notices.
 *
 * @internal
 */
import { AuthenticationError } from "../AuthenticationError.js"
import { redactSecrets } from "./errorBody.js"

/** The OAuth errors of the polling step (RFC 8628 §3.5; `authorization_declined` is Entra's `access_denied`). */
export const pollingErrors = {
  pending: "authorization_pending",
  slowDown: "slow_down",
  expired: "expired_token",
  declined: "authorization_declined"
} as const

/**
 * The same error, grant type `device_code`, the `secrets` blanked out of its texts (the exchange blanks the device
 * code already; this also covers the device authorization request's answer).
 */
export const asDeviceCodeError = (error: AuthenticationError, secrets: ReadonlyArray<string>): AuthenticationError => {
  const clean = (text: string) => redactSecrets(text, secrets)
  return new AuthenticationError({
    reason: error.reason,
    statusCode: error.statusCode,
    grantType: "device_code",
    errorResponse: { ...error.errorResponse, errorDescription: clean(error.errorResponse.errorDescription) },
    attempts: error.attempts,
    retryAfterMs: error.retryAfterMs,
    body: error.body === undefined ? undefined : clean(error.body),
    cause: error.cause
  })
}

/** The code's lifetime ran out on the client's clock before Entra said so (or before the user finished). */
export const expiredOnClient = (expiresInSeconds: number): AuthenticationError =>
  new AuthenticationError({
    reason: "DeadlineExceeded",
    statusCode: 0,
    errorResponse: {
      error: pollingErrors.expired,
      errorDescription: `The device code expired after ${expiresInSeconds} s before the user completed the sign-in`
    },
    grantType: "device_code",
    attempts: 0
  })
