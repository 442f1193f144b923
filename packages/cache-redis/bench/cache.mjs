// L1 / L2 / Redis-down latencies of the Redis token cache.
// Run: cd /work/main && npx tsc -b packages/cache-redis && node packages/cache-redis/bench/cache.mjs
import { TokenCache } from "@effect-entra/identity"
import { Duration, Effect, Exit, Logger, LogLevel, Redacted, Scope } from "effect"
import { RedisTokenCache } from "../dist/index.js"
import { startRedis } from "./redis-server.mjs"

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
const percentile = (values, p) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))]
const quiet = (effect) => Effect.runPromise(effect.pipe(Logger.withMinimumLogLevel(LogLevel.None)))

const key = (i) =>
  TokenCache.accessTokenKey({
    authority: "https://login.microsoftonline.com",
    clientId: "00000000-0000-0000-0000-000000000001",
    homeAccountId: `uid-${i}.utid`,
    tenantId: "contoso",
    cae: false,
    scopes: "api://app/read"
  })
const entry = (i, now) => ({
  token: Redacted.make(`token-${i}-${"x".repeat(1200)}`),
  tokenType: "Bearer",
  issuedOn: now,
  expiresOn: now + 3_600_000,
  scopes: ["api://app/read"],
  tenantId: "contoso",
  homeAccountId: `uid-${i}.utid`,
  cae: false
})

const redis = await startRedis()
const scope = Effect.runSync(Scope.make())
const build = (options = {}) => quiet(Scope.extend(RedisTokenCache.make({ url: redis.url, ...options }), scope))
const results = {}

for (const encrypted of [false, true]) {
  const options = encrypted ? { encryptionKey: Redacted.make(Buffer.alloc(32, 7).toString("base64")) } : {}
  const label = encrypted ? "aes-256-gcm" : "plain"
  const writer = await build(options)
  const now = Date.now()
  const n = 2_000
  for (let i = 0; i < n; i++) await quiet(writer.setAccessToken(key(i), entry(i, now)))

  // L1 hit: peekAccessToken (the credential's synchronous hot path) and getAccessToken, vs the memory cache.
  const memory = Effect.runSync(TokenCache.makeMemory)
  Effect.runSync(memory.setAccessToken(key(0), entry(0, now)))
  const batches = { peek: [], get: [], memoryPeek: [], memoryGet: [] }
  const k0 = key(0)
  for (let round = 0; round < 31; round++) {
    const iterations = 200_000
    let t = process.hrtime.bigint()
    for (let i = 0; i < iterations; i++) if (writer.peekAccessToken(k0) === undefined) throw new Error("miss")
    batches.peek.push(Number(process.hrtime.bigint() - t) / iterations)
    t = process.hrtime.bigint()
    for (let i = 0; i < iterations; i++) if (memory.peekAccessToken(k0) === undefined) throw new Error("miss")
    batches.memoryPeek.push(Number(process.hrtime.bigint() - t) / iterations)
    t = process.hrtime.bigint()
    for (let i = 0; i < iterations / 10; i++) Effect.runSync(writer.getAccessToken(k0))
    batches.get.push(Number(process.hrtime.bigint() - t) / (iterations / 10))
    t = process.hrtime.bigint()
    for (let i = 0; i < iterations / 10; i++) Effect.runSync(memory.getAccessToken(k0))
    batches.memoryGet.push(Number(process.hrtime.bigint() - t) / (iterations / 10))
  }
  // L2 hit: a fresh L1 (new cache instance) reads keys another instance wrote.
  const warm = await build(options)
  for (let i = 1; i < 200; i++) await Effect.runPromise(warm.getAccessToken(key(i)))
  const reader = await build(options)
  const l2 = []
  for (let i = 1; i < n; i++) {
    const t = process.hrtime.bigint()
    const read = await Effect.runPromise(reader.getAccessToken(key(i)))
    l2.push(Number(process.hrtime.bigint() - t) / 1000)
    if (read._tag !== "Some") throw new Error("L2 miss")
  }
  results[label] = {
    "L1 peekAccessToken (ns/op, median of 31×200k)": +median(batches.peek).toFixed(1),
    "memory cache peekAccessToken (ns/op)": +median(batches.memoryPeek).toFixed(1),
    "L1 getAccessToken via Effect.runSync (ns/op)": +median(batches.get).toFixed(0),
    "memory cache getAccessToken via Effect.runSync (ns/op)": +median(batches.memoryGet).toFixed(0),
    "L2 hit getAccessToken, L1 empty (µs/op median)": +median(l2).toFixed(1),
    "L2 hit p99 (µs)": +percentile(l2, 0.99).toFixed(1)
  }
}

// Redis down / hung.
const c = await build()
const now = Date.now()
await quiet(c.setAccessToken(key(1), entry(1, now)))
const timeIt = async (effect) => {
  const t = process.hrtime.bigint()
  await quiet(effect)
  return Number(process.hrtime.bigint() - t) / 1e6
}
redis.pause()
const hung = { l1: [], miss: [] }
for (let i = 0; i < 10; i++) {
  hung.l1.push(await timeIt(c.getAccessToken(key(1))))
  hung.miss.push(await timeIt(c.getAccessToken(key(90_000 + i))))
}
redis.resume()
await new Promise((resolve) => setTimeout(resolve, 200))
await redis.stop()
const down = { miss: [], set: [], lease: [] }
for (let i = 0; i < 50; i++) {
  down.miss.push(await timeIt(c.getAccessToken(key(80_000 + i))))
  down.set.push(await timeIt(c.setAccessToken(key(80_000 + i), entry(i, now))))
  down.lease.push(await timeIt(c.withLease(`refresh|${i}`, Duration.seconds(1), Effect.void)))
}
results["redis hung (SIGSTOP)"] = {
  "L1 hit (ms median)": +median(hung.l1).toFixed(3),
  "L1 miss -> L2 time-out (ms median)": +median(hung.miss).toFixed(1),
  "L1 miss -> L2 time-out (ms max)": +Math.max(...hung.miss).toFixed(1)
}
results["redis down (process killed)"] = {
  "L1 miss get (ms median)": +median(down.miss).toFixed(3),
  "set (ms median)": +median(down.set).toFixed(3),
  "withLease, local fallback (ms median)": +median(down.lease).toFixed(3)
}
await Effect.runPromise(Scope.close(scope, Exit.void))
console.log(JSON.stringify({ node: process.version, ...results }, null, 2))
process.exit(0)
