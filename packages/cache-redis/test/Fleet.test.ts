/**
 * The credential over the Redis cache, against the Entra emulator: in-process first, then a fleet of worker
 * processes (test/fixtures/fleet-worker.mjs over the built dist; run `npx tsc -b packages/cache-redis` first).
 */
import { type RunningEmulator, startEmulator } from "@effect-entra/emulator"
import { AuthorizationCodeCredential, NodeHttp, TokenCache } from "@effect-entra/identity"
import { HttpClient } from "@effect/platform"
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

  // Fleet-wide adoption of a redemption needs the PKCE verifier: it is what proves a process holds the same sign-in.
  const pkce = (() => {
    const verifier = Crypto.randomBytes(48).toString("base64url")
    return { verifier, challenge: Crypto.createHash("sha256").update(verifier).digest("base64url") }
  })()

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
    codeVerifier: pkce.verifier,
    scope: emulator.defaults.scope
  })

  it.live("two credentials of one process share a code through Redis: one redemption, both get tokens", () =>
    Effect.gen(function*() {
      const { code } = yield* Effect.promise(() => emulator.signIn({ codeChallenge: pkce.challenge }))
      const namespace = `fleet-${Crypto.randomUUID().slice(0, 8)}:`
      const options = {
        tenantId: emulator.defaults.tenantId,
        clientId: emulator.defaults.clientId,
        clientSecret: Redacted.make(emulator.defaults.clientSecret),
        redirectUri: emulator.defaults.redirectUri,
        authority: emulator.authority,
        authorizationCode: Redacted.make(code),
        codeVerifier: Redacted.make(pkce.verifier)
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

  /** The cache keys of one account: the API's scope (the only one `/_resource/me` accepts), Graph, the API's `.default`. */
  const fleetScopes = () => [
    emulator.defaults.scope,
    "https://graph.microsoft.com/User.Read",
    `api://${emulator.defaults.clientId}/.default`
  ]

  /**
   * The successful refreshes, per cache key: the emulator logs the scopes it issued; without the OIDC ones they name
   * the key (`.default` comes back as the expanded permission plus `.default`, still distinct from the others).
   */
  const refreshesByKey = async () => {
    const byKey = new Map<string, Array<number>>()
    for (const entry of await emulator.requests({ endpoint: "token", grantType: "refresh_token" })) {
      if (entry.status !== 200) continue
      const key = (entry.scope ?? "").split(" ")
        .filter((scope) => !["openid", "profile", "email", "offline_access"].includes(scope.toLowerCase()))
        .sort()
        .join(" ")
      byKey.set(key, [...(byKey.get(key) ?? []), Date.parse(entry.at)])
    }
    for (const times of byKey.values()) times.sort((a, b) => a - b)
    return byKey
  }

  /** The namespace's one account in Redis and its version (every write of the refresh token adds one). */
  const accountVersion = async (namespace: string) => {
    const keys = await scanKeys(`${namespace}account:`)
    assert.strictEqual(keys.length, 1, keys.join(", "))
    return Number(await admin.hget(keys[0]!, "v"))
  }

  fleetIt(
    "8 processes × 3 scopes × 8 calls share one code: one redemption, working tokens, one refresh per key per renewal",
    async () => {
      const { code } = await emulator.signIn({ codeChallenge: pkce.challenge })
      const namespace = `fleet-${Crypto.randomUUID().slice(0, 8)}:`
      const durationMs = 10_000
      const scopes = fleetScopes()
      const fleet = await startFleet(8, {
        ...workerConfig(namespace, code),
        scopes,
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
        // Every process was served the same token per scope (or, on a very slow machine, its first renewal).
        for (const scope of scopes) {
          assert.isAtMost(new Set(redeemed.flatMap((report) => report.tokensByScope[scope] ?? [])).size, 2, scope)
        }
        assert.strictEqual(await tokenRequests("authorization_code"), 1)
        const done = await fleet.done(durationMs + 30_000)
        for (const report of done) {
          assert.strictEqual(report.failures, 0, report.errors.join("\n"))
          assert.strictEqual(report.resourceStatus, 200)
        }
        const byKey = await refreshesByKey()
        const summary = [...byKey].map(([key, times]) => `${key}: ${times.length}`).join("; ")
        console.log("refreshes per key:", summary)
        assert.strictEqual(byKey.size, scopes.length, summary)
        // One refresh per key per renewal. Renewals come every lifetime/2 = 4 s (plus, for the keys the code was
        // not redeemed for, their first token), so a second refresh of the same key and renewal (another process
        // renewing again) would show as two refreshes of that key close together.
        const renewals = Math.ceil(durationMs / (lifetimeSeconds * 500))
        for (const [key, times] of byKey) {
          assert.isAtLeast(times.length, 2, `${key} was never renewed (${summary})`)
          assert.isAtMost(times.length, renewals + 1, `${key}: ${times.length} refreshes for ~${renewals} renewals`)
          const gaps = times.slice(1).map((at, i) => at - times[i]!)
          for (const gap of gaps) {
            assert.isAtLeast(gap, lifetimeSeconds * 250, `${key}: refresh gaps ${gaps.join(", ")} ms`)
          }
        }
        // Every process was served the renewed tokens (one per refresh, plus the one from the code).
        const refreshes = [...byKey.values()].reduce((sum, times) => sum + times.length, 0)
        assert.strictEqual(new Set(done.flatMap((report) => report.tokens)).size, refreshes + 1)
      } finally {
        fleet.kill()
      }
    },
    60_000
  )

  fleetIt(
    "Redis stopped and restarted mid-run: no call fails, the newest refresh token survives and still works",
    async () => {
      const { code } = await emulator.signIn({ codeChallenge: pkce.challenge })
      const namespace = `fleet-${Crypto.randomUUID().slice(0, 8)}:`
      const durationMs = 10_000
      const fleet = await startFleet(4, {
        ...workerConfig(namespace, code),
        scopes: fleetScopes().slice(0, 2),
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
        const versionBeforeStop = await accountVersion(namespace)
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
          // The newest token, renewed while Redis was down or after, is still accepted by the API.
          assert.strictEqual(report.resourceStatus, 200)
        }
        // Redis came back empty; the fleet wrote its account and tokens again, and no older refresh token than
        // the one Redis held before the stop (the versioned write refuses to go back).
        const keys = await scanKeys(namespace)
        assert.isTrue(keys.some((key) => key.startsWith(`${namespace}at:`)), keys.join(", "))
        const versionAfter = await accountVersion(namespace)
        console.log(`account version: ${versionBeforeStop} before the stop, ${versionAfter} at the end`)
        assert.isAtLeast(versionAfter, versionBeforeStop, `account version ${versionBeforeStop} → ${versionAfter}`)
        // Nothing is lost: a new process resumes the account from Redis alone and redeems its refresh token (a
        // claims request bypasses the cached access tokens).
        await emulator.clearRequests()
        const status = await Effect.gen(function*() {
          const cache = yield* TokenCache.TokenCache
          const [account, ...others] = yield* cache.listAccounts
          assert.strictEqual(others.length, 0)
          assert.strictEqual(account!.version, versionAfter)
          const credential = yield* AuthorizationCodeCredential.make({
            tenantId: emulator.defaults.tenantId,
            clientId: emulator.defaults.clientId,
            clientSecret: Redacted.make(emulator.defaults.clientSecret),
            redirectUri: emulator.defaults.redirectUri,
            authority: emulator.authority,
            homeAccountId: account!.homeAccountId
          })
          const token = yield* credential.getToken(emulator.defaults.scope, {
            claims: JSON.stringify({ access_token: { nbf: { essential: true, value: "1604106651" } } })
          })
          const response = yield* HttpClient.get(`${emulator.authority}/_resource/me`, {
            headers: { authorization: `Bearer ${Redacted.value(token.token)}` }
          })
          return response.status
        }).pipe(
          Effect.provide(
            Layer.merge(RedisTokenCache.layer({ url: server.url, namespace }), NodeHttp.layer({ ca: emulator.caPem }))
          ),
          Effect.scoped,
          Effect.runPromise
        )
        assert.strictEqual(status, 200)
        const refreshed = await emulator.requests({ endpoint: "token", grantType: "refresh_token" })
        assert.deepStrictEqual(refreshed.map((entry) => [entry.status, entry.hasClaims]), [[200, true]])
      } finally {
        fleet.kill()
      }
    },
    60_000
  )
})
