/**
 * Fleet-wide single-flight. `withLease(key, ttl, effect)` runs `effect` in exactly one process among all that
 * share the Redis: the holder takes `SET lease token NX PX ttl`, extends it while the work runs, and releases it
 * with a compare-and-delete, leaving a short "done" marker. The others wait (bounded polling, 25 → 200 ms) until
 * the lease is gone and return `None`, so the caller re-reads the cache; a caller that arrives just after a holder
 * finished gets `None` at once. A holder that dies stops extending its lease, which then expires and another
 * process takes over. When Redis is unavailable the lease degrades to a single-flight inside this process.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as FiberId from "effect/FiberId"
import * as Option from "effect/Option"
import * as Crypto from "node:crypto"
import type * as Ops from "./internal/ops.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The key namespace, e.g. `effect-entra:`; leases live under `<namespace>lease:`, markers `<namespace>done:`. */
  readonly namespace: string
  /** How long a "done" marker turns late arrivals away. Default 1 second. */
  readonly settle?: Duration.DurationInput | undefined
  /** First and longest pause between polls of a held lease. Default 25 ms and 200 ms. */
  readonly pollInitial?: Duration.DurationInput | undefined
  readonly pollMax?: Duration.DurationInput | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Lease {
  readonly withLease: <A, E>(
    key: string,
    ttl: Duration.Duration,
    effect: Effect.Effect<A, E>
  ) => Effect.Effect<Option.Option<A>, E>
}

/**
 * Single-flight inside one process: the fallback while Redis is unavailable.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeLocal = (): Lease => {
  const held = new Map<string, Deferred.Deferred<void>>()
  return {
    withLease: <A, E>(key: string, _ttl: Duration.Duration, effect: Effect.Effect<A, E>) =>
      Effect.uninterruptibleMask((restore) =>
        Effect.suspend(() => {
          const current = held.get(key)
          if (current !== undefined) return Effect.as(restore(Deferred.await(current)), Option.none<A>())
          const done = Deferred.unsafeMake<void>(FiberId.none)
          held.set(key, done)
          return restore(effect).pipe(
            Effect.map(Option.some),
            Effect.ensuring(Effect.suspend(() => {
              if (held.get(key) === done) held.delete(key)
              return Deferred.succeed(done, void 0)
            }))
          )
        })
      )
  }
}

const millis = (input: Duration.DurationInput | undefined, fallback: number) =>
  input === undefined ? fallback : Duration.toMillis(Duration.decode(input))

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = (ops: Ops.Ops, options: Options): Lease => {
  const local = makeLocal()
  const settleMs = millis(options.settle, 1_000)
  const pollInitialMs = millis(options.pollInitial, 25)
  const pollMaxMs = millis(options.pollMax, 200)

  /** Polls until the lease is gone (released or expired), Redis fails, or the lease's ttl has passed. */
  const awaitRelease = (leaseKey: string, ttlMs: number) =>
    Effect.gen(function*() {
      // On the Effect clock, like the sleeps between polls (so a TestClock drives both).
      const deadline = (yield* Clock.currentTimeMillis) + ttlMs + pollMaxMs
      let delay = pollInitialMs
      while ((yield* Clock.currentTimeMillis) < deadline) {
        yield* Effect.sleep(Duration.millis(delay))
        const exists = yield* ops.run("lease.poll", (client) => client.exists(leaseKey))
        if (Option.isNone(exists) || exists.value === 0) return
        delay = Math.min(delay * 2, pollMaxMs)
      }
    })

  const hold = <A, E>(leaseKey: string, doneKey: string, token: string, ttlMs: number, effect: Effect.Effect<A, E>) =>
    Effect.uninterruptibleMask((restore) =>
      Effect.gen(function*() {
        // Keep the lease while the work runs longer than expected; a dead process stops extending it.
        const watchdog = yield* ops.run(
          "lease.extend",
          (client) => client.effectEntraExtendLease(leaseKey, token, ttlMs)
        ).pipe(
          Effect.delay(Duration.millis(Math.max(1, Math.floor(ttlMs / 3)))),
          Effect.forever,
          Effect.interruptible,
          Effect.fork
        )
        const exit = yield* Effect.exit(restore(effect))
        yield* Fiber.interrupt(watchdog)
        yield* ops.run(
          "lease.release",
          (client) => client.effectEntraReleaseLease(leaseKey, doneKey, token, Exit.isSuccess(exit) ? settleMs : 0)
        )
        return yield* Effect.map(exit, Option.some)
      })
    )

  return {
    withLease: <A, E>(key: string, ttl: Duration.Duration, effect: Effect.Effect<A, E>) =>
      Effect.gen(function*() {
        const leaseKey = `${options.namespace}lease:${key}`
        const doneKey = `${options.namespace}done:${key}`
        const ttlMs = Math.max(1, Math.ceil(Duration.toMillis(ttl)))
        const token = Crypto.randomUUID()
        const taken = yield* ops.run(
          "lease.acquire",
          (client) => client.effectEntraAcquireLease(leaseKey, doneKey, token, ttlMs)
        )
        if (Option.isNone(taken)) return yield* local.withLease(key, ttl, effect)
        if (taken.value === 1) return yield* hold(leaseKey, doneKey, token, ttlMs, effect)
        if (taken.value === 0) yield* awaitRelease(leaseKey, ttlMs)
        return Option.none<A>()
      })
  }
}
