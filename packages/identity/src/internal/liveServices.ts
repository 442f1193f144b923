/**
 * Whether a fiber runs on Effect's own services: the fast paths skip work that only a recording tracer or a test
 * clock could observe.
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as DefaultServices from "effect/DefaultServices"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Tracer from "effect/Tracer"

// A cache hit costs a map read and a span some fifty times more: a hit is a span only when a tracer records it.
const nativeTracer = Context.get(DefaultServices.liveServices, Tracer.Tracer)

/** Whether the current fiber runs on Effect's native tracer (no span is recorded anywhere). */
export const untraced = (): boolean => {
  const fiber = Fiber.getCurrentFiber()
  return Option.isNone(fiber) || fiber.value.currentTracer === nativeTracer
}

const liveClock = Context.get(DefaultServices.liveServices, Clock.Clock)

/** Whether `clock` is Effect's live clock, whose sleeps are plain timers (not a `TestClock` or a caller's own). */
export const isLiveClock = (clock: Clock.Clock): boolean => clock === liveClock

/**
 * `Effect.withSpan` when a tracer records spans. Under Effect's native tracer a span records nothing anyone reads,
 * yet costs a first sign-in dozens of runtime steps (its bracket, the context it provides) and random ids.
 */
export const spanned =
  (name: string, options: () => Tracer.SpanOptions) =>
  <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.suspend(() => untraced() ? self : Effect.withSpan(self, name, options()))

/** `Effect.annotateCurrentSpan` when a tracer records spans (under the native one, our spans are not made). */
export const annotate = (attributes: Record<string, unknown>): Effect.Effect<void> =>
  Effect.suspend(() => untraced() ? Effect.void : Effect.annotateCurrentSpan(attributes))
