/**
 * One Redis operation under the cache's rules: refused at once while disconnected, bounded by the per-operation
 * time-out, and never failing: a failure is a rate-limited warning and `None`.
 *
 * @internal
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as RedisConnection from "../RedisConnection.js"
import type * as RedisScripts from "../RedisScripts.js"
import type * as Warnings from "./warnings.js"

/** @internal */
export interface Ops {
  readonly run: <A>(
    op: string,
    f: (client: RedisScripts.ScriptedRedis) => Promise<A>
  ) => Effect.Effect<Option.Option<A>>
  readonly warnings: Warnings.Warnings
}

class Unavailable extends Error {
  override readonly name = "Unavailable"
  constructor() {
    super("not connected")
  }
}

/** @internal */
export const make = (
  connection: RedisConnection.Service,
  timeout: Duration.Duration,
  warnings: Warnings.Warnings
): Ops => {
  const timeoutMs = Duration.toMillis(timeout)
  const run = <A>(op: string, f: (client: RedisScripts.ScriptedRedis) => Promise<A>) =>
    Effect.tryPromise({
      try: () => connection.isReady() ? f(connection.client) : Promise.reject(new Unavailable()),
      catch: (error) => error
    }).pipe(
      Effect.timeoutFail({ duration: timeoutMs, onTimeout: () => new Error(`timed out after ${timeoutMs} ms`) }),
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
