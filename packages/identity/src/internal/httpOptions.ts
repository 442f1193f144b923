/**
 * Validation of the token endpoint's HTTP settings. `Duration.decode` turns `NaN` and negative numbers into a
 * zero duration (a time-out of 0 on every call), so raw inputs are checked before they are decoded.
 */
import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import { InvalidOptionError } from "../AuthenticationError.js"

/** The settings after validation, in milliseconds. */
export interface ResolvedHttpOptions {
  readonly maxAttempts: number
  readonly baseDelayMs: number
  readonly maxDelayMs: number
  readonly maxRetryAfterMs: number
  readonly requestTimeoutMs: number
  readonly deadlineMs: number
  readonly maxResponseBytes: number
}

/** The raw settings, as `TokenEndpoint.Options` names them (the retry schedule is checked by its type). */
export interface HttpOptionsInput {
  readonly maxAttempts?: unknown
  readonly baseDelay?: unknown
  readonly maxDelay?: unknown
  readonly maxRetryAfter?: unknown
  readonly requestTimeout?: unknown
  readonly deadline?: unknown
  readonly maxResponseBytes?: unknown
}

const second = 1000
const minute = 60 * second

/** Defaults and bounds; the bounds keep a typo (`30000` seconds) from becoming a hang. */
export const httpBounds = {
  maxAttempts: { default: 4, min: 1, max: 10 },
  baseDelay: { default: 800, min: 0, max: minute },
  maxDelay: { default: 30 * second, min: 0, max: 10 * minute },
  maxRetryAfter: { default: 60 * second, min: 0, max: 10 * minute },
  requestTimeout: { default: 30 * second, min: 1, max: 10 * minute },
  deadline: { default: 60 * second, min: 1, max: 60 * minute },
  maxResponseBytes: { default: 1024 * 1024, min: 1024, max: 64 * 1024 * 1024 }
} as const

const unitMillis: Record<string, number> = {
  nano: 1e-6,
  micro: 1e-3,
  milli: 1,
  second,
  minute,
  hour: 60 * minute,
  day: 24 * 60 * minute,
  week: 7 * 24 * 60 * minute
}

/** Milliseconds of a `DurationInput`, keeping the sign and `NaN` that `Duration.decode` would hide. */
const rawMillis = (input: unknown): number | undefined => {
  if (typeof input === "number") return input
  if (typeof input === "string") {
    const match = /^(-?\d+(?:\.\d+)?)\s+(nano|micro|milli|second|minute|hour|day|week)s?$/.exec(input.trim())
    return match === null ? undefined : Number(match[1]) * unitMillis[match[2]]
  }
  const decoded = Duration.decodeUnknown(input)
  if (Option.isNone(decoded)) return undefined
  return Duration.isFinite(decoded.value) ? Duration.toMillis(decoded.value) : Infinity
}

const checkDuration = (
  field: keyof typeof httpBounds,
  input: unknown
): Either.Either<number, InvalidOptionError> => {
  const bounds = httpBounds[field]
  if (input === undefined) return Either.right(bounds.default)
  const ms = rawMillis(input)
  if (ms === undefined || !Number.isFinite(ms)) {
    return Either.left(new InvalidOptionError({ field, reason: "not a finite duration" }))
  }
  if (ms < bounds.min || ms > bounds.max) {
    return Either.left(new InvalidOptionError({ field, reason: `must be between ${bounds.min} and ${bounds.max} ms` }))
  }
  return Either.right(ms)
}

/** A whole number within bounds; `field` names it in the error. */
export const checkWhole = (
  field: string,
  input: unknown,
  bounds: { readonly default: number; readonly min: number; readonly max: number }
): Either.Either<number, InvalidOptionError> => {
  if (input === undefined) return Either.right(bounds.default)
  if (typeof input !== "number" || !Number.isInteger(input) || input < bounds.min || input > bounds.max) {
    return Either.left(
      new InvalidOptionError({ field, reason: `must be a whole number from ${bounds.min} to ${bounds.max}` })
    )
  }
  return Either.right(input)
}

/**
 * Checks every setting. The deadline defaults to 60 s, or to one `requestTimeout` when that is longer, so a
 * caller who allows one attempt ten minutes is not cut short by a default they never chose.
 */
export const resolveHttpOptions = (
  options: HttpOptionsInput | undefined
): Either.Either<ResolvedHttpOptions, InvalidOptionError> =>
  Either.gen(function*() {
    if (options !== undefined && (typeof options !== "object" || options === null)) {
      return yield* Either.left(new InvalidOptionError({ field: "http", reason: "must be an options object" }))
    }
    const o = options ?? {}
    const requestTimeoutMs = yield* checkDuration("requestTimeout", o.requestTimeout)
    const deadline = o.deadline === undefined
      ? Math.max(httpBounds.deadline.default, requestTimeoutMs)
      : yield* checkDuration("deadline", o.deadline)
    return {
      maxAttempts: yield* checkWhole("maxAttempts", o.maxAttempts, httpBounds.maxAttempts),
      baseDelayMs: yield* checkDuration("baseDelay", o.baseDelay),
      maxDelayMs: yield* checkDuration("maxDelay", o.maxDelay),
      maxRetryAfterMs: yield* checkDuration("maxRetryAfter", o.maxRetryAfter),
      requestTimeoutMs,
      deadlineMs: deadline,
      maxResponseBytes: yield* checkWhole("maxResponseBytes", o.maxResponseBytes, httpBounds.maxResponseBytes)
    }
  })
