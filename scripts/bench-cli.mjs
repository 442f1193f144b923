#!/usr/bin/env node
// Start-up of the `effect-entra` command line as users run it: the published layout (bin/ and dist/bundle/ copied
// to a temporary folder, as a packed install has them) against the emulator. Signs in once (headless), then times
// fresh processes of `--version`, a cached `token` (with `--emulator`, and with explicit settings and no extra CA),
// and `status`. Wall time is measured around the child; CPU time (user + system) is the child's own, reported on
// file descriptor 3 at exit, so stdout and stderr stay as the command wrote them. Medians of --runs.
//
//   node scripts/bench-cli.mjs [--runs 21] [--node PATH] [--bin published|repo] [--package DIR] [--keep-extra-ca]
//                              [--cpu-prof DIR [--cpu-prof-interval µs]] [--json]
//
// Build first: `npx tsc -b packages/cli packages/emulator && node scripts/build-dist.mjs cli` (add --readable to
// the build for profiles that name modules). `--node` runs the CLI with another Node (e.g. Node 24); the emulator
// always runs in this process. `--bin repo` runs bin/effect-entra.js in the repository (dist/bin.js, unbundled).
// `--package DIR` takes bin/ and dist/bundle/ from another copy of packages/cli (e.g. an older commit's build, to
// compare: `git archive <commit> packages/cli scripts/build-dist.mjs | tar -x -C DIR`, then build it there).
// NODE_EXTRA_CA_CERTS is dropped from the children's environment unless --keep-extra-ca: Node 20 parses that file
// at every start (about 40-60 ms for the system bundle, /etc/ssl/certs/ca-certificates.crt), whatever the program.
// The code cache starts empty in a temporary folder (EFFECT_ENTRA_CODE_CACHE_DIR), as after an install: the sign-in
// writes login's, the first (unmeasured) run of each command writes its own.
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { signInWithCli } from "./lib/cli-sign-in.mjs"

const root = Path.resolve(import.meta.dirname, "..")
const args = process.argv.slice(2)
const option = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined)
const runs = Number(option("--runs")) || 21
const node = option("--node") ?? process.execPath
const binMode = option("--bin") ?? "published"
const cliPackage = Path.resolve(option("--package") ?? Path.join(root, "packages/cli"))
const asJson = args.includes("--json")
const keepExtraCa = args.includes("--keep-extra-ca")
const cpuProf = option("--cpu-prof") === undefined
  ? []
  : [
    "--cpu-prof",
    "--cpu-prof-dir",
    Path.resolve(option("--cpu-prof")),
    `--cpu-prof-interval=${Number(option("--cpu-prof-interval")) || 1000}`
  ]

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

// Loaded before the command: at exit, writes the process's CPU time (µs) on fd 3, which only the bench reads.
const cpuHook = "data:text/javascript,import{writeSync}from'node:fs';process.on('exit',()=>{" +
  "const u=process.resourceUsage();try{writeSync(3,String(u.userCPUTime+u.systemCPUTime))}catch{}})"

const runOnce = (argv, env) =>
  new Promise((resolve, reject) => {
    const start = process.hrtime.bigint()
    const child = ChildProcess.spawn(node, ["--import", cpuHook, ...cpuProf, ...argv], {
      env,
      stdio: ["ignore", "pipe", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    let cpu = ""
    child.stdout.on("data", (chunk) => (stdout += chunk))
    child.stderr.on("data", (chunk) => (stderr += chunk))
    child.stdio[3].on("data", (chunk) => (cpu += chunk))
    child.on("error", reject)
    child.on("close", (status) =>
      resolve({
        status,
        stdout,
        stderr,
        cpuMs: Number(cpu) / 1000,
        wallMs: Number(process.hrtime.bigint() - start) / 1e6
      }))
  })

const measure = async (label, argv, env, check = () => true) => {
  const walls = []
  const cpus = []
  for (let i = 0; i < runs + 1; i++) {
    const result = await runOnce(argv, env)
    if (result.status !== 0 || !check(result)) {
      throw new Error(`${label} exited with ${result.status}:\n${result.stdout}${result.stderr}`)
    }
    if (i === 0) continue // the first run warms the file system cache (and writes the command's code cache)
    walls.push(result.wallMs)
    cpus.push(result.cpuMs)
  }
  return {
    label,
    wallMs: Math.round(median(walls)),
    cpuMs: Math.round(median(cpus)),
    minWallMs: Math.round(Math.min(...walls)),
    maxWallMs: Math.round(Math.max(...walls))
  }
}

const cleanEnv = (extra) => {
  const env = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (!keepExtraCa && key === "NODE_EXTRA_CA_CERTS") continue
    if (
      !/^(AZURE_|EFFECT_ENTRA_|BROWSER$|XDG_STATE_HOME$|NODE_OPTIONS$|NODE_COMPILE_CACHE$|NODE_DISABLE_COMPILE_CACHE$|XDG_CACHE_HOME$)/
        .test(key)
    ) {
      env[key] = value
    }
  }
  return { ...env, ...extra }
}

// The published layout: what `files` in package.json ships (bin/, dist/bundle/) and package.json, nothing else.
const publishedBin = () => {
  const cli = cliPackage
  // .mjs: builds before the code cache (for --package comparisons).
  if (!["cjs", "mjs"].some((ext) => Fs.existsSync(Path.join(cli, `dist/bundle/effect-entra.${ext}`)))) {
    throw new Error(`${cli}/dist/bundle is missing: run \`node scripts/build-dist.mjs cli\` first`)
  }
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "effect-entra-bench-bin-"))
  Fs.cpSync(Path.join(cli, "bin"), Path.join(dir, "bin"), { recursive: true })
  Fs.cpSync(Path.join(cli, "dist/bundle"), Path.join(dir, "dist/bundle"), { recursive: true })
  Fs.copyFileSync(Path.join(cli, "package.json"), Path.join(dir, "package.json"))
  return { dir, bin: Path.join(dir, "bin/effect-entra.js") }
}

const { startEmulator } = await import(Path.join(root, "packages/emulator/dist/index.js"))
const emulator = await startEmulator()
const published = binMode === "published" ? publishedBin() : undefined
const bin = published?.bin ?? Path.join(cliPackage, "bin/effect-entra.js")
const cacheDir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "effect-entra-bench-cache-"))
const empty = Path.join(cacheDir, "empty.mjs")
const loadBefore = Os.loadavg()
let results
try {
  Fs.writeFileSync(empty, "")
  // A fresh code cache, as after an install: the sign-in below is the first run and writes it.
  const env = cleanEnv({ EFFECT_ENTRA_CACHE_DIR: cacheDir, EFFECT_ENTRA_CODE_CACHE_DIR: Path.join(cacheDir, "code") })
  await signInWithCli({ bin, cacheDir, emulator, env, node })
  const scope = ["--scope", emulator.defaults.scope]
  // As a user of a real tenant runs it: settings from flags, no extra CA to trust.
  const explicit = [
    "--authority",
    emulator.authority,
    "--tenant",
    emulator.defaults.tenantId,
    "--client-id",
    emulator.defaults.publicClientId
  ]
  const isToken = (result) => /^eyJ[\w-]+\.[\w-]+\.[\w-]+\n$/.test(result.stdout)
  await emulator.clearRequests()
  results = [
    await measure("bare node (an empty .mjs)", [empty], env),
    await measure("effect-entra --version", [bin, "--version"], env, (r) => /^\d+\.\d+\.\d+/.test(r.stdout)),
    await measure("effect-entra token --emulator (cached)", [bin, "token", "--emulator", ...scope], env, isToken),
    await measure(
      "effect-entra token, settings as flags (cached)",
      [bin, "token", ...explicit, ...scope],
      env,
      isToken
    ),
    await measure(
      "effect-entra token --emulator --json (cached)",
      [bin, "token", "--emulator", "--json", ...scope],
      env
    ),
    await measure("effect-entra status --emulator", [bin, "status", "--emulator"], env)
  ]
  const tokenRequests = (await emulator.requests({ endpoint: "token" })).length
  if (tokenRequests !== 0) throw new Error(`the cached runs sent ${tokenRequests} token requests`)
} finally {
  await emulator.close()
  Fs.rmSync(cacheDir, { recursive: true, force: true })
  if (published !== undefined) Fs.rmSync(published.dir, { recursive: true, force: true })
}

const nodeVersion = ChildProcess.execFileSync(node, ["--version"], { encoding: "utf8" }).trim()
const loadAfter = Os.loadavg()
if (asJson) {
  console.log(
    JSON.stringify(
      { node: nodeVersion, bin: binMode, keepExtraCa, cpus: Os.cpus().length, runs, loadBefore, loadAfter, results },
      null,
      2
    )
  )
} else {
  const load = (l) => l.map((x) => x.toFixed(2)).join(" ")
  console.log(
    `node ${nodeVersion}, bin: ${binMode} (${Path.relative(root, cliPackage) || "."}), ` +
      `NODE_EXTRA_CA_CERTS ${keepExtraCa ? "kept" : "dropped"}, ${Os.cpus().length} CPUs, median of ${runs} runs; ` +
      `load average ${load(loadBefore)} before, ${load(loadAfter)} after`
  )
  console.log(`| command | wall (ms) | CPU (ms) | wall min–max |`)
  console.log(`|---|---:|---:|---|`)
  for (const r of results) console.log(`| ${r.label} | ${r.wallMs} | ${r.cpuMs} | ${r.minWallMs}–${r.maxWallMs} |`)
}
