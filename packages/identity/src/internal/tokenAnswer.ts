/**
 * Turns the last attempt's outcome into a token response or an `AuthenticationError`. Nothing here quotes a raw
 * body: errors keep Entra's allow-listed fields (see errorBody.ts), with the request's secrets blanked out.
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type { ErrorResponse, GrantType, Reason } from "../AuthenticationError.js"
import { AuthenticationError } from "../AuthenticationError.js"
import type { TokenResponse } from "../TokenEndpoint.js"
import { allowListed, excerpt, headerValue, redactSecrets, toErrorResponse } from "./errorBody.js"
import { annotate } from "./liveServices.js"
import { decodeTokenResponse } from "./tokenResponse.js"
import type { Outcome } from "./tokenRetry.js"
import { causeCode, isPermanentTransport } from "./tokenRetry.js"

/** What the interpretation needs besides the outcome. */
export interface AnswerContext {
  readonly grantType: GrantType
  readonly attempts: number
  readonly requestedOn: number
  readonly retryAfterMs: number | undefined
  /** The values the request sent that must never be quoted back: code, verifier, secret, refresh token. */
  readonly secrets: ReadonlyArray<string>
  readonly deadlineMs: number
}

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/** Interprets the final outcome of a token request. */
export const interpretOutcome = (
  outcome: Outcome,
  context: AnswerContext
): Effect.Effect<TokenResponse, AuthenticationError> => {
  const { attempts, grantType, secrets } = context
  const fail = (reason: Reason, statusCode: number, errorResponse: ErrorResponse, extra: {
    readonly body?: string | undefined
    readonly cause?: unknown
    readonly retryAfterMs?: number | undefined
  } = {}) => Effect.fail(new AuthenticationError({ reason, statusCode, errorResponse, grantType, attempts, ...extra }))

  switch (outcome._tag) {
    case "Timeout":
      return outcome.byDeadline
        ? fail("DeadlineExceeded", 0, {
          error: "deadline_exceeded",
          errorDescription: `The token request did not complete within its ${context.deadlineMs} ms deadline`
        })
        : fail("Timeout", 0, {
          error: "timeout",
          errorDescription: `The token request timed out after ${outcome.timeoutMs} ms`
        })
    case "Transport": {
      const permanent = isPermanentTransport(outcome.cause)
      return fail("Transport", 0, {
        error: "transport_error",
        errorDescription: `The token endpoint could not be reached: ${
          redactSecrets(describeCause(outcome.cause), secrets)
        }${permanent ? " (not retried: this fails the same way every time; check the CA certificates)" : ""}`
      }, { cause: outcome.cause })
    }
    case "Answer":
      return interpretAnswer(outcome, context, fail)
  }
}

const interpretAnswer = (
  answer: Extract<Outcome, { readonly _tag: "Answer" }>,
  context: AnswerContext,
  fail: (
    reason: Reason,
    statusCode: number,
    errorResponse: ErrorResponse,
    extra?: { readonly body?: string | undefined; readonly cause?: unknown; readonly retryAfterMs?: number | undefined }
  ) => Effect.Effect<never, AuthenticationError>
): Effect.Effect<TokenResponse, AuthenticationError> => {
  const { headers, status } = answer
  const { retryAfterMs, secrets } = context
  const errorReason: Reason = status >= 400 ? "ErrorResponse" : "InvalidResponse"
  // Only an error quotes the request id, and scrubbing it of the request's secrets is not free: not on success.
  const traceId = () => headerValue(headers["x-ms-request-id"], secrets)
  if (answer.body._tag === "TooLarge") {
    return fail("ResponseTooLarge", status, {
      error: "response_too_large",
      errorDescription: `The token endpoint's HTTP ${status} answer is larger than ${answer.body.maxBytes} bytes`,
      traceId: traceId()
    })
  }
  if (answer.body._tag === "Broken") {
    return fail(errorReason, status, {
      error: status >= 500 ? "server_error" : "invalid_response",
      errorDescription: `The token endpoint's HTTP ${status} answer broke off before its body was complete`,
      traceId: traceId()
    }, { cause: innerCause(answer.body.cause) })
  }
  const { text } = answer.body
  const parsed = parseJson(text)
  if (status === 200) {
    const decoded = decodeTokenResponse(parsed, context.requestedOn)
    if (Either.isRight(decoded)) return Effect.succeed(decoded.right)
    return fail("InvalidResponse", status, {
      error: "invalid_response",
      errorDescription: `The token endpoint answered HTTP 200 with an unusable token response: ${decoded.left}`,
      traceId: traceId()
    }, { body: isObject(parsed) ? allowListed(parsed, secrets).body : excerpt(text, secrets) })
  }
  if (isObject(parsed)) {
    const { body, fields } = allowListed(parsed, secrets)
    const errorResponse = toErrorResponse(fields, traceId())
    if (errorResponse !== undefined) {
      return annotate({
        "entra.error": errorResponse.error,
        ...(errorResponse.errorCodes?.[0] === undefined ? {} : { "entra.aadsts": errorResponse.errorCodes[0] })
      }).pipe(Effect.zipRight(fail(errorReason, status, errorResponse, { body, retryAfterMs })))
    }
  }
  const contentType = headerValue(headers["content-type"]?.split(";")[0], secrets, 64)
  return fail(errorReason, status, {
    error: status === 429 ? "too_many_requests" : status >= 500 ? "server_error" : "invalid_response",
    errorDescription: `The token endpoint answered HTTP ${status} with a body that is not an OAuth error ` +
      `(${contentType !== undefined && /^[\w.+-]+\/[\w.+-]+$/.test(contentType) ? contentType : "no content type"})`,
    traceId: traceId()
  }, { body: isObject(parsed) ? allowListed(parsed, secrets).body : excerpt(text, secrets), retryAfterMs })
}

const describeCause = (cause: unknown): string => {
  const inner = (cause as { readonly cause?: unknown } | undefined)?.cause ?? cause
  if (inner instanceof Error) {
    const code = causeCode(inner)
    return (typeof code === "string" ? `${code} ${inner.message}` : inner.message).trim().slice(0, 512)
  }
  return "network error"
}

/**
 * The socket- or parser-level cause of an `HttpClientError`, never the error itself: it holds the request, whose
 * form body carries the client secret and the code or refresh token.
 */
export const innerCause = (error: unknown): unknown =>
  typeof error === "object" && error !== null && "cause" in error ? error.cause : undefined
