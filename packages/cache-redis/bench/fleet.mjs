// Token requests per renewal for a fleet of 2, 4 and 8 processes sharing one account, with the Redis cache,
// with Redis down, and with the in-memory cache (baseline: every process on its own).
// `redis-starved`: the same with every process's event loop blocked for FLEET_STARVE_MS (default 150) every
// FLEET_STARVE_EVERY_MS (default 400), a busy process that must not read as "Redis down".
// Run: cd /work/main && npx tsc -b packages/cache-redis packages/emulator && node packages/cache-redis/bench/fleet.mjs
import { startEmulator } from "@effect-entra/emulator"
import * as Crypto from "node:crypto"
import { startFleet } from "../test/fixtures/fleet-harness.mjs"
import { startRedis } from "./redis-server.mjs"

const lifetimeSeconds = 8 // renewed every 4 s (half-life)
const durationMs = Number(process.env.FLEET_DURATION_MS ?? 13_000)
const sizes = (process.env.FLEET_SIZES ?? "2,4,8").split(",").map(Number)
const modes = (process.env.FLEET_MODES ?? "redis,redis-down,redis-starved,memory").split(",")
const starve = {
  blockMs: Number(process.env.FLEET_STARVE_MS ?? 150),
  everyMs: Number(process.env.FLEET_STARVE_EVERY_MS ?? 400)
}
const starvedSize = Number(process.env.FLEET_STARVED_SIZE ?? 4)

const redis = await startRedis()
const emulator = await startEmulator({ config: { accessTokenLifetime: lifetimeSeconds } })

/** Refreshes grouped into renewals: refreshes closer than a quarter lifetime belong to the same renewal. */
const renewals = (times) => {
  let groups = 0
  let last = -Infinity
  for (const at of times) {
    if (at - last > lifetimeSeconds * 250) groups++
    last = at
  }
  return groups
}

const run = async (size, mode) => {
  await emulator.clearRequests()
  const codes = []
  // The same PKCE verifier for every process: fleet-wide adoption of a redemption requires it.
  const verifier = Crypto.randomBytes(48).toString("base64url")
  const codeChallenge = Crypto.createHash("sha256").update(verifier).digest("base64url")
  for (let i = 0; i < (mode === "memory" ? size : 1); i++) codes.push((await emulator.signIn({ codeChallenge })).code)
  const fleet = await startFleet(size, {
    redisUrl: redis.url,
    namespace: `bench-${Crypto.randomUUID().slice(0, 8)}:`,
    authority: emulator.authority,
    caPem: emulator.caPem,
    tenantId: emulator.defaults.tenantId,
    clientId: emulator.defaults.clientId,
    clientSecret: emulator.defaults.clientSecret,
    redirectUri: emulator.defaults.redirectUri,
    code: codes[0],
    codes,
    codeVerifier: verifier,
    scope: emulator.defaults.scope,
    cache: mode === "memory" ? "memory" : "redis",
    concurrency: 8,
    durationMs,
    intervalMs: 50,
    ...(mode === "redis-starved" ? { starve } : {})
  })
  fleet.go()
  await fleet.redeemed()
  if (mode === "redis-down") await redis.stop()
  const done = await fleet.done(durationMs + 60_000)
  if (mode === "redis-down") await redis.start()
  fleet.kill()
  const requests = await emulator.requests({ endpoint: "token" })
  const ok = requests.filter((entry) => entry.status === 200)
  const refreshes = ok.filter((entry) => entry.grantType === "refresh_token").map((entry) => Date.parse(entry.at))
    .sort((a, b) => a - b)
  const rounds = renewals(refreshes)
  return {
    processes: size,
    cache: mode,
    "code redemptions": ok.filter((entry) => entry.grantType === "authorization_code").length,
    renewals: rounds,
    "refresh requests": refreshes.length,
    "token requests per renewal": rounds === 0 ? 0 : +(refreshes.length / rounds).toFixed(2),
    "getToken calls": done.reduce((n, report) => n + report.calls, 0),
    "failed calls": done.reduce((n, report) => n + report.failures, 0)
  }
}

const rows = []
if (modes.includes("redis")) { for (const size of sizes) rows.push(await run(size, "redis")) }
if (modes.includes("redis-down")) rows.push(await run(sizes.at(-1), "redis-down"))
if (modes.includes("redis-starved")) rows.push(await run(starvedSize, "redis-starved"))
if (modes.includes("memory")) { for (const size of sizes) rows.push(await run(size, "memory")) }
console.table(rows)
console.log(JSON.stringify({ node: process.version, lifetimeSeconds, durationMs, starve, rows }))
await emulator.close()
await redis.stop()
process.exit(0)
