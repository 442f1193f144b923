// Side-by-side benchmark of @effect-entra/identity and @azure/identity against the same local Entra ID emulator
// (not a test): `node scripts/bench-vs-azure.mjs` after `pnpm build`. See scripts/README.md.
//
// The parent starts the emulator, then runs each library and scenario in a child process started with
// NODE_EXTRA_CA_CERTS=<the emulator's CA file> (Node reads it only at start-up). Children print one JSON line. Only
// the loopback emulator is ever contacted: children refuse any other TCP destination.
import { spawn } from "node:child_process"
import * as Fs from "node:fs"
import * as Https from "node:https"
import { createRequire } from "node:module"
import * as Net from "node:net"
import * as Os from "node:os"
import * as Path from "node:path"
import { performance } from "node:perf_hooks"
import { fileURLToPath, pathToFileURL } from "node:url"

const scriptPath = fileURLToPath(import.meta.url)
const root = Path.resolve(Path.dirname(scriptPath), "..")
const LIBS = ["effect-entra", "azure-identity"]
const LABELS = { "effect-entra": "@effect-entra/identity", "azure-identity": "@azure/identity" }

// 100 resource apps × 1,000 API scopes = 100,000 distinct single scopes. Single scopes, since MSAL evicts cached
// tokens whose scopes intersect the new one's; several apps, since the emulator looks scopes up linearly.
const RESOURCES = 100
const SCOPES_PER_RESOURCE = 1000
const resourceId = (r) => `5ca1ab1e-0000-4000-8000-${r.toString(16).padStart(12, "0")}`
const scopeOf = (i) => `api://${resourceId(Math.floor(i / SCOPES_PER_RESOURCE))}/s${i % SCOPES_PER_RESOURCE}`

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}
const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]
const stats = (xs) => ({
  median: median(xs),
  p90: quantile(xs, 0.9),
  min: Math.min(...xs),
  max: Math.max(...xs),
  n: xs.length
})

// ---------------------------------------------------------------------------------------------------------------
// Parent: emulator, children, report.
// ---------------------------------------------------------------------------------------------------------------

async function parent(argv) {
  const flag = (name, fallback) => {
    const hit = argv.find((a) => a === `--${name}` || a.startsWith(`--${name}=`))
    return hit === undefined ? fallback : hit.includes("=") ? hit.slice(hit.indexOf("=") + 1) : true
  }
  if (flag("help", false)) {
    console.log(
      "node scripts/bench-vs-azure.mjs [--quick] [--cold=30] [--cold-rounds=1] [--cold-only] [--sizes=1,1000,100000]\n" +
        "  [--fill-seconds=90] [--emulator-fill=1000|all] [--concurrency=100] [--only=effect-entra|azure-identity]\n" +
        "  [--cpu-prof=DIR] [--out=docs] [--no-write]"
    )
    return
  }
  const quick = flag("quick", false) === true
  const options = {
    cold: Number(flag("cold", quick ? 10 : 30)),
    // Rounds of the first cold scenario, the libraries alternating (ABBA) so that a load change hits both alike.
    coldRounds: Number(flag("cold-rounds", 1)),
    coldOnly: flag("cold-only", false) === true,
    cpuProf: flag("cpu-prof", false) === false ? undefined : Path.resolve(String(flag("cpu-prof"))),
    sizes: String(flag("sizes", quick ? "1,1000,10000" : "1,1000,100000")).split(",").map(Number),
    fillSeconds: Number(flag("fill-seconds", quick ? 20 : 90)),
    concurrency: Number(flag("concurrency", 100)),
    libs: flag("only", false) === false ? LIBS : [flag("only")],
    emulatorFill: flag("emulator-fill", "1000") === "all" ? 1e9 : Number(flag("emulator-fill", "1000")),
    write: flag("no-write", false) !== true,
    out: Path.resolve(root, String(flag("out", "docs")))
  }
  if (options.sizes.some((s) => !(s >= 1 && s <= RESOURCES * SCOPES_PER_RESOURCE))) {
    throw new Error(`--sizes: each between 1 and ${RESOURCES * SCOPES_PER_RESOURCE}`)
  }
  for (const file of ["packages/identity/dist/promise.js", "packages/emulator/dist/index.js"]) {
    if (!Fs.existsSync(Path.join(root, file))) {
      console.error(`${file} is missing: run \`pnpm build\` first`)
      process.exit(1)
    }
  }
  const { startEmulator } = await import("../packages/emulator/dist/index.js")
  const apps = Array.from({ length: RESOURCES }, (_, r) => ({
    clientId: resourceId(r),
    displayName: `Bench API ${r}`,
    type: "native", // an API registration only: never a client here, so no secret
    redirectUris: [],
    apiScopes: Array.from({ length: SCOPES_PER_RESOURCE }, (_, j) => `s${j}`)
  }))
  const started = performance.now()
  const loadBefore = Os.loadavg()
  const emulator = await startEmulator({ config: { apps } })
  const log = (msg) =>
    console.error(`[bench ${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${msg}`)
  const results = { effectEntra: {}, azureIdentity: {} }
  const key = (lib) => (lib === "effect-entra" ? "effectEntra" : "azureIdentity")
  let versions = {}
  try {
    const d = emulator.defaults
    const base = {
      authority: emulator.authority,
      caFile: emulator.caFile,
      tenantId: d.tenantId,
      clientId: d.clientId,
      clientSecret: d.clientSecret,
      redirectUri: d.redirectUri
    }
    const signIn = async () => (await emulator.signIn()).code

    // Runs one child on a clean emulator and returns its result plus the emulator's count of its token requests.
    const run = async (lib, scenario, extra, timeoutMs) => {
      await emulator.reset()
      const codes = []
      for (let i = 0; i < (extra.codes ?? 1); i++) codes.push(await signIn())
      await emulator.clearRequests()
      const result = await runChild(
        { ...base, ...extra, lib, scenario, codes },
        timeoutMs,
        emulator.caFile,
        options.cpuProf
      )
      const all = await emulator.requests()
      return { ...result, emulatorRequests: summarizeRequests(all) }
    }

    const rounds = Object.fromEntries(options.libs.map((lib) => [lib, []]))
    for (let round = 0; round < options.coldRounds; round++) {
      const order = round % 2 === 0 ? options.libs : [...options.libs].reverse()
      for (const lib of order) {
        log(`${LABELS[lib]}: cold redeem × ${options.cold} (+3 warm-up), round ${round + 1} of ${options.coldRounds}`)
        const cold = await run(lib, "cold", { codes: options.cold + 3, warmup: 3 }, 120_000)
        versions = { ...versions, ...cold.versions }
        rounds[lib].push(cold)
      }
    }
    for (const lib of options.libs) results[key(lib)].cold = mergeRounds(rounds[lib])
    if (!options.coldOnly) await otherScenarios(run)
  } finally {
    await emulator.close()
  }
  // The scenarios after the first cold one.
  async function otherScenarios(run) {
    for (const lib of options.libs) {
      log(`${LABELS[lib]}: cold redeem with another credential open × ${options.cold} (+3 warm-up)`)
      results[key(lib)].coldBesideOpen = await run(
        lib,
        "cold",
        { codes: options.cold + 4, warmup: 3, keepOneOpen: true },
        120_000
      )
    }
    if (options.libs.includes("effect-entra")) {
      log(`${LABELS["effect-entra"]} with the \`ca\` option: cold redeem × ${options.cold} (+3 warm-up)`)
      results.effectEntra.coldWithCa = await run(
        "effect-entra",
        "cold",
        { codes: options.cold + 3, warmup: 3, withCa: true },
        120_000
      )
    }
    for (const lib of options.libs) {
      log(`${LABELS[lib]}: ${options.concurrency} concurrent first calls`)
      results[key(lib)].concurrent = await run(lib, "concurrent", { calls: options.concurrency }, 120_000)
    }
    for (const lib of options.libs) {
      log(
        `${LABELS[lib]}: cached getToken at ${options.sizes.join(" / ")} tokens (fill ≤ ${options.fillSeconds} s each)`
      )
      results[key(lib)].cached = await run(
        lib,
        "cached",
        {
          codes: 2,
          sizes: options.sizes,
          fillSeconds: options.fillSeconds,
          emulatorFill: options.emulatorFill,
          hotScope: scopeOf(0)
        },
        (options.fillSeconds * options.sizes.length + 120) * 1000
      )
    }
  }

  const cpus = Os.cpus()
  const report = {
    generatedAt: new Date().toISOString(),
    command: `node scripts/bench-vs-azure.mjs ${argv.join(" ")}`.trim(),
    machine: {
      node: process.version,
      platform: `${process.platform} ${Os.release()} ${process.arch}`,
      cpuModel: cpus[0]?.model ?? "unknown",
      cores: cpus.length,
      memoryGiB: Math.round(Os.totalmem() / 2 ** 30),
      loadAverageBefore: loadBefore.map((l) => Number(l.toFixed(2))),
      loadAverageAfter: Os.loadavg().map((l) => Number(l.toFixed(2)))
    },
    versions,
    method: {
      transport: "HTTPS to the emulator on 127.0.0.1 (RS256 tokens), each library in its own child process",
      cold: `median of ${options.cold} fresh authorization codes: new credential + first getToken (after 3 warm-up)`,
      coldBesideOpen: "the same while one other credential of the library stays open (connections may be shared)",
      cached: "ns per awaited getToken(hotScope) on one credential, median of timed batches after warm-up; the " +
        "cache is filled through the library's getToken with distinct single scopes (api://<resource>/s<n>): the " +
        `first ${options.emulatorFill >= 1e9 ? "all" : options.emulatorFill.toLocaleString("en")} tokens from the ` +
        "emulator over TLS, later refresh responses replayed in-process through the library's HTTP-client hook " +
        "(a real emulator response with the requested scope); each fill is capped at fillSeconds",
      emulatorFill: options.emulatorFill >= 1e9 ? "all" : options.emulatorFill,
      concurrent: `${options.concurrency} getToken(scope) calls at once on a fresh credential; token requests ` +
        "counted by the emulator",
      fillSeconds: options.fillSeconds,
      sizes: options.sizes
    },
    results
  }
  const table = markdownTable(report)
  console.log(`\n${table}`)
  if (options.write) {
    const { renderChart } = await import("./bench-chart.mjs")
    Fs.mkdirSync(options.out, { recursive: true })
    Fs.writeFileSync(Path.join(options.out, "bench-vs-azure.json"), `${JSON.stringify(report, null, 2)}\n`)
    Fs.writeFileSync(Path.join(options.out, "bench-vs-azure.svg"), renderChart(report))
    log(`wrote ${Path.relative(process.cwd(), options.out) || "."}/bench-vs-azure.{json,svg}`)
  }
  log("done")
}

/**
 * One library's cold rounds as one result: the median is the median of the rounds' medians (each round a fresh
 * process), and every round's median is kept so that the spread is visible.
 */
function mergeRounds(rounds) {
  const failed = rounds.find((r) => r.error !== undefined)
  if (failed !== undefined || rounds.length === 1) return failed ?? rounds[0]
  const medians = rounds.map((r) => r.ms.median)
  const all = rounds.flatMap((r) => r.msSamples)
  return {
    ...rounds[0],
    samples: rounds[0].samples,
    rounds: rounds.length,
    roundMedians: medians.map((m) => Number(m.toFixed(3))),
    ms: { ...stats(all), median: median(medians) },
    cpuMs: { median: median(rounds.map((r) => r.cpuMs.median)) },
    msSamples: all
  }
}

function runChild(params, timeoutMs, caFile, cpuProfDir) {
  const env = { ...process.env }
  // Nothing may leave the machine: no proxy, the emulator as authority host.
  for (const k of Object.keys(env)) if (/^(https?|all|no)_proxy$/i.test(k)) delete env[k]
  env.NO_PROXY = "127.0.0.1,localhost"
  env.AZURE_AUTHORITY_HOST = params.authority
  env.NODE_EXTRA_CA_CERTS = caFile
  env.BENCH_CHILD = JSON.stringify(params)
  delete env.AZURE_LOG_LEVEL
  return new Promise((resolve) => {
    const profile = cpuProfDir === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${cpuProfDir}`]
    const proc = spawn(process.execPath, ["--max-old-space-size=4096", ...profile, scriptPath, "--child"], {
      env,
      stdio: ["ignore", "pipe", "inherit"]
    })
    let out = ""
    proc.stdout.on("data", (chunk) => (out += chunk))
    const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs)
    proc.on("close", (code, signal) => {
      clearTimeout(timer)
      const last = out.trim().split("\n").pop() ?? ""
      try {
        resolve(JSON.parse(last))
      } catch {
        resolve({ error: `child exited with ${signal ?? code} after ${timeoutMs / 1000} s at most, no result` })
      }
    })
  })
}

function summarizeRequests(entries) {
  const token = entries.filter((e) => e.endpoint === "token")
  const byGrant = {}
  for (const e of token) {
    const g = (byGrant[e.grantType ?? "none"] ??= { total: 0, ok: 0, errors: {} })
    g.total++
    if (e.status === 200) g.ok++
    else {
      const code = e.errorCode === undefined ? `${e.status} ${e.error ?? ""}`.trim() : `AADSTS${e.errorCode}`
      g.errors[code] = (g.errors[code] ?? 0) + 1
    }
  }
  const byEndpoint = {}
  for (const e of entries) byEndpoint[e.endpoint] = (byEndpoint[e.endpoint] ?? 0) + 1
  return { total: entries.length, byEndpoint, token: byGrant }
}

// ---------------------------------------------------------------------------------------------------------------
// Markdown table.
// ---------------------------------------------------------------------------------------------------------------

export function formatNs(ns) {
  if (ns === undefined || !Number.isFinite(ns)) return "–"
  if (ns < 1000) return `${ns.toFixed(0)} ns`
  if (ns < 1e6) return `${(ns / 1000).toFixed(ns < 1e4 ? 2 : 1)} µs`
  if (ns < 1e9) return `${(ns / 1e6).toFixed(ns < 1e7 ? 2 : 1)} ms`
  return `${(ns / 1e9).toFixed(2)} s`
}

function markdownTable(report) {
  const { effectEntra: a, azureIdentity: b } = report.results
  const rows = []
  const ratio = (x, y) => (x > 0 && y > 0 ? `${(y / x).toFixed(y / x >= 10 ? 0 : 1)}×` : "–")
  const err = (r) => (r?.error === undefined ? undefined : `error: ${r.error}`)
  rows.push([
    `Cold redeem (new credential + first getToken), median of ${a.cold?.samples ?? b.cold?.samples ?? "?"}${
      a.cold?.rounds === undefined ? "" : ` (median of ${a.cold.rounds} rounds' medians)`
    }`,
    err(a.cold) ?? formatNs(a.cold?.ms?.median * 1e6),
    err(b.cold) ?? formatNs(b.cold?.ms?.median * 1e6),
    ratio(a.cold?.ms?.median, b.cold?.ms?.median)
  ])
  if (a.cold?.roundMedians !== undefined || b.cold?.roundMedians !== undefined) {
    const list = (r) => r?.roundMedians?.map((ms) => formatNs(ms * 1e6)).join(", ") ?? "–"
    const ratios = (a.cold?.roundMedians ?? []).map((ms, i) => ratio(ms, b.cold?.roundMedians?.[i]))
    rows.push(["Cold redeem, each round's median", list(a.cold), list(b.cold), ratios.join(", ")])
  }
  if (a.cold?.cpuMs !== undefined || b.cold?.cpuMs !== undefined) {
    rows.push([
      "Cold redeem: the client process's CPU time (user + system), median",
      formatNs(a.cold?.cpuMs?.median * 1e6),
      formatNs(b.cold?.cpuMs?.median * 1e6),
      ratio(a.cold?.cpuMs?.median, b.cold?.cpuMs?.median)
    ])
  }
  if (a.coldBesideOpen !== undefined || b.coldBesideOpen !== undefined) {
    rows.push([
      "Cold redeem while another credential is open (a server with users signed in)",
      err(a.coldBesideOpen) ?? formatNs(a.coldBesideOpen?.ms?.median * 1e6),
      err(b.coldBesideOpen) ?? formatNs(b.coldBesideOpen?.ms?.median * 1e6),
      ratio(a.coldBesideOpen?.ms?.median, b.coldBesideOpen?.ms?.median)
    ])
  }
  if (a.coldWithCa !== undefined) {
    rows.push([
      "Cold redeem, ours with the `ca` option (instead of NODE_EXTRA_CA_CERTS)",
      err(a.coldWithCa) ?? formatNs(a.coldWithCa.ms?.median * 1e6),
      "",
      ""
    ])
  }
  for (const size of report.method.sizes) {
    const cell = (r) => {
      if (r?.error !== undefined) return `error: ${r.error}`
      const m = r?.sizes?.find((s) => s.size === size)
      if (m === undefined) return r?.sizes?.some((s) => !s.complete) ? "not reached (earlier fill capped)" : "–"
      const value = formatNs(m.nsPerOp.median)
      return m.complete ? value : `${value} at ${m.reached.toLocaleString("en")} (fill capped at ${m.fillSeconds} s)`
    }
    const ma = a.cached?.sizes?.find((s) => s.size === size)
    const mb = b.cached?.sizes?.find((s) => s.size === size)
    rows.push([
      `Cached getToken, ${size.toLocaleString("en")} token${size === 1 ? "" : "s"} cached`,
      cell(a.cached),
      cell(b.cached),
      ratio(ma?.nsPerOp.median, mb?.nsPerOp.median) + (mb !== undefined && !mb.complete ? " (at a smaller size)" : "")
    ])
  }
  for (const size of report.method.sizes.filter((s) => s > 1)) {
    const fill = (r) => {
      const m = r?.sizes?.find((s) => s.size === size)
      return m?.fillRate === undefined
        ? "–"
        : `${Math.round(m.fillRate).toLocaleString("en")} tokens/s (${m.fillSource})`
    }
    rows.push([`Cache fill rate up to ${size.toLocaleString("en")}`, fill(a.cached), fill(b.cached), ""])
  }
  const conc = (r) => r?.concurrent
  const n = conc(a)?.calls ?? conc(b)?.calls ?? 100
  rows.push([
    `${n} concurrent first calls: wall time`,
    err(conc(a)) ?? formatNs(conc(a)?.wallMs * 1e6),
    err(conc(b)) ?? formatNs(conc(b)?.wallMs * 1e6),
    ratio(conc(a)?.wallMs, conc(b)?.wallMs)
  ])
  const requests = (r) => {
    const t = r?.emulatorRequests?.token
    if (t === undefined) return "–"
    return Object.entries(t).map(([grant, g]) => {
      const errors = Object.entries(g.errors).map(([code, count]) => `${count} ${code}`).join(", ")
      return `${g.total} ${grant} (${g.ok} ok${errors.length > 0 ? `, ${errors}` : ""})`
    }).join("; ")
  }
  rows.push([`${n} concurrent first calls: token requests`, requests(conc(a)), requests(conc(b)), ""])
  const outcome = (r) =>
    r === undefined || r.error !== undefined ?
      "–" :
      `${r.succeeded} ok, ${r.failed} failed${
        Object.keys(r.failures).length > 0 ?
          ` (${Object.entries(r.failures).map(([k, v]) => `${v}× ${k}`).join(", ")})` :
          ""
      }; ${r.distinctTokens} distinct token(s)`
  rows.push([`${n} concurrent first calls: getToken results`, outcome(conc(a)), outcome(conc(b)), ""])

  const m = report.machine
  const lines = [
    `Node ${m.node}, ${m.cpuModel} × ${m.cores} cores, ${m.platform}; @azure/identity ${
      report.versions["@azure/identity"] ?? "?"
    } (msal-node ${report.versions["@azure/msal-node"] ?? "?"}); load average ${m.loadAverageBefore.join(" ")} → ${
      m.loadAverageAfter.join(" ")
    }`,
    "",
    "| Scenario | @effect-entra/identity | @azure/identity | @azure/identity ÷ ours |",
    "|---|---|---|---|",
    ...rows.map((r) => `| ${r.join(" | ")} |`)
  ]
  return lines.join("\n")
}

// ---------------------------------------------------------------------------------------------------------------
// Child: one library, one scenario; prints one JSON line.
// ---------------------------------------------------------------------------------------------------------------

async function child(params) {
  guardLoopback()
  const progress = (msg) => process.stderr.write(`  [${LABELS[params.lib]}] ${msg}\n`)
  let result
  try {
    const lib = await loadLibrary(params)
    const scenario = { cold, concurrent, cached }[params.scenario]
    result = {
      lib: params.lib,
      scenario: params.scenario,
      versions: lib.versions,
      ...await scenario(lib, params, progress)
    }
  } catch (e) {
    result = { lib: params.lib, scenario: params.scenario, error: describeError(e) }
  }
  process.stdout.write(`${JSON.stringify(result)}\n`)
  // MSAL and the HTTP pools may keep sockets alive; the result is out.
  process.exit(0)
}

// Refuses every TCP connection that is not to loopback (all of net, tls, http, https and undici go through here).
function guardLoopback() {
  const connect = Net.Socket.prototype.connect
  const allowed = new Set(["127.0.0.1", "localhost", "::1"])
  Net.Socket.prototype.connect = function(...args) {
    const first = Array.isArray(args[0]) ? args[0][0] : args[0]
    const host = typeof first === "object" && first !== null ?
      (first.path === undefined ? (first.host ?? "localhost") : "localhost") :
      typeof first === "number" || /^\d+$/.test(String(first)) ?
      (typeof args[1] === "string" ? args[1] : "localhost") :
      "localhost" // a path: a Unix socket
    if (!allowed.has(host)) throw new Error(`bench-vs-azure: refusing a connection to ${host} (loopback only)`)
    return connect.apply(this, args)
  }
}

function packageVersion(require, name) {
  let dir = Path.dirname(require.resolve(name))
  while (dir !== Path.dirname(dir)) {
    const file = Path.join(dir, "package.json")
    if (Fs.existsSync(file)) {
      const pkg = JSON.parse(Fs.readFileSync(file, "utf8"))
      if (pkg.name === name) return pkg.version
    }
    dir = Path.dirname(dir)
  }
  return "unknown"
}

const OIDC = new Set(["openid", "profile", "email", "offline_access"])

/**
 * A transport hook for bulk cache fills: while `active`, refresh-token requests are answered in-process with a
 * real emulator response (`template`) whose `scope` is the requested one; everything else goes to the emulator.
 */
const makeReplay = () => ({
  active: false,
  template: undefined,
  replayed: 0,
  answer(form) {
    if (!this.active || form.get("grant_type") !== "refresh_token") return undefined
    this.replayed++
    const scope = (form.get("scope") ?? "").split(" ").filter((x) => x.length > 0 && !OIDC.has(x.toLowerCase()))
    return JSON.stringify({ ...this.template, scope: scope.join(" ") })
  }
})

async function loadLibrary(params) {
  const { authority, clientId, clientSecret, redirectUri, tenantId } = params
  if (params.lib === "effect-entra") {
    const { AuthorizationCodeCredential } = await import("../packages/identity/dist/promise.js")
    const require = createRequire(Path.join(root, "packages/identity/package.json"))
    // The ES modules the built package itself imports (require.resolve names the CommonJS build).
    const esm = (id) => {
      const sep = Path.sep
      return import(
        pathToFileURL(require.resolve(id).replace(`${sep}dist${sep}cjs${sep}`, `${sep}dist${sep}esm${sep}`))
      )
    }
    const ca = params.withCa === true ? Fs.readFileSync(params.caFile, "utf8") : undefined
    const options = { authorityHost: authority, disableInstanceDiscovery: true, ...(ca === undefined ? {} : { ca }) }
    return {
      versions: { effect: packageVersion(require, "effect") },
      create: (code) => new AuthorizationCodeCredential(tenantId, clientId, clientSecret, code, redirectUri, options),
      createWithReplay: async (code, replay) => {
        const HttpClient = await esm("@effect/platform/HttpClient")
        const HttpClientResponse = await esm("@effect/platform/HttpClientResponse")
        const { Effect, ManagedRuntime } = await esm("effect")
        const NodeHttp = await import("../packages/identity/dist/NodeHttp.js")
        const runtime = ManagedRuntime.make(NodeHttp.layer(ca === undefined ? {} : { ca }))
        const real = await runtime.runPromise(HttpClient.HttpClient)
        const httpClient = HttpClient.make((request) => {
          const body = replay.answer(new URLSearchParams(new TextDecoder().decode(request.body.body)))
          if (body === undefined) return real.execute(request)
          return Effect.succeed(HttpClientResponse.fromWeb(
            request,
            new Response(body, { status: 200, headers: { "content-type": "application/json" } })
          ))
        })
        const credential = new AuthorizationCodeCredential(tenantId, clientId, clientSecret, code, redirectUri, {
          ...options,
          httpClient
        })
        return { credential, dispose: () => runtime.dispose() }
      },
      close: (credential) => credential.close()
    }
  }
  const require = createRequire(Path.join(root, "packages/emulator/package.json"))
  const { AuthorizationCodeCredential } = require("@azure/identity")
  const fromIdentity = createRequire(require.resolve("@azure/identity"))
  const options = { authorityHost: authority, disableInstanceDiscovery: true }
  return {
    versions: {
      "@azure/identity": packageVersion(require, "@azure/identity"),
      "@azure/msal-node": packageVersion(fromIdentity, "@azure/msal-node")
    },
    create: (code) => new AuthorizationCodeCredential(tenantId, clientId, clientSecret, code, redirectUri, options),
    createWithReplay: async (code, replay) => {
      const { createDefaultHttpClient, createHttpHeaders } = fromIdentity("@azure/core-rest-pipeline")
      const real = createDefaultHttpClient()
      const httpClient = {
        sendRequest: async (request) => {
          const body = typeof request.body === "string" ? replay.answer(new URLSearchParams(request.body)) : undefined
          if (body === undefined) return real.sendRequest(request)
          return {
            request,
            status: 200,
            headers: createHttpHeaders({ "content-type": "application/json" }),
            bodyAsText: body
          }
        }
      }
      const credential = new AuthorizationCodeCredential(tenantId, clientId, clientSecret, code, redirectUri, {
        ...options,
        httpClient
      })
      return { credential, dispose: async () => {} }
    },
    close: async () => {}
  }
}

// A real token response for the signed-in user (a spare code redeemed directly), the template of replayed ones.
function redeemDirectly(params, code) {
  const form = new URLSearchParams({
    grant_type: "authorization_code",
    client_id: params.clientId,
    client_secret: params.clientSecret,
    code,
    redirect_uri: params.redirectUri,
    scope: `${HOT(params)} openid profile offline_access`,
    client_info: "1"
  })
  return new Promise((resolve, reject) => {
    const request = Https.request(`${params.authority}/${params.tenantId}/oauth2/v2.0/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" }
    }, (response) => {
      let text = ""
      response.on("data", (chunk) => (text += chunk))
      response.on("end", () => {
        const body = JSON.parse(text)
        if (response.statusCode === 200) resolve(body)
        else reject(new Error(`template redemption failed: ${body.error}`))
      })
    })
    request.on("error", reject)
    request.end(form.toString())
  })
}

function describeError(e) {
  const text = `${e?.name ?? "Error"}: ${e?.message ?? String(e)}`
  const aadsts = /AADSTS\d+/.exec(text)
  return aadsts !== null ? `${e?.name ?? "Error"} ${aadsts[0]}` : text.split("\n")[0].slice(0, 200)
}

function HOT(params) {
  return params.hotScope ?? scopeOf(0)
}

async function cold(lib, params) {
  const samples = []
  // A server with users already signed in: one credential stays open while the others come and go.
  let open
  if (params.keepOneOpen) {
    open = lib.create(params.codes[0])
    await open.getToken(HOT(params))
  }
  // This process's CPU time per redemption (the emulator runs in the parent): what a library can cut.
  const cpuSamples = []
  for (const [i, code] of params.codes.slice(open === undefined ? 0 : 1).entries()) {
    const cpuStart = process.cpuUsage()
    const start = performance.now()
    const credential = lib.create(code)
    await credential.getToken(HOT(params))
    const ms = performance.now() - start
    const cpu = process.cpuUsage(cpuStart)
    await lib.close(credential)
    if (i >= params.warmup) {
      samples.push(ms)
      cpuSamples.push((cpu.user + cpu.system) / 1000)
    }
  }
  if (open !== undefined) await lib.close(open)
  return {
    samples: samples.length,
    ms: stats(samples),
    msSamples: samples.map((x) => Number(x.toFixed(3))),
    cpuMs: stats(cpuSamples)
  }
}

async function concurrent(lib, params) {
  const credential = lib.create(params.codes[0])
  const start = performance.now()
  const settled = await Promise.allSettled(
    Array.from({ length: params.calls }, () => credential.getToken(HOT(params)))
  )
  const wallMs = performance.now() - start
  await lib.close(credential)
  const failures = {}
  for (const s of settled) {
    if (s.status === "rejected") {
      const k = describeError(s.reason)
      failures[k] = (failures[k] ?? 0) + 1
    }
  }
  const ok = settled.filter((s) => s.status === "fulfilled")
  return {
    calls: params.calls,
    wallMs,
    succeeded: ok.length,
    failed: settled.length - ok.length,
    failures,
    distinctTokens: new Set(ok.map((s) => s.value.token)).size
  }
}

/** Median ns per awaited call of `f` over timed batches, after calibration and warm-up. */
async function measure(f, budgetMs = 1500) {
  const time = async (n) => {
    const start = performance.now()
    for (let i = 0; i < n; i++) await f()
    return performance.now() - start
  }
  let batch = 1
  while (batch < 1 << 20 && (await time(batch)) < 10) batch *= 2
  await time(batch) // warm-up at the final batch size
  const samples = []
  const start = performance.now()
  while (samples.length < 5 || (samples.length < 30 && performance.now() - start < budgetMs)) {
    samples.push(((await time(batch)) * 1e6) / batch)
  }
  return { ...stats(samples), batch }
}

async function cached(lib, params, progress) {
  const replay = makeReplay()
  replay.template = await redeemDirectly(params, params.codes[1])
  const { credential, dispose } = await lib.createWithReplay(params.codes[0], replay)
  const hot = HOT(params)
  const first = await credential.getToken(hot)
  let filled = 1 // index 0 is the hot scope
  let failures = 0
  const sizes = []
  for (const size of params.sizes) {
    // Up to `emulatorFill` tokens come from the emulator over TLS; the rest are replayed in-process.
    replay.active = filled >= params.emulatorFill
    const replayedBefore = replay.replayed
    const filledBefore = filled
    const start = performance.now()
    const deadline = start + params.fillSeconds * 1000
    let next = filled
    let nextReport = start + 10_000
    const worker = async () => {
      while (next < size && failures < 20 && performance.now() < deadline) {
        const i = next++
        try {
          await credential.getToken(scopeOf(i))
          filled++
        } catch (e) {
          failures++
          if (failures === 1) progress(`fill error: ${describeError(e)}`)
        }
        if (performance.now() > nextReport) {
          nextReport = performance.now() + 10_000
          progress(`filled ${filled.toLocaleString("en")} of ${size.toLocaleString("en")}`)
        }
      }
    }
    await Promise.all(Array.from({ length: 64 }, worker))
    const fillMs = performance.now() - start
    const nsPerOp = await measure(async () => {
      const t = await credential.getToken(hot)
      if (t.token !== first.token) throw new Error("the hot token changed: not a cache hit")
    })
    const complete = filled >= size
    sizes.push({
      size,
      reached: filled,
      complete,
      fillSeconds: params.fillSeconds,
      fillSource: replay.active ? "replayed" : "emulator",
      fillMs,
      fillRate: filled > filledBefore ? ((filled - filledBefore) * 1000) / fillMs : undefined,
      replayed: replay.replayed - replayedBefore,
      nsPerOp,
      memoryMiB: Math.round(process.memoryUsage().rss / 2 ** 20)
    })
    progress(
      `${filled.toLocaleString("en")} cached${complete ? "" : ` (of ${size.toLocaleString("en")}: fill capped)`}: ` +
        `${formatNs(nsPerOp.median)} per getToken`
    )
    if (!complete) break
  }
  await lib.close(credential)
  await dispose()
  return { fillFailures: failures, sizes }
}

if (process.argv[2] === "--child") {
  await child(JSON.parse(process.env.BENCH_CHILD ?? "{}"))
} else {
  await parent(process.argv.slice(2))
}
