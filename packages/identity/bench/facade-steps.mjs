// The Promise facade's cold redemption timed step by step (not a test): `node packages/identity/bench/facade-steps.mjs [N]`
// after `npx tsc -b packages/identity`. Against an in-process stub (no network): the constructor's option checks,
// building the credential, its first getToken (the redemption), close, and TokenEndpoint.redeemCode alone. Two
// figures per step: the median of the second half of N calls (warm, JIT-compiled) and the mean of calls 3 to 33,
// the regime of `scripts/bench-vs-azure.mjs --cold-only` (a fresh process, 3 warm-up redemptions, then 30).
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { Effect } from "effect"
import { performance } from "node:perf_hooks"
const d = new URL("../dist/", import.meta.url).href
const { facadeSettings } = await import(d + "internal/facadeSettings.js")
const FR = await import(d + "internal/facadeRuntime.js")
const clientInfo = Buffer.from(JSON.stringify({ uid: "oid-alice", utid: "home-tenant" })).toString("base64url")
const b64 = (v) => Buffer.from(JSON.stringify(v)).toString("base64url")
const idToken = `${b64({ alg: "none", typ: "JWT" })}.${
  b64({ oid: "oid-alice", tid: "home-tenant", preferred_username: "a@e" })
}.`
let serial = 0
const stub = HttpClient.make((request) =>
  Effect.sync(() => {
    const body = JSON.stringify({
      token_type: "Bearer",
      scope: "api://bench/read openid profile offline_access",
      expires_in: 3600,
      access_token: `at-${++serial}`,
      refresh_token: `rt-${serial}`,
      id_token: idToken,
      client_info: clientInfo
    })
    return HttpClientResponse.fromWeb(
      request,
      new Response(body, {
        status: 200,
        headers: { "content-type": "application/json", "content-length": String(body.length) }
      })
    )
  })
)
const options = {
  httpClient: stub,
  authority: "https://login.example",
  disableInstanceDiscovery: true,
  validateIdToken: false
}
const TE = await import(d + "TokenEndpoint.js")
const { Redacted } = await import("effect")
const endpoint = Effect.runSync(Effect.provideService(TE.make(), HttpClient.HttpClient, stub))
const t = { ctor: [], build: [], get: [], close: [], endpoint: [] }
const N = Number(process.argv[2] ?? 3000)
for (let i = 0; i < N; i++) {
  let s = performance.now()
  const r = facadeSettings("home-tenant", "client-1", "secret", "code" + i, "http://localhost/cb", options)
  let e = performance.now()
  t.ctor.push(e - s)
  s = e
  const built = FR.build(r.right.settings, r.right.services)
  e = performance.now()
  t.build.push(e - s)
  s = e
  await FR.run(built.service.getToken("api://bench/read"), undefined)
  e = performance.now()
  t.get.push(e - s)
  s = e
  await FR.dispose(built)
  e = performance.now()
  t.close.push(e - s)
  s = e
  await Effect.runPromise(
    endpoint.redeemCode({
      authority: "https://login.example",
      tenantId: "home-tenant",
      clientId: "client-1",
      clientSecret: Redacted.make("secret"),
      scopes: ["api://bench/read"],
      code: Redacted.make("c" + i),
      redirectUri: "http://localhost/cb"
    })
  )
  e = performance.now()
  t.endpoint.push(e - s)
}
const med = (xs) => {
  const a = xs.slice(N / 2).sort((x, y) => x - y)
  return a[a.length >> 1]
}
const first = (xs) => (xs.slice(3, 33).reduce((a, b) => a + b, 0) / 30)
console.log(
  Object.entries(t).map(([k, v]) =>
    `${k}: warm ${(med(v) * 1000).toFixed(0)} µs, iter 3-33 avg ${(first(v) * 1000).toFixed(0)} µs`
  ).join("\n")
)
