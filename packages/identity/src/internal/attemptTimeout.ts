/**
 * The time-out of one token request attempt: the attempt runs in a fiber of its own, interrupted (its HTTP request
 * aborted) when the time-out passes first.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import { isLiveClock } from "./liveServices.js"

/**
 * `self`'s value, or `onTimeout()` when `self` has not completed within `timeoutMs`; `self` is then interrupted.
 *
 * On Effect's live clock the timer is a plain timer beside the attempt's fiber: `Effect.timeoutTo` runs the timer
 * in a second fiber and joins the winner's fiber refs, which cost a cold redemption about as much CPU as the rest
 * of the exchange. Any other clock (a `TestClock`, a caller's own) gets `Effect.timeoutTo` and so sleeps on it.
 */
export const timeoutTo = <A, E>(
  self: Effect.Effect<A, E>,
  timeoutMs: number,
  onTimeout: () => A
): Effect.Effect<A, E> =>
  Effect.clockWith((clock) =>
    isLiveClock(clock)
      ? onLiveClock(self, timeoutMs, onTimeout)
      : Effect.timeoutTo(self, { duration: Duration.millis(timeoutMs), onTimeout, onSuccess: (a: A) => a })
  )

// Past the timer's range a time-out never fires (Node would fire it at once): the attempt just runs.
const maxTimerMs = 2 ** 31 - 1

const onLiveClock = <A, E>(self: Effect.Effect<A, E>, timeoutMs: number, onTimeout: () => A): Effect.Effect<A, E> =>
  Effect.uninterruptibleMask((restore) =>
    Effect.flatMap(Effect.forkDaemon(restore(self)), (fiber) =>
      restore(Effect.async<A, E>((resume) => {
        let settled = false
        const timer = timeoutMs > maxTimerMs ? undefined : setTimeout(() => {
          if (settled) return
          settled = true
          resume(Effect.as(Fiber.interrupt(fiber), onTimeout()))
        }, timeoutMs)
        fiber.addObserver((exit) => {
          if (settled) return
          settled = true
          clearTimeout(timer)
          resume(exit)
        })
        // The caller was interrupted: so is the attempt, and the timer is dropped.
        return Effect.suspend(() => {
          settled = true
          clearTimeout(timer)
          return Fiber.interrupt(fiber)
        })
      })))
  )
