/**
 * One in-flight effect per key: concurrent callers share its result. The effect runs in the owner's scope, so a
 * caller that is interrupted does not cancel it for the others; when every caller has gone, it is interrupted
 * too, unless it must finish (an authorization code that is being redeemed must not be lost mid-flight).
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import type * as Scope from "effect/Scope"

/** @internal */
export interface SingleFlight {
  readonly run: <A, E>(
    key: string,
    effect: Effect.Effect<A, E>,
    options?: { readonly finishWhenAbandoned?: boolean | undefined }
  ) => Effect.Effect<A, E>
  /** How many flights are under way (for tests and diagnostics). */
  readonly size: () => number
}

interface Flight {
  readonly deferred: Deferred.Deferred<any, any>
  waiters: number
  fiber: Fiber.RuntimeFiber<unknown, never> | undefined
  readonly finishWhenAbandoned: boolean
}

/** @internal */
export const make = (scope: Scope.Scope): SingleFlight => {
  const flights = new Map<string, Flight>()

  const leave = (key: string, flight: Flight, interrupted: boolean) =>
    Effect.suspend(() => {
      flight.waiters--
      if (!interrupted || flight.waiters > 0 || flight.finishWhenAbandoned) return Effect.void
      if (flights.get(key) === flight) flights.delete(key)
      return flight.fiber === undefined ? Effect.void : Fiber.interruptFork(flight.fiber)
    })

  const run = <A, E>(
    key: string,
    effect: Effect.Effect<A, E>,
    options?: { readonly finishWhenAbandoned?: boolean | undefined }
  ): Effect.Effect<A, E> =>
    Effect.uninterruptibleMask((restore) =>
      Effect.gen(function*() {
        let flight = flights.get(key)
        if (flight === undefined) {
          const deferred = yield* Deferred.make<A, E>()
          const created: Flight = {
            deferred,
            waiters: 0,
            fiber: undefined,
            finishWhenAbandoned: options?.finishWhenAbandoned ?? false
          }
          flight = created
          flights.set(key, created)
          // Forked fibers inherit the mask: make the flight itself interruptible again (time-outs, abandonment).
          created.fiber = yield* Effect.interruptible(effect).pipe(
            Effect.exit,
            Effect.flatMap((exit) => Deferred.done(deferred, exit)),
            Effect.ensuring(Effect.sync(() => {
              if (flights.get(key) === created) flights.delete(key)
            })),
            Effect.forkIn(scope)
          )
        }
        const joined = flight
        joined.waiters++
        return yield* restore(Deferred.await(joined.deferred as Deferred.Deferred<A, E>)).pipe(
          Effect.onExit((exit) => leave(key, joined, Exit.isFailure(exit) && Cause.isInterruptedOnly(exit.cause)))
        )
      })
    )

  return { run, size: () => flights.size }
}
