/**
 * One Redis operation under the cache's rules: refused at once while disconnected, bounded by the per-operation
 * time-out, and never failing: a failure is a rate-limited warning and `None`.
 *
 * The time-out measures Redis, not this process: a timer that fires late (the event loop was blocked by other
 * work) does not count the time it was late, and before giving up the operation lets the I/O already received
 * run, so a reply that arrived while the loop was busy is taken. A busy process therefore does not read as
 * "Redis down" (and go on alone), up to `ceiling`, past which it gives up whatever the cause.
 *
 * @internal
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { performance } from "node:perf_hooks"
import type * as RedisConnection from "../RedisConnection.js"
import type * as RedisScripts from "../RedisScripts.js"
import type * as Warnings from "./warnings.js"

/** @internal */
export interface RunOptions<A> {
  /** Called with a reply that arrived after the operation gave up (e.g. a lease that was won too late). */
  readonly onLateReply?: ((reply: A) => void) | undefined
}

/** @internal */
export interface Ops {
  readonly run: <A>(
    op: string,
    f: (client: RedisScripts.ScriptedRedis) => Promise<A>,
    options?: RunOptions<A>
  ) => Effect.Effect<Option.Option<A>>
  readonly warnings: Warnings.Warnings
}

class Unavailable extends Error {
  override readonly name = "Unavailable"
  constructor() {
    super("not connected")
  }
}

class TimedOut extends Error {
  override readonly name = "TimedOut"
}

/**
 * Runs `f` against a budget of `budgetMs` of Redis time: the time this process's timers were late is not counted,
 * the whole wait is capped at `ceilingMs`. Real timers and the monotonic clock on purpose: what is measured is
 * this event loop, which a test clock does not drive.
 *
 * @internal
 */
export const withinBudget = <A>(
  f: () => Promise<A>,
  budgetMs: number,
  ceilingMs: number,
  onLateReply?: (reply: A) => void
): Effect.Effect<A, unknown> =>
  Effect.async<A, unknown>((resume) => {
    let settled = false
    let timer: ReturnType<typeof setTimeout> | undefined
    let immediate: ReturnType<typeof setImmediate> | undefined
    const stop = () => {
      settled = true
      if (timer !== undefined) clearTimeout(timer)
      if (immediate !== undefined) clearImmediate(immediate)
    }
    const finish = (effect: Effect.Effect<A, unknown>) => {
      if (settled) return false
      stop()
      resume(effect)
      return true
    }
    const started = performance.now()
    let late = 0
    const arm = (delay: number) => {
      const due = performance.now() + delay
      timer = setTimeout(() => {
        late += Math.max(0, performance.now() - due)
        // Let pending I/O run first: a loop that was busy may already hold the reply.
        immediate = setImmediate(() => {
          if (settled) return
          const elapsed = performance.now() - started
          const waited = elapsed - late
          if (waited < budgetMs && elapsed < ceilingMs) arm(Math.min(budgetMs - waited, ceilingMs - elapsed))
          else finish(Effect.fail(new TimedOut(`timed out after ${budgetMs} ms`)))
        })
      }, Math.max(1, delay))
    }
    let promise: Promise<A>
    try {
      promise = f()
    } catch (error) {
      finish(Effect.fail(error))
      return
    }
    promise.then(
      (reply) => {
        if (!finish(Effect.succeed(reply))) onLateReply?.(reply)
      },
      (error) => void finish(Effect.fail(error))
    )
    arm(budgetMs)
    // Interrupted: stop waiting; a reply that still comes is late.
    return Effect.sync(stop)
  })

/** @internal */
export const make = (
  connection: RedisConnection.Service,
  timeout: Duration.Duration,
  warnings: Warnings.Warnings
): Ops => {
  const timeoutMs = Duration.toMillis(timeout)
  // However busy the process, an operation does not wait longer than this (ioredis's own backstop is 1 s).
  const ceilingMs = Math.max(timeoutMs, Math.min(10 * timeoutMs, 1_000))
  const run = <A>(op: string, f: (client: RedisScripts.ScriptedRedis) => Promise<A>, options?: RunOptions<A>) =>
    Effect.suspend(() =>
      connection.isReady()
        ? withinBudget(() => f(connection.client), timeoutMs, ceilingMs, options?.onLateReply)
        : Effect.fail(new Unavailable())
    ).pipe(
      Effect.map(Option.some<A>),
      Effect.catchAll((error) =>
        Effect.as(
          warnings.warn("unavailable", "Redis token cache operation failed; answering from memory", error).pipe(
            Effect.annotateLogs("redis.op", op)
          ),
          Option.none<A>()
        )
      ),
      // One span per Redis round trip (never on the L1 hot path); attributes name the operation, never a key.
      Effect.withSpan(`RedisTokenCache.${op}`, { attributes: { "redis.op": op } })
    )
  return { run, warnings }
}
