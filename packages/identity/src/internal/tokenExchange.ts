/**
 * One token request from form to answer: attempts under the retry schedule, each bounded by its time-out, the
 * body by its cap, the whole by one deadline; then the last outcome is interpreted.
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { identity } from "effect/Function"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import type { GrantType } from "../AuthenticationError.js"
import { AuthenticationError } from "../AuthenticationError.js"
import type { ClientParameters, RetryableFailure, RetrySchedule, TokenResponse } from "../TokenEndpoint.js"
import { readBounded } from "./boundedBody.js"
import { directAttempt, formPost } from "./directAttempt.js"
import type { ResolvedHttpOptions } from "./httpOptions.js"
import { annotate, isLiveClock } from "./liveServices.js"
import type { AnswerContext } from "./tokenAnswer.js"
import { innerCause, interpretOutcome } from "./tokenAnswer.js"
import { countRequest, countRetry, endpointUrls } from "./tokenExchangeParts.js"
import type { Outcome } from "./tokenRetry.js"
import { retryableFailure, retryAfterMillis, withinDeadline } from "./tokenRetry.js"
import type { Dispatcher, FormPost } from "./undiciExchange.js"

/** The form's values that are secrets: never quoted back in an error. */
const secretFields = [
  "client_secret",
  "client_assertion",
  "code",
  "code_verifier",
  "refresh_token",
  "device_code"
] as const

// RFC 7523 §2.2: a JWT authenticates the client.
const jwtBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

const onRetry = (failure: RetryableFailure, delayMs: number): Effect.Effect<void> =>
  Effect.all([
    annotate({ "entra.retries": failure.attempt }),
    countRetry(failure.grantType),
    Effect.logDebug("Retrying token request").pipe(Effect.annotateLogs({
      grantType: failure.grantType,
      attempt: failure.attempt,
      delayMs,
      ...(failure.status === undefined ? { failure: failure.kind } : { status: failure.status })
    }))
  ], { discard: true })

// Refused before sending, for callers that reach the endpoint without the credential's validation.
const refuse = (grantType: GrantType, cause: { readonly message: string }) =>
  new AuthenticationError({
    reason: "InvalidRequest",
    statusCode: 0,
    errorResponse: { error: "invalid_request", errorDescription: cause.message },
    grantType,
    attempts: 0,
    cause
  })

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

const requestHeaders = (): Readonly<Record<string, string>> => ({
  accept: "application/json",
  "client-request-id": crypto.randomUUID(),
  "return-client-request-id": "true",
  "x-client-sku": "effect-entra.identity",
  "x-client-ver": "0.1.0"
})

/** One token request: what every attempt sends. */
interface Run {
  readonly grantType: GrantType
  readonly url: string
  readonly form: Readonly<Record<string, string>>
  readonly headers: Readonly<Record<string, string>>
  /** The platform request, built on the first attempt that goes through the `HttpClient`. */
  request: HttpClientRequest.HttpClientRequest | undefined
  /** The direct path's form, built on its first attempt. */
  direct: { readonly url: URL; readonly post: FormPost } | undefined
  readonly secrets: ReadonlyArray<string>
  readonly deadlineAt: number
  /** The fiber's clock, read once per request. */
  readonly clock: Clock.Clock
}

const platformRequest = (run: Run): HttpClientRequest.HttpClientRequest =>
  run.request ??= HttpClientRequest.post(run.url, { headers: run.headers }).pipe(
    HttpClientRequest.bodyUrlParams(run.form)
  )

const directForm = (run: Run): { readonly url: URL; readonly post: FormPost } => {
  if (run.direct !== undefined) return run.direct
  const url = new URL(run.url)
  return run.direct = { url, post: formPost(url, run.headers, new URLSearchParams(run.form).toString()) }
}

/** The last attempt: its outcome and, once it is final, its interpretation (computed once). */
interface Last {
  attempt: number
  outcome: Outcome
  context: AnswerContext
  result: Either.Either<TokenResponse, AuthenticationError> | undefined
}

/**
 * Sends one attempt and reads its answer, all within `timeoutMs`; never fails: every end is an `Outcome`. On one of
 * `NodeHttp`'s own pools (`dispatcher`) and Effect's live clock, the attempt goes to the pool directly; any other
 * client, or a test clock, goes through the `HttpClient`.
 */
const makeSendOnce = (
  client: HttpClient.HttpClient,
  maxResponseBytes: number,
  dispatcher: Effect.Effect<Dispatcher> | undefined
) => {
  const viaClient = (run: Run, timeoutMs: number, onTimeout: () => Outcome): Effect.Effect<Outcome> =>
    Effect.catchAll(
      // The time-out covers the whole exchange, body included; the request is interrupted when it passes first.
      Effect.timeoutTo(
        Effect.flatMap(client.execute(platformRequest(run)), (response) => {
          const headers = response.headers
          return Effect.map(readBounded(response, maxResponseBytes, headers), (body): Outcome => ({
            _tag: "Answer",
            status: response.status,
            headers,
            body
          }))
        }),
        { duration: Duration.millis(timeoutMs), onTimeout, onSuccess: identity }
      ),
      (error: HttpClientError.HttpClientError) =>
        Effect.succeed<Outcome>({ _tag: "Transport", cause: innerCause(error) })
    )
  return (run: Run, timeoutMs: number, byDeadline: boolean): Effect.Effect<Outcome> => {
    const onTimeout = (): Outcome => ({ _tag: "Timeout", timeoutMs, byDeadline })
    if (dispatcher === undefined || !isLiveClock(run.clock)) return viaClient(run, timeoutMs, onTimeout)
    const { post, url } = directForm(run)
    return directAttempt(dispatcher, url, post, { timeoutMs, maxBytes: maxResponseBytes, onTimeout })
  }
}

/**
 * One attempt. It fails with the `RetryableFailure` the schedule decides on, else its outcome is final and
 * interpreted into `last`. A refresh token may be sent again, so a 200 that cannot be used (no token, impossible
 * lifetimes) is retried like a cut-off one; the code grant never is: that 200 has spent the code.
 */
const attempt = (
  sendOnce: ReturnType<typeof makeSendOnce>,
  requestTimeoutMs: number,
  run: Run,
  last: Last
): Effect.Effect<void, RetryableFailure> =>
  Effect.gen(function*() {
    const { grantType } = run
    const number = ++last.attempt
    const requestedOn = run.clock.unsafeCurrentTimeMillis()
    const remaining = Math.max(0, run.deadlineAt - requestedOn)
    const outcome = yield* sendOnce(run, Math.min(requestTimeoutMs, remaining), remaining < requestTimeoutMs)
    const retryAfterMs = outcome._tag === "Answer"
      ? retryAfterMillis(outcome.headers, run.clock.unsafeCurrentTimeMillis())
      : undefined
    last.outcome = outcome
    last.context = { ...last.context, attempts: number, requestedOn, retryAfterMs }
    last.result = undefined
    const failure = retryableFailure(outcome, grantType, number, retryAfterMs)
    if (failure !== undefined) return yield* Effect.fail(failure)
    const result = yield* Effect.either(interpretOutcome(outcome, last.context))
    last.result = result
    if (
      grantType === "refresh_token" && outcome._tag === "Answer" && outcome.status === 200 &&
      Either.isLeft(result) && result.left.reason === "InvalidResponse"
    ) {
      return yield* Effect.fail<RetryableFailure>({ grantType, attempt: number, kind: "IncompleteBody", status: 200 })
    }
  })

/**
 * `Effect.retry` after a first failure: the schedule is fed `first`, then each later failure, and the attempt runs
 * again after each delay it grants. Its driver is built only when an attempt failed: most requests succeed at once.
 */
const retrying = (
  once: Effect.Effect<void, RetryableFailure>,
  first: RetryableFailure,
  schedule: Schedule.Schedule<unknown, RetryableFailure>
): Effect.Effect<void> =>
  Effect.flatMap(Schedule.driver(schedule), (driver) => {
    const loop = (failure: RetryableFailure): Effect.Effect<void> =>
      Effect.matchEffect(driver.next(failure), {
        onFailure: () => Effect.void,
        onSuccess: () => Effect.catchAll(once, loop)
      })
    return loop(first)
  })

/** Builds the function that sends one token request with `client`. */
export const makeExchange = (
  client: HttpClient.HttpClient,
  settings: ResolvedHttpOptions,
  schedule: RetrySchedule,
  // The undici pool under `client` when it is one of NodeHttp's own (see `dispatcherOf`).
  dispatcher?: Effect.Effect<Dispatcher> | undefined
) => {
  const sendOnce = makeSendOnce(client, settings.maxResponseBytes, dispatcher)

  const send = (grantType: GrantType, url: string, form: Readonly<Record<string, string>>) =>
    Effect.clockWith((clock) => sendOn(clock, grantType, url, form))

  const sendOn = (clock: Clock.Clock, grantType: GrantType, url: string, form: Readonly<Record<string, string>>) =>
    Effect.gen(function*() {
      const secrets = secretFields.flatMap((name) => (form[name] === undefined ? [] : [form[name]]))
      const deadlineAt = clock.unsafeCurrentTimeMillis() + settings.deadlineMs
      const run: Run = {
        grantType,
        url,
        form,
        headers: requestHeaders(),
        request: undefined,
        direct: undefined,
        secrets,
        deadlineAt,
        clock
      }
      const last: Last = {
        attempt: 0,
        outcome: { _tag: "Transport", cause: undefined },
        context: { grantType, attempts: 0, requestedOn: 0, retryAfterMs: 0, secrets, deadlineMs: settings.deadlineMs },
        result: undefined
      }
      const once = attempt(sendOnce, settings.requestTimeoutMs, run, last)
      yield* Effect.catchAll(once, (failure) => retrying(once, failure, withinDeadline(schedule, deadlineAt, onRetry)))
      const outcome = last.outcome
      yield* annotate(
        outcome._tag === "Answer"
          ? { "entra.attempts": last.attempt, "http.response.status_code": outcome.status }
          : { "entra.attempts": last.attempt }
      )
      const result = last.result ?? (yield* Effect.either(interpretOutcome(outcome, last.context)))
      yield* countRequest(grantType, Either.isRight(result) ? "success" : result.left.errorResponse.error)
      return yield* result
    })

  const urls = endpointUrls()
  return (
    grantType: GrantType,
    parameters: ClientParameters,
    baseForm: Readonly<Record<string, string>>
  ): Effect.Effect<TokenResponse, AuthenticationError> =>
    Effect.suspend(() => {
      const url = urls(parameters.authority, parameters.tenantId)
      if (Either.isLeft(url)) return Effect.fail(refuse(grantType, url.left))
      return Effect.flatMap(withAssertion(parameters, url.right, baseForm), (form) => send(grantType, url.right, form))
    })
}
