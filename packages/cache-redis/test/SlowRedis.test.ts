/**
 * Leases and time-outs when Redis is late (paused with SIGSTOP, or a reply that never comes) and when this process
 * is the slow one (its event loop blocked while Redis answers).
 */
import { assert, it } from "@effect/vitest"
import { Duration, Effect, Option, Redacted } from "effect"
import { Redis } from "ioredis"
import * as Crypto from "node:crypto"
import { afterAll, beforeAll } from "vitest"
import { Lease, RedisConnection, type RedisScripts, RedisTokenCache } from "../src/index.js"
import * as Ops from "../src/internal/ops.js"
import * as Warnings from "../src/internal/warnings.js"
import { account, accountKeyOf } from "./fixtures/Entries.js"
import { describeRedis, type RedisServer, startRedisServer } from "./fixtures/RedisServer.js"

/** Far below the credential's 30 s lease ttl, far above anything a loaded machine adds. */
const prompt = 5_000

const blockFor = (ms: number) => {
  const until = performance.now() + ms
  while (performance.now() < until) {
    // This process is busy: no timer, no I/O callback runs meanwhile.
  }
}

describeRedis("a late Redis, a busy process", () => {
  let server: RedisServer
  let admin: Redis
  beforeAll(async () => {
    server = await startRedisServer()
    admin = new Redis(server.url)
  })
  afterAll(async () => {
    admin?.disconnect()
    await server?.stop()
  })
  const freshNamespace = () => `slow-${Crypto.randomUUID().slice(0, 8)}:`

  /** A connection whose client runs `wrap` around some commands (the rest go through as they are). */
  const wrappedConnection = (
    wrap: Partial<Record<keyof RedisScripts.ScriptedRedis, (call: () => Promise<unknown>) => Promise<unknown>>>
  ) =>
    Effect.map(RedisConnection.make({ url: server.url }), (base): RedisConnection.Service => ({
      ...base,
      client: new Proxy(base.client, {
        get: (target, prop) => {
          const value = Reflect.get(target, prop, target)
          if (typeof value !== "function") return value
          const wrapper = wrap[prop as keyof RedisScripts.ScriptedRedis]
          const bound = (...args: Array<unknown>) => value.apply(target, args)
          return wrapper === undefined ? bound : (...args: Array<unknown>) => wrapper(() => bound(...args))
        }
      })
    }))

  /** Pauses Redis for `ms` while `during` runs, and always resumes it. */
  const pausedFor = <A, E>(ms: number, during: Effect.Effect<A, E>) =>
    Effect.acquireUseRelease(
      Effect.sync(() => server.pause()),
      () => Effect.zipLeft(during, Effect.sleep(Duration.millis(ms))),
      () => Effect.sync(() => server.resume())
    )

  it.live("a lease acquired while Redis is paused does not stall another instance (SIGSTOP 300 ms)", () =>
    Effect.gen(function*() {
      const namespace = freshNamespace()
      const a = yield* RedisTokenCache.make({ url: server.url, namespace })
      const b = yield* RedisTokenCache.make({ url: server.url, namespace })
      // `a` gives up on its acquire after 100 ms and does the work alone; Redis applies the acquire on SIGCONT.
      const first = yield* pausedFor(300, a.withLease("refresh|k", Duration.seconds(30), Effect.succeed("a")))
      assert.deepStrictEqual(first, Option.some("a"))
      const started = Date.now()
      yield* b.withLease("refresh|k", Duration.seconds(30), Effect.succeed("b"))
      const waited = Date.now() - started
      assert.isBelow(waited, prompt, `waited ${waited} ms`)
    }).pipe(Effect.scoped))

  it.live("a lease won by a late reply is given back at once (even with a claim as long as the ttl)", () =>
    Effect.gen(function*() {
      const namespace = freshNamespace()
      const lease = (connection: RedisConnection.Service) =>
        Lease.make(Ops.make(connection, Duration.millis(100), Warnings.make()), {
          namespace,
          claim: Duration.seconds(30)
        })
      const a = lease(yield* RedisConnection.make({ url: server.url }))
      const b = lease(yield* RedisConnection.make({ url: server.url }))
      assert.deepStrictEqual(
        yield* pausedFor(300, a.withLease("refresh|k", Duration.seconds(30), Effect.succeed("a"))),
        Option.some("a")
      )
      const started = Date.now()
      yield* b.withLease("refresh|k", Duration.seconds(30), Effect.succeed("b"))
      const waited = Date.now() - started
      assert.isBelow(waited, prompt, `waited ${waited} ms`)
    }).pipe(Effect.scoped))

  it.live("a lease whose acquire reply never comes expires with its short claim, not the 30 s ttl", () =>
    Effect.gen(function*() {
      const namespace = freshNamespace()
      // Redis applies the acquire, the reply is lost (a dropped connection): nobody knows it holds the lease.
      const lost = yield* wrappedConnection({
        effectEntraAcquireLease: (call) => {
          void call().catch(() => undefined)
          return new Promise<never>(() => undefined)
        }
      })
      const a = yield* RedisTokenCache.makeWithConnection(lost, { namespace })
      const b = yield* RedisTokenCache.make({ url: server.url, namespace })
      assert.deepStrictEqual(
        yield* a.withLease("redeem|c", Duration.seconds(30), Effect.succeed("a")),
        Option.some("a")
      )
      const pttl = yield* Effect.promise(() => admin.pttl(`${namespace}lease:redeem|c`))
      assert.isTrue(pttl > 0 && pttl <= 2_000, `lease PTTL ${pttl}`)
      const started = Date.now()
      yield* b.withLease("redeem|c", Duration.seconds(30), Effect.succeed("b"))
      const waited = Date.now() - started
      assert.isBelow(waited, prompt, `waited ${waited} ms`)
    }).pipe(Effect.scoped))

  it.live("a process blocked while Redis answers takes the answer: busy is not down", () =>
    Effect.gen(function*() {
      const namespace = freshNamespace()
      const accountKey = accountKeyOf("app-1", "uid.utid")
      const writer = yield* RedisTokenCache.make({ url: server.url, namespace })
      assert.isTrue(yield* writer.setAccount(accountKey, account("app-1", "uid.utid", 7)))
      // The command is sent, then (once the time-out is armed) this process is busy for three times the 100 ms
      // budget before it gets to read anything.
      const busy = yield* wrappedConnection({
        hmget: (call) => {
          const reply = call()
          queueMicrotask(() => blockFor(300))
          return reply
        }
      })
      const reader = yield* RedisTokenCache.makeWithConnection(busy, { namespace })
      const read = yield* reader.getAccount(accountKey)
      assert.strictEqual(Option.getOrThrow(read).version, 7)
      assert.strictEqual(Redacted.value(Option.getOrThrow(read).refreshToken!), "rt-7")
    }).pipe(Effect.scoped))

  it.live("a hung Redis still gives up within the budget when this process is not busy", () =>
    Effect.gen(function*() {
      const namespace = freshNamespace()
      const c = yield* RedisTokenCache.make({ url: server.url, namespace })
      const [elapsed, read] = yield* pausedFor(0, Effect.timed(c.getAccount(accountKeyOf("app-1", "x"))))
      assert.isTrue(Option.isNone(read))
      assert.isAtLeast(Duration.toMillis(elapsed), 90)
      assert.isBelow(Duration.toMillis(elapsed), 1_000)
    }).pipe(Effect.scoped))
})
