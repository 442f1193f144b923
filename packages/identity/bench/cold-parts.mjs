// Where a cold redemption's CPU goes, layer by layer (not a test): `node packages/identity/bench/cold-parts.mjs`
// after `npx tsc -b packages/identity packages/emulator`. The emulator runs in a process of its own; this process
// redeems fresh codes over HTTPS (one shared, kept-alive connection pool) and reports the median CPU time (user +
// system) of each layer, the layers interleaved call by call so that a change of load hits them all alike:
//
//   undici     a bare undici request with the form, its body read         (the transport alone)
//   platform   the same through NodeHttp.sharedClient's Effect HttpClient (the platform's client)
//   endpoint   TokenEndpoint.redeemCode on that client                     (the token exchange: on NodeHttp's own
//                                                                          pool it posts to undici directly)
//   facade     new AuthorizationCodeCredential + getToken + close           (+ the credential), ID token not validated
//   validated  the same, the ID token validated (the default)
//
//   --n=200   redemptions per layer          --layers=undici,platform,endpoint,facade,validated
//   --warmup=10                              --bundle (the facade from dist/bundle/promise.mjs, as published)
//   --cpu-prof=FILE   a CPU profile of the measured calls only (not the start-up nor the warm-up)
//   --baseline=FILE   adds the layer "baseline": `validated` from another build of the facade (e.g. a copy of
//                     dist/bundle/promise.mjs made before a change), interleaved with the others in this process
import { createRequire } from "node:module"
import * as Os from "node:os"
import { performance } from "node:perf_hooks"
import { fileURLToPath } from "node:url"
import { codes, runBesideEmulator, serveEmulator } from "./emulatorRelay.mjs"

const flag = (name, fallback) => {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`))
  return hit === undefined ? fallback : hit.slice(hit.indexOf("=") + 1)
}
const dist = new URL("../dist/", import.meta.url)

if (process.argv[2] === "--emulator") {
  await serveEmulator()
} else if (process.env.COLD_PARTS === undefined) {
  await runBesideEmulator(fileURLToPath(import.meta.url), fileURLToPath(import.meta.url), "COLD_PARTS")
} else {
  const p = JSON.parse(process.env.COLD_PARTS)
  const { Effect, Redacted, Scope } = await import("effect")
  const HttpClient = await import("@effect/platform/HttpClient")
  const HttpClientRequest = await import("@effect/platform/HttpClientRequest")
  const NodeHttp = await import(new URL("NodeHttp.js", dist))
  const TokenEndpoint = await import(new URL("TokenEndpoint.js", dist))
  const bundled = process.argv.includes("--bundle")
  const { AuthorizationCodeCredential } = await import(new URL(bundled ? "bundle/promise.mjs" : "promise.js", dist))
  const fromPlatformNode = createRequire(createRequire(import.meta.url).resolve("@effect/platform-node/package.json"))
  const undici = fromPlatformNode("undici")

  const client = Effect.runSync(Scope.extend(NodeHttp.sharedClient({}), Effect.runSync(Scope.make())))
  const endpoint = Effect.runSync(Effect.provideService(TokenEndpoint.make(), HttpClient.HttpClient, client))
  const url = `${p.authority}/${p.tenantId}/oauth2/v2.0/token`
  const form = (code) =>
    new URLSearchParams({
      grant_type: "authorization_code",
      client_id: p.clientId,
      client_secret: p.clientSecret,
      code,
      redirect_uri: p.redirectUri,
      scope: "User.Read openid profile offline_access",
      client_info: "1"
    }).toString()
  const contentType = "application/x-www-form-urlencoded"
  const baselineFile = flag("baseline", undefined)
  const Baseline = baselineFile === undefined
    ? undefined
    : (await import(new URL(baselineFile, `file://${process.cwd()}/`))).AuthorizationCodeCredential
  const facade = (validateIdToken, Credential = AuthorizationCodeCredential) => async (code) => {
    const options = { authorityHost: p.authority, disableInstanceDiscovery: true, validateIdToken }
    const credential = new Credential(
      p.tenantId,
      p.clientId,
      p.clientSecret,
      code,
      p.redirectUri,
      options
    )
    await credential.getToken("User.Read")
    await credential.close()
  }
  const layers = {
    undici: async (code) => {
      const response = await undici.request(url, {
        method: "POST",
        body: form(code),
        headers: { "content-type": contentType }
      })
      await response.body.arrayBuffer()
    },
    platform: (code) =>
      Effect.runPromise(Effect.flatMap(
        client.execute(HttpClientRequest.post(url).pipe(HttpClientRequest.bodyText(form(code), contentType))),
        (response) => response.arrayBuffer
      )),
    endpoint: (code) =>
      Effect.runPromise(endpoint.redeemCode({
        authority: p.authority,
        tenantId: p.tenantId,
        clientId: p.clientId,
        clientSecret: Redacted.make(p.clientSecret),
        scopes: ["User.Read"],
        code: Redacted.make(code),
        redirectUri: p.redirectUri
      })),
    facade: facade(false),
    validated: facade(true),
    ...(Baseline === undefined ? {} : { baseline: facade(true, Baseline) })
  }
  const names = flag("layers", Object.keys(layers).join(",")).split(",")
  const n = Number(flag("n", 200))
  const warmup = Number(flag("warmup", 10))
  const profileFile = flag("cpu-prof", undefined)
  const profiler = profileFile === undefined ? undefined : await startProfiler()
  const list = await codes((n + warmup) * names.length)
  let next = 0
  const cpu = Object.fromEntries(names.map((name) => [name, []]))
  for (let i = 0; i < n + warmup; i++) {
    if (i === warmup) await profiler?.start()
    for (const name of names) {
      const start = process.cpuUsage()
      await layers[name](list[next++])
      const used = process.cpuUsage(start)
      if (i >= warmup) cpu[name].push((used.user + used.system) / 1000)
    }
  }
  if (profiler !== undefined) await profiler.stop(profileFile)
  const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1]
  const load = Os.loadavg().map((l) => l.toFixed(1)).join(" ")
  console.log(`CPU per redemption, median of ${n} (load average ${load}; ${performance.now().toFixed(0)} ms):`)
  let previous
  for (const name of names) {
    const ms = median(cpu[name])
    const step = previous === undefined ? "" : ` (${ms >= previous ? "+" : ""}${(ms - previous).toFixed(2)})`
    console.log(`  ${name.padEnd(10)} ${ms.toFixed(2)} ms${step}`)
    previous = ms
  }
  process.exit(0)
}

async function startProfiler() {
  const { Session } = await import("node:inspector")
  const Fs = await import("node:fs")
  const session = new Session()
  session.connect()
  const post = (method, params) =>
    new Promise((resolve, reject) => session.post(method, params, (e, r) => (e ? reject(e) : resolve(r))))
  await post("Profiler.enable")
  await post("Profiler.setSamplingInterval", { interval: Number(flag("interval", 250)) })
  return {
    start: () => post("Profiler.start"),
    stop: async (file) => {
      const { profile } = await post("Profiler.stop")
      Fs.writeFileSync(file, JSON.stringify(profile))
    }
  }
}
