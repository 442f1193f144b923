// Soak: minutes of tokens with 5-second lifetimes, renewed under random faults, against the emulator on loopback.
//
//   node --expose-gc scripts/soak.mjs [--seconds 180] [--fault-rate 0.3] [--scopes 3] [--callers 8] [--seed 1]
//
// Build first (`pnpm build`). Several callers ask for tokens every 20 ms over a few scopes. Every 250 ms, when no
// fault is pending and none was answered in the last 2 s, with probability --fault-rate the next token request gets a
// random fault from the emulator. Faults are isolated so that a retry can succeed: a fault on every attempt of one
// request fails the call whatever the client does (that case is in docs/errors.md). The kinds: (429 with and without
// Retry-After, 500/503, an HTML page, a dropped connection, truncated or malformed JSON, an endless body, a slow body
// past the time-out, odd numbers in a 200). It reports:
// - failed calls (the promise: zero while a valid token or refresh token exists, which is always here: the refresh
//   token outlives the run and nothing revokes it);
// - token requests against the ideal: one redemption, one renewal per scope per half-life, and at most one more
//   request per injected fault (a fault answers one request; the retry or the next renewal is the extra one);
// - the heap after a full GC, early and at the end (flat means no growth beyond noise).
// Prints one JSON object on the last line; exits 1 when a promise is broken.
import { startEmulator } from "@effect-entra/emulator"
import { AuthorizationCodeCredential, NodeHttp, TokenCache } from "@effect-entra/identity"
import { Effect, Layer, Logger, LogLevel, ManagedRuntime, Redacted } from "effect"
import * as Crypto from "node:crypto"
import { parseArgs } from "node:util"

const { values: args } = parseArgs({
  options: {
    seconds: { type: "string", default: "180" },
    "fault-rate": { type: "string", default: "0.3" },
    scopes: { type: "string", default: "3" },
    callers: { type: "string", default: "8" },
    seed: { type: "string", default: "1" }
  }
})
const seconds = Number(args.seconds)
const faultRate = Number(args["fault-rate"])
const lifetime = 5
const gc = globalThis.gc ?? (() => undefined)
if (globalThis.gc === undefined) console.error("(run with node --expose-gc for heap figures)")

// A small deterministic generator, so a run can be repeated with --seed.
let state = Number(args.seed) >>> 0 || 1
const random = () => {
  state ^= state << 13
  state ^= state >>> 17
  state ^= state << 5
  return (state >>> 0) / 4294967296
}
const pick = (list) => list[Math.floor(random() * list.length)]

const faults = [
  { kind: "status", status: 429, retryAfter: 1 },
  { kind: "status", status: 429 },
  { kind: "status", status: 500 },
  { kind: "status", status: 503, retryAfter: 1 },
  { kind: "html", status: 502 },
  { kind: "drop" },
  { kind: "truncate" },
  { kind: "malformed" },
  { kind: "malformed", variant: "no-token" },
  { kind: "endless" },
  { kind: "slow", intervalMs: 2000, bytes: 1 },
  { kind: "delay", ms: 300 },
  { kind: "numbers", variant: "infinity" },
  { kind: "numbers", variant: "huge" },
  { kind: "numbers", variant: "epoch" }
]

const emulator = await startEmulator({ config: { accessTokenLifetime: lifetime } })
const scopes = Array.from(
  { length: Number(args.scopes) },
  (_, i) =>
    i === 0
      ? emulator.defaults.scope
      : `https://graph.microsoft.com/${["User.Read", "Mail.Read", "Files.Read"][i - 1] ?? "User.Read"}`
)
const verifier = Crypto.randomBytes(48).toString("base64url")
const { code } = await emulator.signIn({
  codeChallenge: Crypto.createHash("sha256").update(verifier).digest("base64url")
})

const runtime = ManagedRuntime.make(
  AuthorizationCodeCredential.layer({
    tenantId: emulator.defaults.tenantId,
    clientId: emulator.defaults.clientId,
    clientSecret: Redacted.make(emulator.defaults.clientSecret),
    redirectUri: emulator.defaults.redirectUri,
    authority: emulator.authority,
    authorizationCode: Redacted.make(code),
    codeVerifier: Redacted.make(verifier),
    // Scaled to the 5 s lifetime: a failed proactive renewal is tried again after 0.5 s (30 s against an hour).
    refreshRetryDelay: "500 millis",
    // A slow or endless body is cut by the per-attempt time-out; 1 s is plenty on loopback.
    http: { requestTimeout: "1 second", baseDelay: "50 millis", maxDelay: "1 second" }
  }).pipe(
    Layer.provide([TokenCache.layerMemory, NodeHttp.layer({ ca: emulator.caPem })]),
    Layer.provide(Logger.minimumLogLevel(LogLevel.Error))
  )
)

const counts = { calls: 0, failed: 0, faultsInjected: 0 }
const failures = new Map()
const grants = { authorization_code: { ok: 0, failed: 0 }, refresh_token: { ok: 0, failed: 0 } }
const faultKinds = new Map()
let faultsAnswered = 0
let lastFaultAnsweredAt = 0
const drainLog = async () => {
  for (const entry of await emulator.requests({ endpoint: "token" })) {
    const grant = grants[entry.grantType]
    if (grant !== undefined) grant[entry.status === 200 ? "ok" : "failed"]++
    if (entry.fault !== undefined) {
      faultsAnswered++
      lastFaultAnsweredAt = performance.now()
    }
  }
  await emulator.clearRequests()
}

const started = performance.now()
const until = started + seconds * 1000
let heapEarly
const heap = () => {
  gc()
  return process.memoryUsage().heapUsed
}

const caller = async () => {
  while (performance.now() < until) {
    const scope = pick(scopes)
    counts.calls++
    try {
      const token = await runtime.runPromise(
        Effect.flatMap(AuthorizationCodeCredential.AuthorizationCodeCredential, (c) => c.getToken(scope))
      )
      if (Redacted.value(token.token).length === 0) throw new Error("empty token")
    } catch (error) {
      counts.failed++
      const reason = String(error?.message ?? error).slice(0, 160)
      failures.set(reason, (failures.get(reason) ?? 0) + 1)
    }
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

const injector = async () => {
  while (performance.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 250))
    await drainLog()
    const quiet = performance.now() - lastFaultAnsweredAt > 2000
    if (faultsAnswered === counts.faultsInjected && quiet && random() < faultRate) {
      const fault = pick(faults)
      await emulator.injectFault({ endpoint: "token", times: 1, ...fault })
      counts.faultsInjected++
      const name = `${fault.kind}${fault.status ? ` ${fault.status}` : ""}${fault.variant ? ` ${fault.variant}` : ""}`
      faultKinds.set(name, (faultKinds.get(name) ?? 0) + 1)
    }
  }
}

const sampler = async () => {
  await new Promise((resolve) => setTimeout(resolve, Math.min(20_000, seconds * 100)))
  heapEarly = heap()
}

await Promise.all([...Array.from({ length: Number(args.callers) }, caller), injector(), sampler()])
const elapsed = (performance.now() - started) / 1000
await drainLog()
const heapEnd = heap()
await runtime.dispose()
await emulator.close()

// One redemption, then each scope renews at half-life; the first token of each other scope is a refresh too. Each
// injected fault spoils one request, which costs one more.
// (The tokens of the first moment are renewed from the first half-life on, and the one due at the very end is not.)
const renewals = scopes.length + Math.max(0, Math.floor(elapsed / (lifetime / 2)) - 1) * scopes.length
const ideal = renewals + counts.faultsInjected
const requests = grants.authorization_code.ok + grants.authorization_code.failed + grants.refresh_token.ok +
  grants.refresh_token.failed
const result = {
  seconds: Math.round(elapsed),
  lifetimeSeconds: lifetime,
  scopes: scopes.length,
  callers: Number(args.callers),
  calls: counts.calls,
  failedCalls: counts.failed,
  failures: Object.fromEntries(failures),
  faultsInjected: counts.faultsInjected,
  faultKinds: Object.fromEntries(faultKinds),
  tokenRequests: grants,
  tokenRequestsTotal: requests,
  idealTokenRequests: ideal,
  overIdeal: Number(((requests - ideal) / ideal * 100).toFixed(1)),
  heapEarlyMiB: heapEarly === undefined ? undefined : Number((heapEarly / 2 ** 20).toFixed(1)),
  heapEndMiB: Number((heapEnd / 2 ** 20).toFixed(1)),
  node: process.version
}
console.log(JSON.stringify(result))
const heapGrowth = heapEarly === undefined ? 0 : (heapEnd - heapEarly) / heapEarly
const broken = result.failedCalls > 0 || result.overIdeal > 10 || heapGrowth > 0.25
process.exit(broken ? 1 : 0)
