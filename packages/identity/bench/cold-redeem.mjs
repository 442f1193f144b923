// Benchmark of a cold redemption's own cost (not a test): `node packages/identity/bench/cold-redeem.mjs` after
// `npx tsc -b packages/identity`. A new Promise-facade credential, its first getToken (a code redemption) and its
// close, against an in-process stub of the token endpoint: no network and no server, so what is measured is the
// credential's machinery (options, building, the token exchange, decoding, the cache), not a round trip. The
// side-by-side run against the emulator over TLS is scripts/bench-vs-azure.mjs.
//
//   --iterations=N   redemptions per round (default 2000)      --rounds=N   rounds (default 5)
//   --stream         the stub's body has no Content-Length (read through the body cap's chunk loop)
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { Effect } from "effect"
import * as Os from "node:os"
import { performance } from "node:perf_hooks"
import { AuthorizationCodeCredential } from "../dist/promise.js"

const flag = (name, fallback) => {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`) || a === `--${name}`)
  return hit === undefined ? fallback : hit.includes("=") ? hit.slice(hit.indexOf("=") + 1) : true
}
const iterations = Number(flag("iterations", 2000))
const rounds = Number(flag("rounds", 5))
const streamed = flag("stream", false) === true

const clientInfo = Buffer.from(JSON.stringify({ uid: "oid-alice", utid: "home-tenant" })).toString("base64url")
const b64 = (value) => Buffer.from(JSON.stringify(value)).toString("base64url")
// An unsigned ID token with the claims an account is made of (not validated: `validateIdToken: false` below).
const idToken = `${b64({ alg: "none", typ: "JWT" })}.${
  b64({ oid: "oid-alice", sub: "sub-alice", tid: "home-tenant", preferred_username: "alice@example.com" })
}.`
let serial = 0
const stub = HttpClient.make((request) =>
  Effect.sync(() => {
    serial++
    const body = JSON.stringify({
      token_type: "Bearer",
      scope: "api://bench/read openid profile offline_access",
      expires_in: 3600,
      ext_expires_in: 3600,
      access_token: `at-${serial}`,
      refresh_token: `rt-${serial}`,
      id_token: idToken,
      client_info: clientInfo
    })
    const headers = { "content-type": "application/json" }
    if (!streamed) headers["content-length"] = String(Buffer.byteLength(body))
    return HttpClientResponse.fromWeb(request, new Response(body, { status: 200, headers }))
  })
)

const options = {
  httpClient: stub,
  authority: "https://login.example",
  disableInstanceDiscovery: true,
  validateIdToken: false
}
const redeemOnce = async () => {
  const credential = new AuthorizationCodeCredential(
    "home-tenant",
    "client-1",
    "secret",
    "code",
    "http://localhost/cb",
    options
  )
  await credential.getToken("api://bench/read")
  await credential.close()
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

for (let i = 0; i < 200; i++) await redeemOnce() // warm-up: the JIT, the first module loads
const wall = []
const cpu = []
for (let r = 0; r < rounds; r++) {
  const cpuStart = process.cpuUsage()
  const start = performance.now()
  for (let i = 0; i < iterations; i++) await redeemOnce()
  wall.push(((performance.now() - start) * 1000) / iterations)
  const used = process.cpuUsage(cpuStart)
  cpu.push((used.user + used.system) / iterations)
}
const fmt = (us) => `${us.toFixed(1)} µs`
console.log(
  `cold redemption against a stub (${streamed ? "streamed body" : "Content-Length"}): median of ${rounds} rounds of ` +
    `${iterations}: ${fmt(median(wall))} wall (${wall.map(fmt).join(", ")}), ${fmt(median(cpu))} CPU; ` +
    `load average ${Os.loadavg().map((l) => l.toFixed(1)).join(" ")}`
)
