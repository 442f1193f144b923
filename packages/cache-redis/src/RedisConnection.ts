/**
 * The ioredis connection of the token cache, configured to fail fast: while Redis is unreachable commands are
 * refused at once (no offline queue, no per-request retries, a command time-out) and the client reconnects by
 * itself in the background. The connection is closed with the layer's scope.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Runtime from "effect/Runtime"
import type * as Scope from "effect/Scope"
import { Redis } from "ioredis"
import type { ConnectionOptions } from "node:tls"
import * as Warnings from "./internal/warnings.js"
import * as RedisScripts from "./RedisScripts.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /**
   * `redis://[[user]:password@]host[:port][/db]`, or `rediss://` for TLS. It may hold a password, so it is
   * `Redacted` and never logged. Default `redis://127.0.0.1:6379`.
   */
  readonly url?: Redacted.Redacted<string> | string | undefined
  /** ACL user (Redis 6+); overrides the URL's. */
  readonly username?: string | undefined
  /** `AUTH` password; overrides the URL's. */
  readonly password?: Redacted.Redacted<string> | undefined
  /** TLS options (e.g. `{ ca }`); `rediss://` turns TLS on with the defaults. */
  readonly tls?: ConnectionOptions | undefined
  readonly db?: number | undefined
  /** Time allowed to open the connection. Default 2 seconds. */
  readonly connectTimeout?: Duration.DurationInput | undefined
  /** The client's own per-command time-out (a backstop behind the cache's per-operation time-out). Default 1 s. */
  readonly commandTimeout?: Duration.DurationInput | undefined
  /** Longest pause between reconnection attempts. Default 2 seconds. */
  readonly maxReconnectDelay?: Duration.DurationInput | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  readonly client: RedisScripts.ScriptedRedis
  /** Whether the connection is up right now (commands are not even attempted while it is down). */
  readonly isReady: () => boolean
  /**
   * Runs `f` each time the connection becomes ready later than at construction (it was lost, or not up yet).
   * Returns the function that removes `f` again (a cache on a shared connection calls it when its scope closes).
   */
  readonly onReconnect: (f: () => void) => () => void
}

/**
 * @since 0.1.0
 * @category tags
 */
export class RedisConnection extends Context.Tag("@effect-entra/cache-redis/RedisConnection")<
  RedisConnection,
  Service
>() {}

const millis = (input: Duration.DurationInput | undefined, fallback: number) =>
  input === undefined ? fallback : Duration.toMillis(Duration.decode(input))

/**
 * Opens the connection (waiting at most `connectTimeout`). When Redis is not there yet the connection keeps
 * retrying in the background and the cache works from memory meanwhile: a cache never stops the app starting.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options = {}): Effect.Effect<Service, never, Scope.Scope> =>
  Effect.gen(function*() {
    const runtime = yield* Effect.runtime<never>()
    const warnings = Warnings.make()
    const url = options.url === undefined
      ? "redis://127.0.0.1:6379"
      : Redacted.isRedacted(options.url)
      ? Redacted.value(options.url)
      : options.url
    const maxDelay = millis(options.maxReconnectDelay, 2_000)
    const client = yield* Effect.acquireRelease(
      Effect.sync(() =>
        new Redis(url, {
          lazyConnect: true,
          enableOfflineQueue: false,
          maxRetriesPerRequest: 0,
          autoResendUnfulfilledCommands: false,
          commandTimeout: millis(options.commandTimeout, 1_000),
          connectTimeout: millis(options.connectTimeout, 2_000),
          retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 10), maxDelay),
          ...(options.username === undefined ? {} : { username: options.username }),
          ...(options.password === undefined ? {} : { password: Redacted.value(options.password) }),
          ...(options.tls === undefined ? {} : { tls: options.tls }),
          ...(options.db === undefined ? {} : { db: options.db })
        })
      ),
      (client) =>
        Effect.promise(() =>
          client.status === "ready"
            ? client.quit().then(() => undefined, () => client.disconnect())
            : Promise.resolve(client.disconnect())
        ).pipe(
          Effect.timeoutTo({ duration: "1 second", onSuccess: () => undefined, onTimeout: () => client.disconnect() })
        )
    )
    // Without a listener ioredis prints every connection error; route them through the rate-limited warning.
    client.on("error", (error: unknown) => {
      Runtime.runFork(runtime)(
        warnings.warn("connection", "Redis connection error; the token cache works from memory", error)
      )
    })
    const scripted = RedisScripts.register(client)
    yield* Effect.tryPromise(() => client.connect()).pipe(
      Effect.timeout(Duration.millis(millis(options.connectTimeout, 2_000) + 100)),
      Effect.catchAll((error) =>
        warnings.warn(
          "connect",
          "Redis is not reachable yet; the token cache works from memory and keeps retrying",
          error
        )
      )
    )
    const reconnectListeners = new Set<() => void>()
    // Attached after the first connection attempt: fires when the connection comes (back) later.
    client.on("ready", () => {
      for (const listener of Array.from(reconnectListeners)) listener()
    })
    return {
      client: scripted,
      isReady: () => client.status === "ready",
      onReconnect: (f) => {
        // A fresh wrapper per call, so registering the same function twice needs two removals.
        const listener = () => f()
        reconnectListeners.add(listener)
        return () => void reconnectListeners.delete(listener)
      }
    }
  })

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<RedisConnection> =>
  Layer.scoped(RedisConnection, make(options))
