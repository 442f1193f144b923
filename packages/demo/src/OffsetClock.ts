/**
 * A `Clock` that can be moved forward, so the demo can show a proactive refresh without waiting 55 minutes.
 * The credential reads time only through `Clock`, so providing this one is all it takes.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"

/**
 * @since 0.1.0
 * @category models
 */
export interface OffsetClock extends Clock.Clock {
  readonly advance: (millis: number) => void
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = (): OffsetClock => {
  const base = Clock.make()
  let offset = 0
  const millis = () => base.unsafeCurrentTimeMillis() + offset
  const nanos = () => base.unsafeCurrentTimeNanos() + BigInt(offset) * 1_000_000n
  return {
    [Clock.ClockTypeId]: Clock.ClockTypeId,
    unsafeCurrentTimeMillis: millis,
    currentTimeMillis: Effect.sync(millis),
    unsafeCurrentTimeNanos: nanos,
    currentTimeNanos: Effect.sync(nanos),
    // Sleeping stays real: only "now" moves.
    sleep: (duration) => base.sleep(duration),
    advance: (ms) => {
      offset += ms
    }
  }
}
