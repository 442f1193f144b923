/**
 * One token request from form to answer: attempts under the retry schedule, each bounded by its time-out, the
 * body by its cap, the whole by one deadline; then the last outcome is interpreted.
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Metric from "effect/Metric"
import * as Redacted from "effect/Redacted"
import type { GrantType } from "../AuthenticationError.js"
import { AuthenticationError } from "../AuthenticationError.js"
import { normalizeAuthority, tokenEndpoint, validateTenantId } from "../Authority.js"
import * as CredentialMetrics from "../CredentialMetrics.js"
import type { ClientParameters, RetryableFailure, RetrySchedule, TokenResponse } from "../TokenEndpoint.js"
import { readBounded } from "./boundedBody.js"
import type { ResolvedHttpOptions } from "./httpOptions.js"
import type { AnswerContext } from "./tokenAnswer.js"
import { innerCause, interpretOutcome } from "./tokenAnswer.js"
import type { Outcome } from "./tokenRetry.js"
import { retryableFailure, retryAfterMillis, withinDeadline } from "./tokenRetry.js"

/** The form's values that are secrets: never quoted back in an error. */
const secretFields = ["client_secret", "client_assertion", "code", "code_verifier", "refresh_token"] as const

// RFC 7523 §2.2: a JWT authenticates the client.
const jwtBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

const countRequest = (grantType: GrantType, outcome: string) =>
  Metric.increment(
    Metric.tagged(Metric.tagged(CredentialMetrics.tokenRequests, "grant_type", grantType), "outcome", outcome)
  )

const onRetry = (failure: RetryableFailure, delayMs: number): Effect.Effect<void> =>
  Effect.all([
    Effect.annotateCurrentSpan("entra.retries", failure.attempt),
    Metric.increment(Metric.tagged(CredentialMetrics.tokenRequestRetries, "grant_type", failure.grantType)),
    Effect.logDebug("Retrying token request").pipe(Effect.annotateLogs({
      grantType: failure.grantType,
      attempt: failure.attempt,
      delayMs,
      ...(failure.status === undefined ? { failure: failure.kind } : { status: failure.status })
    }))
  ], { discard: true })

// Refused before sending, for callers that reach the endpoint without the credential's validation.
const refuse = (grantType: GrantType, cause: unknown, description: string) =>
  new AuthenticationError({
    reason: "InvalidRequest",
    statusCode: 0,
    errorResponse: { error: "invalid_request", errorDescription: description },
    grantType,
    attempts: 0,
    cause
  })

/**
 * A refresh token may be sent again, so a 200 that cannot be used (no token, impossible lifetimes) is retried like a
 * cut-off one. The code grant never is: that 200 has spent the code.
 */
const isUnusableRefreshAnswer = (outcome: Outcome, context: AnswerContext): Effect.Effect<boolean> =>
  context.grantType === "refresh_token" && outcome._tag === "Answer" && outcome.status === 200
    ? Effect.match(interpretOutcome(outcome, context), {
      onFailure: (error) => error.reason === "InvalidResponse",
      onSuccess: () => false
    })
    : Effect.succeed(false)

/** One assertion per token request (its retries reuse it): `aud` is this very endpoint. */
const withAssertion = (
  parameters: ClientParameters,
  url: string,
  form: Readonly<Record<string, string>>
): Effect.Effect<Readonly<Record<string, string>>, AuthenticationError> =>
  parameters.clientAssertion === undefined ? Effect.succeed(form) : Effect.map(
    parameters.clientAssertion(url),
    (assertion) => ({ ...form, client_assertion_type: jwtBearer, client_assertion: Redacted.value(assertion) })
  )

/** Builds the function that sends one token request with `client`. */
export const makeExchange = (
  client: HttpClient.HttpClient,
  settings: ResolvedHttpOptions,
  schedule: RetrySchedule
) => {
  const sendOnce = (request: HttpClientRequest.HttpClientRequest, timeoutMs: number, byDeadline: boolean) =>
    client.execute(request).pipe(
      Effect.flatMap((response) =>
        Effect.map(readBounded(response, settings.maxResponseBytes), (body): Outcome => ({
          _tag: "Answer",
          status: response.status,
          headers: response.headers,
          body
        }))
      ),
      // The time-out covers the whole exchange, body included.
      Effect.timeoutTo({
        duration: Duration.millis(timeoutMs),
        onTimeout: (): Outcome => ({ _tag: "Timeout", timeoutMs, byDeadline }),
        onSuccess: (outcome) => outcome
      }),
      Effect.catchAll((error: HttpClientError.HttpClientError) =>
        Effect.succeed<Outcome>({ _tag: "Transport", cause: innerCause(error) })
      )
    )

  return (
    grantType: GrantType,
    parameters: ClientParameters,
    baseForm: Readonly<Record<string, string>>
  ): Effect.Effect<TokenResponse, AuthenticationError> =>
    Effect.gen(function*() {
      const tenant = validateTenantId(parameters.tenantId)
      if (Either.isLeft(tenant)) return yield* refuse(grantType, tenant.left, tenant.left.message)
      const authority = normalizeAuthority(parameters.authority)
      if (Either.isLeft(authority)) return yield* refuse(grantType, authority.left, authority.left.message)
      const url = tokenEndpoint(authority.right, tenant.right)
      const form = yield* withAssertion(parameters, url, baseForm)
      const request = HttpClientRequest.post(url).pipe(
        HttpClientRequest.acceptJson,
        HttpClientRequest.setHeaders({
          "client-request-id": crypto.randomUUID(),
          "return-client-request-id": "true",
          "x-client-sku": "effect-entra.identity",
          "x-client-ver": "0.1.0"
        }),
        HttpClientRequest.bodyUrlParams(form)
      )
      const secrets = secretFields.flatMap((name) => (form[name] === undefined ? [] : [form[name]]))
      const deadlineAt = (yield* Clock.currentTimeMillis) + settings.deadlineMs
      let attempt = 0
      let last = {
        outcome: { _tag: "Transport", cause: undefined } as Outcome,
        requestedOn: 0,
        retryAfterMs: 0 as number | undefined
      }
      const once = Effect.gen(function*() {
        attempt++
        const requestedOn = yield* Clock.currentTimeMillis
        const remaining = Math.max(0, deadlineAt - requestedOn)
        const outcome = yield* sendOnce(
          request,
          Math.min(settings.requestTimeoutMs, remaining),
          remaining < settings.requestTimeoutMs
        )
        const retryAfterMs = outcome._tag === "Answer" ? yield* retryAfterMillis(outcome.headers) : undefined
        last = { outcome, requestedOn, retryAfterMs }
        const failure = retryableFailure(outcome, grantType, attempt, retryAfterMs)
        if (failure !== undefined) return yield* Effect.fail(failure)
        const context = {
          grantType,
          attempts: attempt,
          requestedOn,
          retryAfterMs,
          secrets,
          deadlineMs: settings.deadlineMs
        }
        if (yield* isUnusableRefreshAnswer(outcome, context)) {
          return yield* Effect.fail<RetryableFailure>({ grantType, attempt, kind: "IncompleteBody", status: 200 })
        }
      })
      yield* Effect.ignore(Effect.retry(once, withinDeadline(schedule, deadlineAt, onRetry)))
      yield* Effect.annotateCurrentSpan("entra.attempts", attempt)
      if (last.outcome._tag === "Answer") {
        yield* Effect.annotateCurrentSpan("http.response.status_code", last.outcome.status)
      }
      return yield* interpretOutcome(last.outcome, {
        grantType,
        attempts: attempt,
        requestedOn: last.requestedOn,
        retryAfterMs: last.retryAfterMs,
        secrets,
        deadlineMs: settings.deadlineMs
      }).pipe(Effect.tapBoth({
        onFailure: (error) => countRequest(grantType, error.errorResponse.error),
        onSuccess: () => countRequest(grantType, "success")
      }))
    })
}
