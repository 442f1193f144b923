/**
 * Rate-limited warnings: a dead Redis must not flood the logs. The first warning of a kind is logged at once,
 * then at most one per interval, with how many were suppressed meanwhile. Errors are reduced to their class and
 * message (ioredis messages carry no command arguments, so no token or key material).
 *
 * @internal
 */
import * as Effect from "effect/Effect"

/** @internal */
export interface Warnings {
  readonly warn: (kind: string, message: string, error?: unknown) => Effect.Effect<void>
}

/** @internal */
export const describe = (error: unknown): string => {
  if (error instanceof Error) {
    const name = error.name === "Error" ? "" : `${error.name}: `
    return `${name}${error.message}`.slice(0, 200)
  }
  if (typeof error === "object" && error !== null && "_tag" in error) return String(error._tag)
  return "unknown error"
}

/** @internal */
export const make = (intervalMs = 10_000): Warnings => {
  const last = new Map<string, { at: number; suppressed: number }>()
  return {
    warn: (kind, message, error) =>
      Effect.clockWith((clock) => {
        const now = clock.unsafeCurrentTimeMillis()
        const state = last.get(kind)
        if (state !== undefined && now - state.at < intervalMs) {
          state.suppressed++
          return Effect.void
        }
        const suppressed = state?.suppressed ?? 0
        last.set(kind, { at: now, suppressed: 0 })
        return Effect.logWarning(message).pipe(Effect.annotateLogs({
          "redis.kind": kind,
          ...(error === undefined ? {} : { "redis.error": describe(error) }),
          ...(suppressed > 0 ? { "redis.suppressed": suppressed } : {})
        }))
      })
  }
}
