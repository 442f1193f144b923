/**
 * The credential over the Redis cache, against the Entra emulator: in-process first, then a fleet of worker
 * processes (test/fixtures/fleet-worker.mjs over the built dist; run `npx tsc -b packages/cache-redis` first).
 */
import { type RunningEmulator, startEmulator } from "@effect-entra/emulator"
import { AuthorizationCodeCredential, NodeHttp } from "@effect-entra/identity"
import { assert, it } from "@effect/vitest"
import { Effect, Layer, Redacted } from "effect"
import { Redis } from "ioredis"
import * as Crypto from "node:crypto"
import * as Fs from "node:fs"
import { afterAll, beforeAll, beforeEach } from "vitest"
import { RedisTokenCache } from "../src/index.js"
import { startFleet } from "./fixtures/fleet-harness.mjs"
import { describeRedis, type RedisServer, startRedisServer } from "./fixtures/RedisServer.js"

// The workers run the built package. Locally a missing build skips the fleet tests (saying so); under CI it fails.
const distBuilt = Fs.existsSync(new URL("../dist/index.js", import.meta.url))
const fleetIt = distBuilt || process.env.CI ? it : it.skip
if (!distBuilt) {
  console.warn(
    `\n*** ${
      process.env.CI ? "FAILING" : "SKIPPING"
    } the fleet tests: build first (npx tsc -b packages/cache-redis) ***\n`
  )
}
// Tokens live 8 s, so the credential renews them every 4 s (half-life) and a 10 s run sees two or three renewals;
// long enough that a fleet starting on a busy 2-CPU machine still shares the first token.
const lifetimeSeconds = 8

describeRedis("the credential over Redis, against the emulator", () => {
  let server: RedisServer
  let admin: Redis
  let emulator: RunningEmulator
  beforeAll(async () => {
    server = await startRedisServer()
    admin = new Redis(server.url).on("error", () => undefined)
    emulator = await startEmulator({ config: { accessTokenLifetime: lifetimeSeconds } })
  }, 30_000)
  afterAll(async () => {
    admin?.disconnect()
    await emulator?.close()
    await server?.stop()
  })
  beforeEach(async () => {
    await emulator.clearRequests()
  })

  /** The namespace's keys, by SCAN (the cache itself never lists keys). */
  const scanKeys = async (namespace: string) => {
    const found: Array<string> = []
    let cursor = "0"
    do {
      const [next, batch] = await admin.scan(cursor, "MATCH", `${namespace}*`, "COUNT", 1000)
      cursor = next
      found.push(...batch)
    } while (cursor !== "0")
    return found
  }

  const tokenRequests = async (grantType: string) =>
    (await emulator.requests({ endpoint: "token", grantType })).filter((entry) => entry.status === 200).length

  const workerConfig = (namespace: string, code: string) => ({
    redisUrl: server.url,
    namespace,
    authority: emulator.authority,
    caPem: emulator.caPem,
    tenantId: emulator.defaults.tenantId,
    clientId: emulator.defaults.clientId,
    clientSecret: emulator.defaults.clientSecret,
    redirectUri: emulator.defaults.redirectUri,
    code,
    scope: emulator.defaults.scope
  })

  it.live("two credentials of one process share a code through Redis: one redemption, both get tokens", () =>
    Effect.gen(function*() {
      const { code } = yield* Effect.promise(() => emulator.signIn())
      const namespace = `fleet-${Crypto.randomUUID().slice(0, 8)}:`
      const options = {
        tenantId: emulator.defaults.tenantId,
        clientId: emulator.defaults.clientId,
        clientSecret: Redacted.make(emulator.defaults.clientSecret),
        redirectUri: emulator.defaults.redirectUri,
        authority: emulator.authority,
        authorizationCode: Redacted.make(code)
      }
      const credential = () =>
        Effect.flatMap(
          Layer.build(
            Layer.merge(RedisTokenCache.layer({ url: server.url, namespace }), NodeHttp.layer({ ca: emulator.caPem }))
          ),
          (context) => Effect.provide(AuthorizationCodeCredential.make(options), context)
        )
      const [a, b] = yield* Effect.all([credential(), credential()])
      const tokens = yield* Effect.all(
        Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? a : b).getToken(emulator.defaults.scope)),
        { concurrency: "unbounded" }
      )
      assert.strictEqual(new Set(tokens.map((token) => Redacted.value(token.token))).size, 1)
      assert.strictEqual(yield* Effect.promise(() => tokenRequests("authorization_code")), 1)
      const keys = yield* Effect.promise(() => scanKeys(namespace))
      assert.isTrue(keys.some((key) => key.startsWith(`${namespace}account:`)))
      assert.isTrue(keys.some((key) => key.startsWith(`${namespace}at:`)))
      assert.isTrue(keys.some((key) => key.startsWith(`${namespace}code:`)))
    }).pipe(Effect.scoped))

  fleetIt(
    "8 processes × 8 calls share one code: one redemption, eight working tokens, one refresh per renewal",
    async () => {
      const { code } = await emulator.signIn()
      const namespace = `fleet-${Crypto.randomUUID().slice(0, 8)}:`
      const durationMs = 10_000
      const fleet = await startFleet(8, {
        ...workerConfig(namespace, code),
        concurrency: 8,
        durationMs,
        intervalMs: 50
      })
      try {
        fleet.go()
        const redeemed = await fleet.redeemed()
        console.log("first burst (ms):", redeemed.map((report) => report.firstBurstMs).join(" "))
        for (const report of redeemed) {
          assert.strictEqual(report.failures, 0, report.errors.join("\n"))
          assert.strictEqual(report.resourceStatus, 200)
        }
        // Everyone was served the redeemed token (or, on a very slow machine, its first renewal).
        assert.isAtMost(new Set(redeemed.flatMap((report) => report.tokens)).size, 2)
        assert.strictEqual(await tokenRequests("authorization_code"), 1)
        const done = await fleet.done(durationMs + 30_000)
        for (const report of done) assert.strictEqual(report.failures, 0, report.errors.join("\n"))
        const refreshed = (await emulator.requests({ endpoint: "token", grantType: "refresh_token" }))
          .filter((entry) => entry.status === 200)
          .map((entry) => Date.parse(entry.at))
          .sort((a, b) => a - b)
        const distinct = new Set(done.flatMap((report) => report.tokens)).size
        // One refresh per renewal: renewals come every lifetime/2 = 4 s, so a second refresh of the same renewal
        // (another process renewing again) would show as two refreshes close together.
        const renewals = Math.ceil(durationMs / (lifetimeSeconds * 500))
        assert.isAtLeast(refreshed.length, 2)
        assert.isAtMost(refreshed.length, renewals + 1, `refreshes ${refreshed.length} for ~${renewals} renewals`)
        const gaps = refreshed.slice(1).map((at, i) => at - refreshed[i])
        for (const gap of gaps) assert.isAtLeast(gap, lifetimeSeconds * 250, `refresh gaps ${gaps.join(", ")} ms`)
        // Every process was served the renewed tokens (one per refresh, plus the one from the code).
        assert.strictEqual(distinct, refreshed.length + 1)
      } finally {
        fleet.kill()
      }
    },
    60_000
  )

  fleetIt(
    "Redis stopped and restarted mid-run: no call fails, tokens keep being served, writes resume",
    async () => {
      const { code } = await emulator.signIn()
      const namespace = `fleet-${Crypto.randomUUID().slice(0, 8)}:`
      const durationMs = 10_000
      const fleet = await startFleet(4, {
        ...workerConfig(namespace, code),
        concurrency: 4,
        durationMs,
        intervalMs: 50
      })
      try {
        fleet.go()
        await fleet.redeemed()
        assert.strictEqual(await tokenRequests("authorization_code"), 1)
        // Down from ~1 s to ~6 s: across the first renewal (~4 s), which each process then does alone.
        await new Promise((resolve) => setTimeout(resolve, 1_000))
        await server.stop()
        await new Promise((resolve) => setTimeout(resolve, 5_000))
        await server.start()
        admin.disconnect()
        admin = new Redis(server.url).on("error", () => undefined)
        const done = await fleet.done(durationMs + 30_000)
        for (const report of done) {
          assert.strictEqual(report.failures, 0, report.errors.join("\n"))
          assert.isAtLeast(report.calls, 20)
          assert.isAtLeast(report.warnings, 1)
        }
        // Redis came back empty; the fleet wrote its account and tokens again.
        const keys = await scanKeys(namespace)
        assert.isTrue(keys.some((key) => key.startsWith(`${namespace}account:`)), keys.join(", "))
        assert.isTrue(keys.some((key) => key.startsWith(`${namespace}at:`)), keys.join(", "))
      } finally {
        fleet.kill()
      }
    },
    60_000
  )
})
