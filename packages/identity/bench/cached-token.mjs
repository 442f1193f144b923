// Benchmark of the cached path (not a test): `pnpm --filter @effect-entra/identity bench` after `pnpm build`
// (it runs `node --expose-gc bench/cached-token.mjs`).
// Token requests go to an in-process stub of the token endpoint, so only the credential is measured; the
// side-by-side run against the emulator over TLS is scripts/bench-vs-azure.mjs.
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { Effect } from "effect"
import * as Redacted from "effect/Redacted"
import { spawnSync } from "node:child_process"
import { performance } from "node:perf_hooks"
import { fileURLToPath } from "node:url"
import * as Credential from "../dist/AuthorizationCodeCredential.js"
import { AuthorizationCodeCredential } from "../dist/promise.js"
import * as TokenCache from "../dist/TokenCache.js"

const requests = { authorization_code: 0, refresh_token: 0 }
const clientInfo = Buffer.from(JSON.stringify({ uid: "oid-alice", utid: "home-tenant" })).toString("base64url")
let serial = 0
const stub = HttpClient.make((request) =>
  Effect.sync(() => {
    const form = new URLSearchParams(new TextDecoder().decode(request.body.body))
    requests[form.get("grant_type")]++
    serial++
    const body = JSON.stringify({
      token_type: "Bearer",
      scope: form.get("scope"),
      expires_in: 3600,
      ext_expires_in: 3600,
      access_token: `at-${serial}`,
      refresh_token: `rt-${serial}`,
      client_info: clientInfo
    })
    return HttpClientResponse.fromWeb(
      request,
      new Response(body, { status: 200, headers: { "content-type": "application/json" } })
    )
  })
)

// The stub issues no signed ID token, so the sign-in is not validated.
const options = { httpClient: stub, authority: "https://login.example", validateIdToken: false }
const newCredential = () =>
  new AuthorizationCodeCredential("home-tenant", "client-1", "the-code", "http://localhost/cb", options)

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const fmt = (ns) => (ns >= 1000 ? `${(ns / 1000).toFixed(2)} µs` : `${ns.toFixed(0)} ns`)

/** Median ns per call over `rounds` batches of `batch` calls of `f`, after a warm-up. */
const measure = async (f, { batch = 20_000, rounds = 25 } = {}) => {
  for (let i = 0; i < batch * 3; i++) await f(i)
  const samples = []
  for (let r = 0; r < rounds; r++) {
    const start = performance.now()
    for (let i = 0; i < batch; i++) await f(i)
    samples.push(((performance.now() - start) * 1e6) / batch)
  }
  return { median: median(samples), min: Math.min(...samples), max: Math.max(...samples) }
}

/** Like `measure`, without awaiting: the call itself, free of the microtask and the garbage `await` leaves. */
const measureSync = (f, { batch = 20_000, rounds = 25 } = {}) => {
  for (let i = 0; i < batch * 3; i++) f(i)
  const samples = []
  for (let r = 0; r < rounds; r++) {
    const start = performance.now()
    for (let i = 0; i < batch; i++) f(i)
    samples.push(((performance.now() - start) * 1e6) / batch)
  }
  return { median: median(samples), min: Math.min(...samples), max: Math.max(...samples) }
}

const rows = []
const row = (name, result, extra = "") => {
  rows.push({ name, ...result })
  console.log(
    `${name.padEnd(66)} median ${fmt(result.median).padStart(9)}  (min ${fmt(result.min)}, max ${
      fmt(result.max)
    }) ${extra}`
  )
}

// 1. The facade, with 1, 1,000 and 100,000 tokens cached (distinct scope sets, one account). Each size runs in
// its own process, so the garbage of filling 100,000 tokens is not billed to the next measurement.
const facadeAtSize = async (size) => {
  const credential = newCredential()
  const scopes = Array.from({ length: size }, (_, i) => `api://bench/scope-${i}`)
  for (let i = 0; i < size; i += 1000) {
    await Promise.all(scopes.slice(i, i + 1000).map((scope) => credential.getToken(scope)))
  }
  // Steady state: without a full collection, the filling's garbage is collected during the measured calls.
  globalThis.gc?.()
  const liveMb = process.memoryUsage().heapUsed / 1e6
  // The same hot scope at every size: does the number of cached tokens change the cost of a lookup?
  const hot = await measure(() => credential.getToken(scopes[0]))
  const call = measureSync(() => credential.getToken(scopes[0]))
  // A spread of up to 1,024 cached scopes: the working set grows, so CPU caches show.
  const keys = Array.from({ length: 1024 }, (_, i) => scopes[(i * 7919) % size])
  const spread = await measure((i) => credential.getToken(keys[i & 1023]))
  await credential.close()
  return { size, liveMb, hot, call, spread }
}

const sizeFlag = process.argv.find((a) => a.startsWith("--size="))
if (sizeFlag !== undefined) {
  console.log(JSON.stringify(await facadeAtSize(Number(sizeFlag.slice("--size=".length)))))
  process.exit(0)
}

// The Effect API's cached getToken alone (`--effect`): one fiber, no span on a hit under the default tracer.
const effectCached = () =>
  Effect.runPromise(
    Effect.gen(function*() {
      const credential = yield* Credential.make({
        tenantId: "home-tenant",
        clientId: "client-1",
        redirectUri: "http://localhost/cb",
        authority: "https://login.example",
        authorizationCode: Redacted.make("the-code"),
        validateIdToken: false
      })
      yield* credential.getToken("api://bench/scope")
      const batch = 20_000
      const samples = []
      for (let r = 0; r < 28; r++) {
        const start = performance.now()
        for (let i = 0; i < batch; i++) yield* credential.getToken("api://bench/scope")
        if (r >= 3) samples.push(((performance.now() - start) * 1e6) / batch)
      }
      return { median: median(samples), min: Math.min(...samples), max: Math.max(...samples) }
    }).pipe(
      Effect.provide(TokenCache.layerMemory),
      Effect.provideService(HttpClient.HttpClient, stub),
      Effect.scoped
    )
  )

// A new facade credential and its first token against the stub: the library's own share of a cold redemption
// (runtime and layers, the redemption's fibers), without a network or a TLS handshake.
const coldOnStub = async (rounds = 200, warmup = 20) => {
  const phases = { construct: [], first: [], close: [] }
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now()
    const credential = newCredential()
    const t1 = performance.now()
    await credential.getToken("api://bench/scope")
    const t2 = performance.now()
    await credential.close()
    const t3 = performance.now()
    if (i < warmup) continue
    phases.construct.push(t1 - t0)
    phases.first.push(t2 - t1)
    phases.close.push(t3 - t2)
  }
  return Object.fromEntries(Object.entries(phases).map(([k, xs]) => [k, median(xs)]))
}

if (process.argv.includes("--effect")) {
  row("Effect getToken (hit counter, no span), 1 cached", await effectCached())
  const cold = await coldOnStub()
  console.log(
    `cold on the stub (median ms): construct ${cold.construct.toFixed(3)}, first getToken ${
      cold.first.toFixed(3)
    }, close ${cold.close.toFixed(3)}`
  )
  process.exit(0)
}

console.log(`node ${process.version}, ${process.arch}; median of 25 batches of 20,000 calls each\n`)
if (globalThis.gc === undefined) console.log("(run with --expose-gc for steady-state figures)\n")

const facade = []
for (const size of [1, 1_000, 100_000]) {
  const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), `--size=${size}`], {
    encoding: "utf8",
    maxBuffer: 1 << 20
  })
  if (child.status !== 0) throw new Error(`size ${size}: ${child.stderr}`)
  facade.push(JSON.parse(child.stdout.trim().split("\n").pop()))
}
for (const { hot, liveMb, size } of facade) {
  row(`facade getToken, ${size.toLocaleString("en")} cached, one hot scope`, hot, `live heap ${liveMb.toFixed(0)} MB`)
}
for (const { call, size } of facade) {
  row(`facade getToken call, not awaited, ${size.toLocaleString("en")} cached, one hot scope`, call)
}
for (const { size, spread } of facade) {
  row(`facade getToken, ${size.toLocaleString("en")} cached, ${Math.min(size, 1024)} scopes in turn`, spread)
}

// 2. The Effect API: `yield* credential.getToken(scope)` inside one fiber.
row("Effect getToken (hit counter, no span), 1 cached", await effectCached())

// 3. 10,000 concurrent first calls on a fresh credential.
{
  for (const key of Object.keys(requests)) requests[key] = 0
  const credential = newCredential()
  const start = performance.now()
  const tokens = await Promise.all(Array.from({ length: 10_000 }, () => credential.getToken("api://bench/scope")))
  const ms = performance.now() - start
  const distinct = new Set(tokens.map((t) => t.token)).size
  console.log(
    `\n10,000 concurrent first calls: ${requests.authorization_code} code redemption(s), ` +
      `${requests.refresh_token} refresh(es), ${distinct} distinct token(s), ${ms.toFixed(0)} ms in all`
  )
  await credential.close()
  for (const key of Object.keys(requests)) requests[key] = 0
  const mixed = newCredential()
  await Promise.all(Array.from({ length: 10_000 }, (_, i) => mixed.getToken(`api://bench/scope-${i % 10}`)))
  console.log(
    `10,000 concurrent first calls over 10 scope sets: ${requests.authorization_code} code redemption(s), ` +
      `${requests.refresh_token} refresh(es)`
  )
  await mixed.close()
}

const spreadOf = (xs) => `${((Math.max(...xs) / Math.min(...xs) - 1) * 100).toFixed(1)}%`
if (process.argv.includes("--json")) console.log(JSON.stringify({ node: process.version, rows }))
console.log(
  `\nflatness 1 → 100,000 cached (target ≤ 25%): awaited ${spreadOf(facade.map((f) => f.hot.median))}, ` +
    `call alone ${spreadOf(facade.map((f) => f.call.median))}; facade median target ≤ 2 µs`
)
