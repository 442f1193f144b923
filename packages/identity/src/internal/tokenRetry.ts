/**
 * Which failed attempts may be retried, the default retry schedule, and the guard that keeps any schedule within
 * the request's deadline.
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Random from "effect/Random"
import * as Schedule from "effect/Schedule"
import type { GrantType } from "../AuthenticationError.js"
import type { RetryableFailure, RetrySchedule } from "../TokenEndpoint.js"
import type { BodyRead } from "./boundedBody.js"

/** One attempt's outcome, before interpretation. */
export type Outcome =
  | {
    readonly _tag: "Answer"
    readonly status: number
    readonly headers: Readonly<Record<string, string>>
    readonly body: BodyRead
  }
  | { readonly _tag: "Transport"; readonly cause: unknown }
  /** `byDeadline`: the attempt was cut short by the overall deadline, not by its own time-out. */
  | { readonly _tag: "Timeout"; readonly timeoutMs: number; readonly byDeadline: boolean }

const isRetryableStatus = (status: number) =>
  status === 408 || status === 429 || (status >= 500 && status <= 599 && status !== 501 && status !== 505)

// A rejected certificate, or a CA option that is not a certificate, fails the same way on every attempt.
const permanentCodes = /CERT|SELF_SIGNED|UNABLE_TO_(?:VERIFY|GET)|ERR_TLS_CERT|HOSTNAME_MISMATCH|INVALID_CA/

/** The `code` of the first error in a cause chain that has one (undici nests the socket's error). */
export const causeCode = (cause: unknown): string | undefined => {
  let current = cause
  for (let depth = 0; depth < 5 && typeof current === "object" && current !== null; depth++) {
    const code = (current as { readonly code?: unknown }).code
    if (typeof code === "string") return code
    current = (current as { readonly cause?: unknown }).cause
  }
  return undefined
}

/** True when retrying cannot help: a TLS certificate was rejected, or the configured CA is not a certificate. */
export const isPermanentTransport = (cause: unknown): boolean => permanentCodes.test(causeCode(cause) ?? "")

/**
 * The retryable failure an outcome is, or `undefined` when it is final. The code grant is not idempotent: once a
 * 200 has arrived the code is spent, so an unreadable 200 is retried for a refresh token only.
 */
export const retryableFailure = (
  outcome: Outcome,
  grantType: GrantType,
  attempt: number,
  retryAfterMs: number | undefined
): RetryableFailure | undefined => {
  switch (outcome._tag) {
    case "Transport":
      return isPermanentTransport(outcome.cause) ? undefined : { grantType, attempt, kind: "Transport" }
    case "Timeout":
      return outcome.byDeadline ? undefined : { grantType, attempt, kind: "Timeout" }
    case "Answer": {
      if (isRetryableStatus(outcome.status) && outcome.body._tag !== "TooLarge") {
        return { grantType, attempt, kind: "Status", status: outcome.status, retryAfterMs }
      }
      if (outcome.status === 200 && outcome.body._tag === "Broken" && grantType === "refresh_token") {
        return { grantType, attempt, kind: "IncompleteBody", status: 200 }
      }
      return undefined
    }
  }
}

/** The settings the default schedule is built from, in ms. */
export interface RetrySettings {
  readonly maxAttempts: number
  readonly baseDelayMs: number
  readonly maxDelayMs: number
  readonly maxRetryAfterMs: number
}

/**
 * Up to `maxAttempts` attempts; before each retry, exactly the server's `Retry-After` when it sent one no longer
 * than `maxRetryAfter` (a longer one stops retrying), else `min(maxDelay, baseDelay × 2^(n−1))` times a random
 * factor in [0.5, 1).
 */
export const makeRetrySchedule = (settings: RetrySettings): RetrySchedule =>
  Schedule.identity<RetryableFailure>().pipe(
    Schedule.whileInput((failure) =>
      failure.attempt < settings.maxAttempts &&
      (failure.retryAfterMs === undefined || failure.retryAfterMs <= settings.maxRetryAfterMs)
    ),
    Schedule.addDelayEffect((failure) =>
      failure.retryAfterMs !== undefined
        ? Effect.succeed(Duration.millis(failure.retryAfterMs))
        : Effect.map(Random.next, (random) => {
          const exponential = Math.min(settings.maxDelayMs, settings.baseDelayMs * 2 ** (failure.attempt - 1))
          return Duration.millis(Math.round(exponential * (0.5 + random / 2)))
        })
    )
  )

/**
 * Runs `schedule`, but stops retrying when its next delay would end at or after `deadlineAt` (epoch ms): the
 * last failure is then reported as it is, rather than a wait that cannot finish in time. `onRetry` runs before
 * each wait that is kept.
 */
export const withinDeadline = (
  schedule: RetrySchedule,
  deadlineAt: number,
  onRetry: (failure: RetryableFailure, delayMs: number) => Effect.Effect<void>
): Schedule.Schedule<Duration.Duration, RetryableFailure> =>
  Schedule.delays(schedule).pipe(
    Schedule.checkEffect((failure, delay) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        const delayMs = Duration.toMillis(delay)
        if (now + delayMs >= deadlineAt) return Effect.succeed(false)
        return Effect.as(onRetry(failure, delayMs), true)
      })
    )
  )

/**
 * `retry-after-ms` / `x-ms-retry-after-ms` (ms), else `Retry-After` in seconds or as an HTTP date (counted from
 * `nowMs`, the clock's epoch ms).
 */
export const retryAfterMillis = (headers: Readonly<Record<string, string>>, nowMs: number): number | undefined => {
  for (const name of ["retry-after-ms", "x-ms-retry-after-ms"]) {
    const value = headers[name]
    if (value !== undefined && /^\d{1,12}$/.test(value.trim())) return Number(value.trim())
  }
  const value = headers["retry-after"]?.trim()
  if (value === undefined || value === "") return undefined
  if (/^\d{1,10}$/.test(value)) return Number(value) * 1000
  const date = Date.parse(value)
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs)
}
