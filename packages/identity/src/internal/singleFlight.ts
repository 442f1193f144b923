/**
 * One in-flight effect per key: concurrent callers share its result. The effect runs in the owner's scope, so a
 * caller that is interrupted does not cancel it for the others; when every caller has gone, it is interrupted
 * too, unless it must finish (an authorization code that is being redeemed must not be lost mid-flight).
 *
 * @internal
 */
import * as Effect from "effect/Effect"
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
  readonly fiber: Fiber.RuntimeFiber<any, any>
  waiters: number
  readonly finishWhenAbandoned: boolean
}

/** @internal */
export const make = (scope: Scope.Scope): SingleFlight => {
  const flights = new Map<string, Flight>()

  // A waiter interrupted: the last one gone interrupts the flight, unless it must finish.
  const abandon = (key: string, flight: Flight): Effect.Effect<void> => {
    if (flight.waiters > 0 || flight.finishWhenAbandoned) return Effect.void
    if (flights.get(key) === flight) flights.delete(key)
    return Fiber.interruptFork(flight.fiber)
  }

  // The flight's fiber, in the owner's scope. `Fiber.await` rather than `join`: a waiter takes the result, not the
  // flight's fiber references, whose merge would cost each first call more than the rest of this.
  const start = <A, E>(key: string, effect: Effect.Effect<A, E>, finishWhenAbandoned: boolean) =>
    Effect.map(
      // Forked fibers inherit the mask: make the flight itself interruptible again (time-outs, abandonment).
      Effect.forkIn(Effect.interruptible(effect), scope),
      (fiber): Flight => {
        const flight: Flight = { fiber, waiters: 0, finishWhenAbandoned }
        flights.set(key, flight)
        fiber.addObserver(() => {
          if (flights.get(key) === flight) flights.delete(key)
        })
        return flight
      }
    )

  const join = <A, E>(
    key: string,
    flight: Flight,
    restore: <X, Y, Z>(e: Effect.Effect<X, Y, Z>) => Effect.Effect<X, Y, Z>
  ) => {
    flight.waiters++
    return Effect.matchCauseEffect(restore(Fiber.await(flight.fiber as Fiber.RuntimeFiber<A, E>)), {
      onFailure: (cause): Effect.Effect<A, E> => {
        flight.waiters--
        return Effect.zipRight(abandon(key, flight), Effect.failCause(cause))
      },
      onSuccess: (exit): Effect.Effect<A, E> => {
        flight.waiters--
        return exit
      }
    })
  }

  const run = <A, E>(
    key: string,
    effect: Effect.Effect<A, E>,
    options?: { readonly finishWhenAbandoned?: boolean | undefined }
  ): Effect.Effect<A, E> =>
    Effect.uninterruptibleMask((restore) => {
      const flight = flights.get(key)
      if (flight !== undefined) return join<A, E>(key, flight, restore)
      return Effect.flatMap(
        start(key, effect, options?.finishWhenAbandoned ?? false),
        (started) => join<A, E>(key, started, restore)
      )
    })

  return { run, size: () => flights.size }
}
