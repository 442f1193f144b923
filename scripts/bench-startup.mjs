#!/usr/bin/env node
// Start-up, side by side: a fresh `node` that imports a credential and constructs it (no request), then exits;
// and the Effect API's root import (ESM and CommonJS). The command line has its own benchmark: bench-cli.mjs.
// Wall time is measured around the child process; memory is the child's peak RSS. Medians of --runs (default 15).
//
//   node scripts/bench-startup.mjs [--runs 15] [--json]     (after `pnpm build`)
import * as ChildProcess from "node:child_process"
import * as Os from "node:os"
import * as Path from "node:path"

const root = Path.resolve(import.meta.dirname, "..")
const args = process.argv.slice(2)
const runs = Number(args[args.indexOf("--runs") + 1]) || 15
const asJson = args.includes("--json")
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

// The child prints its peak RSS (KiB) and CPU time (µs, user + system) on its last stdout line.
const reportRss =
  "{const u=process.resourceUsage();process.stdout.write('\\n'+u.maxRSS+' '+(u.userCPUTime+u.systemCPUTime)+'\\n')}"

// Asynchronous: the emulator of the `token` case answers from this process.
const runOnce = (argv, { cwd, env }) =>
  new Promise((resolve, reject) => {
    const start = process.hrtime.bigint()
    const child = ChildProcess.spawn(process.execPath, argv, { cwd, env, stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk) => (stdout += chunk))
    child.stderr.on("data", (chunk) => (stderr += chunk))
    child.on("error", reject)
    child.on("close", (status) =>
      resolve({ status, stdout, stderr, wall: Number(process.hrtime.bigint() - start) / 1e6 }))
  })

const measure = async (label, argv, { cwd = root, env = process.env } = {}) => {
  const walls = []
  const rss = []
  const cpu = []
  for (let i = 0; i < runs + 1; i++) {
    const result = await runOnce(argv, { cwd, env })
    if (result.status !== 0) throw new Error(`${label} exited with ${result.status}:\n${result.stdout}${result.stderr}`)
    if (i === 0) continue // warm the file system cache
    walls.push(result.wall)
    const last = result.stdout.trim().split("\n").at(-1)
    const usage = /^(\d+) (\d+)$/.exec(last ?? "")
    if (usage === null) throw new Error(`${label} did not report its resource usage:\n${result.stdout}`)
    rss.push(Number(usage[1]) / 1024)
    cpu.push(Number(usage[2]) / 1000)
  }
  return { label, wallMs: Math.round(median(walls)), cpuMs: Math.round(median(cpu)), rssMiB: Math.round(median(rss)) }
}

const evalModule = (code) => ["--input-type=module", "-e", `${code}\n${reportRss}`]

const identity = Path.join(root, "packages/identity")
const construct = "('contoso.onmicrosoft.com', '00000000-0000-0000-0000-000000000001', 'secret', 'code', " +
  "'http://localhost/callback')"

const results = [
  await measure("bare node", evalModule("")),
  await measure(
    "@azure/identity",
    evalModule(
      `import { AuthorizationCodeCredential } from "@azure/identity"; new AuthorizationCodeCredential${construct}`
    ),
    { cwd: identity }
  ),
  await measure(
    "@effect-entra/identity/promise (published: bundle)",
    evalModule(
      `import { AuthorizationCodeCredential } from "@effect-entra/identity/promise"; new AuthorizationCodeCredential${construct}`
    ),
    { cwd: identity }
  ),
  await measure(
    "@effect-entra/identity/promise (require: bundle)",
    [
      "-e",
      `const { AuthorizationCodeCredential } = require("@effect-entra/identity/promise"); new AuthorizationCodeCredential${construct}\n${reportRss}`
    ],
    { cwd: identity }
  ),
  // The Effect API: importing the root only (it must load without the optional @effect/platform-node).
  await measure(
    "@effect-entra/identity (root import: ESM)",
    evalModule(`import * as Identity from "@effect-entra/identity"; void Identity.NodeHttp`),
    { cwd: identity }
  ),
  await measure(
    "@effect-entra/identity (root require: CJS)",
    ["-e", `const Identity = require("@effect-entra/identity"); void Identity.NodeHttp\n${reportRss}`],
    { cwd: identity }
  ),
  await measure(
    "identity dist/promise.js (unbundled ESM)",
    evalModule(
      `import { AuthorizationCodeCredential } from "./dist/promise.js"; new AuthorizationCodeCredential${construct}`
    ),
    { cwd: identity }
  )
]

if (asJson) console.log(JSON.stringify({ node: process.version, cpus: Os.cpus().length, runs, results }, null, 2))
else {
  console.log(
    `node ${process.version}, ${Os.cpus().length} CPUs, load ${Os.loadavg()[0].toFixed(1)}, median of ${runs} runs`
  )
  const bare = results[0]
  for (const r of results) {
    const over = r === bare
      ? ""
      : `  (+${r.wallMs - bare.wallMs} ms wall, +${r.cpuMs - bare.cpuMs} ms CPU over bare node)`
    console.log(
      `${r.label.padEnd(52)} ${String(r.wallMs).padStart(5)} ms wall ${String(r.cpuMs).padStart(5)} ms CPU ` +
        `${String(r.rssMiB).padStart(4)} MiB${over}`
    )
  }
}
