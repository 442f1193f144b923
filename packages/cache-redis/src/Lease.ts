/**
 * Fleet-wide single-flight. `withLease(key, ttl, effect)` runs `effect` in exactly one process among all that
 * share the Redis: the holder takes `SET lease token NX PX claim` (a short claim, 2 s by default), extends it to
 * the full ttl while the work runs, and releases it with a compare-and-delete, leaving a short "done" marker. The
 * others wait (bounded polling, 25 → 200 ms) until the lease is gone and return `None`, so the caller re-reads
 * the cache; a caller that arrives just after a holder finished gets `None` at once. A holder that dies stops
 * extending its lease, which then expires and another process takes over. When Redis is unavailable the lease
 * degrades to a single-flight inside this process.
 *
 * An acquire that times out may still be applied by Redis afterwards. Nobody would hold that lease, so: a late
 * reply saying it was won releases it at once, and when no reply ever comes (the connection is lost) the lease
 * expires with its short claim, since only a holder that knows it won extends it.
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
import * as Runtime from "effect/Runtime"
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
  /**
   * How long a lease is taken for before its holder first extends it: the longest an acquire whose reply nobody
   * received keeps the others waiting. Default 2 seconds (never more than the ttl).
   */
  readonly claim?: Duration.DurationInput | undefined
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
  const claimMs = millis(options.claim, 2_000)

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

  const hold = <A, E>(
    leaseKey: string,
    doneKey: string,
    token: string,
    lease: { readonly claimMs: number; readonly ttlMs: number },
    effect: Effect.Effect<A, E>
  ) =>
    Effect.uninterruptibleMask((restore) =>
      Effect.gen(function*() {
        // Keep the lease while the work runs longer than expected; a dead process stops extending it. Every third
        // of the short claim until an extension to the full ttl lands, then every third of the ttl.
        const extend = ops.run(
          "lease.extend",
          (client) => client.effectEntraExtendLease(leaseKey, token, lease.ttlMs)
        )
        const pause = (ms: number) => Effect.sleep(Duration.millis(Math.max(1, Math.floor(ms / 3))))
        const extended = Effect.zipRight(pause(lease.claimMs), extend).pipe(
          Effect.repeat({ until: (reply) => Option.isSome(reply) })
        )
        const watchdog = yield* extended.pipe(
          Effect.zipRight(Effect.forever(Effect.zipRight(pause(lease.ttlMs), extend))),
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
        const lease = { ttlMs, claimMs: Math.min(ttlMs, claimMs) }
        const token = Crypto.randomUUID()
        const runtime = yield* Effect.runtime<never>()
        // Won after this process gave up on it: give it back now rather than leave it to its claim's expiry.
        const releaseOrphan = (reply: number) => {
          if (reply !== 1) return
          Runtime.runFork(runtime)(ops.run(
            "lease.release",
            (client) => client.effectEntraReleaseLease(leaseKey, doneKey, token, 0)
          ))
        }
        const taken = yield* ops.run(
          "lease.acquire",
          (client) => client.effectEntraAcquireLease(leaseKey, doneKey, token, lease.claimMs),
          { onLateReply: releaseOrphan }
        )
        if (Option.isNone(taken)) return yield* local.withLease(key, ttl, effect)
        if (taken.value === 1) return yield* hold(leaseKey, doneKey, token, lease, effect)
        if (taken.value === 0) yield* awaitRelease(leaseKey, ttlMs)
        return Option.none<A>()
      })
  }
}
