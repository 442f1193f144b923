#!/usr/bin/env node
// What a stranger gets from the registry, checked before publishing: every published package is packed
// (`pnpm pack`, which runs its prepack build), linted as published (publint, @arethetypeswrong/cli), and installed
// from the tarballs into fresh apps outside the workspace (packages from the local pnpm store, else the registry):
// - an ESM app (NodeNext, strict, exactOptionalPropertyTypes, skipLibCheck off) type-checked and run: the Promise
//   facade and the Effect API each sign in against the packed emulator; `effect-entra` (the packed CLI) prints
//   its version and starts the emulator;
// - a CommonJS app (moduleResolution node10) type-checked, compiled and run with `require`;
// - the CLI alone: no other package installed, and `effect-entra emulator` says how to install the emulator.
//
//   node scripts/packed-install.mjs [--keep]        (the root `test` script runs it)
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"

const root = Path.resolve(import.meta.dirname, "..")
const keep = process.argv.includes("--keep")
const published = ["identity", "emulator", "cache-redis", "cli"]
const pnpm = ["npx", "--yes", "pnpm@10.34.9"]
const bin = (name) => Path.join(root, "node_modules/.bin", name)
const tsc = Path.join(root, "node_modules/typescript/bin/tsc")
const started = Date.now()

const run = (command, args, options = {}) => {
  const result = ChildProcess.spawnSync(command, args, { encoding: "utf8", ...options })
  if (result.status !== 0 && options.expectStatus === undefined) {
    throw new Error(
      `${command} ${args.join(" ")} (in ${options.cwd ?? root}) exited with ${result.status}:\n` +
        `${result.stdout}${result.stderr}`
    )
  }
  return result
}
const runAsync = (command, args, options = {}) =>
  new Promise((resolve, reject) => {
    const child = ChildProcess.spawn(command, args, { cwd: root, ...options, stdio: ["ignore", "pipe", "pipe"] })
    let output = ""
    child.stdout.on("data", (chunk) => (output += chunk))
    child.stderr.on("data", (chunk) => (output += chunk))
    child.on("error", reject)
    child.on("close", (status) => {
      if (status === 0) resolve(output)
      else {reject(
          new Error(`${command} ${args.join(" ")} (in ${options.cwd ?? root}) exited with ${status}:\n${output}`)
        )}
    })
  })
const step = (message) => console.log(`packed-install: ${message} (${((Date.now() - started) / 1000).toFixed(1)} s)`)

// Both APIs, each with a code of its own, against the emulator from the packed package.
const esmProgram = `
import { AuthorizationCodeCredential, NodeHttp, TokenCache, TokenCredential } from "@effect-entra/identity"
import * as NodeHttpModule from "@effect-entra/identity/NodeHttp"
import { AuthorizationCodeCredential as PromiseCredential } from "@effect-entra/identity/promise"
import { startEmulator } from "@effect-entra/emulator"
import type { RedisTokenCache } from "@effect-entra/cache-redis"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"

export type Checked = typeof RedisTokenCache.layer | typeof NodeHttpModule.layer

await using emulator = await startEmulator()
const d = emulator.defaults

const facade = new PromiseCredential(d.tenantId, d.clientId, d.clientSecret, (await emulator.signIn()).code,
  d.redirectUri, { authority: emulator.authority, ca: emulator.caPem })
const viaFacade = await facade.getToken(d.scope)
await facade.close()
if (viaFacade.token.length > 0) console.log("facade ok")

const { code } = await emulator.signIn()
const credential = AuthorizationCodeCredential.layer({
  tenantId: d.tenantId,
  clientId: d.clientId,
  redirectUri: d.redirectUri,
  authorizationCode: Redacted.make(code),
  clientSecret: Redacted.make(d.clientSecret),
  authority: emulator.authority
}).pipe(Layer.provide([TokenCache.layerMemory, NodeHttp.layer({ ca: emulator.caPem })]))
const viaEffect = await Effect.runPromise(TokenCredential.getToken(d.scope).pipe(Effect.provide(credential)))
if (Redacted.value(viaEffect.token).length > 0) console.log("effect ok")
`

const cjsProgram = `
import { AuthorizationCodeCredential } from "@effect-entra/identity/promise"
import { TokenCache } from "@effect-entra/identity"
import { startEmulator } from "@effect-entra/emulator"
import * as Effect from "effect/Effect"

async function main(): Promise<void> {
  const emulator = await startEmulator()
  try {
    const d = emulator.defaults
    const { code } = await emulator.signIn()
    const credential = new AuthorizationCodeCredential(d.tenantId, d.clientId, d.clientSecret, code, d.redirectUri, {
      authority: emulator.authority,
      ca: emulator.caPem
    })
    const token = await credential.getToken(d.scope)
    await credential.close()
    Effect.runSync(TokenCache.makeMemory)
    const required = require("@effect-entra/identity/promise") as typeof import("@effect-entra/identity/promise")
    if (token.token.length > 0 && typeof required.AuthorizationCodeCredential === "function") console.log("require ok")
  } finally {
    await emulator.close()
  }
}
void main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
`

const work = Fs.mkdtempSync(Path.join(Os.tmpdir(), "effect-entra-packed-"))
try {
  // 1. Build once (incremental), then pack without each package's prepack doing it again.
  run(process.execPath, [tsc, "-b", ...published.map((pkg) => `packages/${pkg}`)])
  run(process.execPath, [Path.join(root, "scripts/build-dist.mjs")])
  step("built")
  const packs = Path.join(work, "packs")
  const tarballs = {}
  await Promise.all(published.map(async (pkg) => {
    const dir = Path.join(root, "packages", pkg)
    await runAsync(pnpm[0], [...pnpm.slice(1), "pack", "--config.ignore-scripts=true", "--pack-destination", packs], {
      cwd: dir
    })
    const { name, version } = JSON.parse(Fs.readFileSync(Path.join(dir, "package.json"), "utf8"))
    tarballs[name] = Path.join(packs, `${name.replace("@", "").replace("/", "-")}-${version}.tgz`)
    if (!Fs.existsSync(tarballs[name])) throw new Error(`pnpm pack did not write ${tarballs[name]}`)
  }))
  step("packed")

  // 2. Lint what is published.
  await Promise.all(
    Object.entries(tarballs).flatMap(([name, tarball]) => {
      const publint = runAsync(bin("publint"), ["run", tarball, "--strict"])
      if (name === "@effect-entra/cli") return [publint] // a bin only: no entry point to resolve
      // Every subpath goes through the same `./*` pattern: one of them stands for all (attw takes ~1 s per entry).
      const modules =
        { "@effect-entra/identity": ["./NodeHttp"], "@effect-entra/emulator": ["./startEmulator"] }[name] ??
          []
      return [
        publint,
        runAsync(bin("attw"), [
          tarball,
          "--format",
          "ascii",
          ...(modules.length > 0 ? ["--include-entrypoints", ...modules] : [])
        ])
      ]
    })
  )
  step("publint and attw found nothing")

  // 3. Apps.
  const deps = (names, extra = {}) => ({
    ...Object.fromEntries(names.map((name) => [name, `file:${tarballs[name]}`])),
    ...extra
  })
  const effectPeers = {
    effect: "^3.22.4",
    "@effect/platform": "^0.97.1",
    "@effect/platform-node": "^0.108.2",
    "@types/node": "^20.19.43"
  }
  // The tarballs name each other by version (cache-redis's peer on identity, the CLI's on the emulator).
  const overrides = deps(["@effect-entra/identity", "@effect-entra/emulator"])
  const app = async (name, packageJson, files) => {
    const dir = Path.join(work, name)
    Fs.mkdirSync(Path.join(dir, "src"), { recursive: true })
    Fs.writeFileSync(
      Path.join(dir, "package.json"),
      JSON.stringify({ name, private: true, ...packageJson, pnpm: { overrides } }, null, 2)
    )
    for (const [file, text] of Object.entries(files)) Fs.writeFileSync(Path.join(dir, file), text)
    await runAsync(pnpm[0], [...pnpm.slice(1), "install", "--prefer-offline", "--reporter=silent"], { cwd: dir })
    return dir
  }

  const [esm, cjs, cliOnly] = await Promise.all([
    app("esm-app", {
      type: "module",
      dependencies: deps(Object.keys(tarballs), effectPeers)
    }, {
      "tsconfig.json": JSON.stringify({
        compilerOptions: {
          module: "NodeNext",
          moduleResolution: "NodeNext",
          target: "ES2022",
          lib: ["ES2022", "ESNext.Disposable"],
          types: ["node"],
          strict: true,
          exactOptionalPropertyTypes: true,
          noUncheckedIndexedAccess: true,
          skipLibCheck: false,
          outDir: "dist"
        },
        include: ["src"]
      }),
      "src/main.ts": esmProgram
    }),
    app("cjs-app", {
      dependencies: deps(["@effect-entra/identity", "@effect-entra/emulator"], effectPeers)
    }, {
      "tsconfig.json": JSON.stringify({
        compilerOptions: {
          module: "CommonJS",
          moduleResolution: "node10",
          target: "ES2022",
          lib: ["ES2022"],
          types: ["node"],
          strict: true,
          esModuleInterop: true,
          skipLibCheck: true,
          outDir: "dist"
        },
        include: ["src"]
      }),
      "src/main.ts": cjsProgram
    }),
    app("cli-only", { dependencies: deps(["@effect-entra/cli"]) }, {})
  ])
  step("installed the tarballs into three apps")
  await Promise.all([runAsync(process.execPath, [tsc, "-p", esm]), runAsync(process.execPath, [tsc, "-p", cjs])])
  const esmRun = run(process.execPath, ["dist/main.js"], { cwd: esm })
  if (!esmRun.stdout.includes("facade ok") || !esmRun.stdout.includes("effect ok")) {
    throw new Error(`the ESM app did not get its tokens:\n${esmRun.stdout}${esmRun.stderr}`)
  }
  await checkCli(esm)
  step("both apps type-checked; the ESM app (NodeNext) ran against the packed emulator; the packed CLI ran")

  const cjsRun = run(process.execPath, ["dist/main.js"], { cwd: cjs })
  if (!cjsRun.stdout.includes("require ok")) {
    throw new Error(`the CommonJS app failed:\n${cjsRun.stdout}${cjsRun.stderr}`)
  }
  step("the CommonJS app (node10) ran with require")

  const installed = Fs.readdirSync(Path.join(cliOnly, "node_modules/.pnpm")).filter((entry) => entry.includes("@"))
  if (installed.length !== 1) throw new Error(`the CLI brought other packages: ${installed.join(", ")}`)
  const missing = run(Path.join(cliOnly, "node_modules/.bin/effect-entra"), ["emulator"], { expectStatus: 2 })
  if (missing.status !== 2 || !missing.stderr.includes("npm install --global @effect-entra/emulator")) {
    throw new Error(`effect-entra emulator without the emulator: ${missing.status}\n${missing.stderr}`)
  }
  step("the CLI installs alone and says how to get the emulator")
} finally {
  if (keep) console.log(`packed-install: kept ${work}`)
  else Fs.rmSync(work, { recursive: true, force: true })
}

// The packed bin: `--version`, then `emulator` until it reports itself running, then Ctrl+C.
async function checkCli(dir) {
  const effectEntra = Path.join(dir, "node_modules/.bin/effect-entra")
  const version = run(effectEntra, ["--version"])
  if (version.stdout.trim() !== "0.1.0") throw new Error(`effect-entra --version printed ${version.stdout}`)
  const cacheDir = Path.join(dir, "cache")
  const child = ChildProcess.spawn(effectEntra, ["emulator", "--cache-dir", cacheDir], { stdio: "pipe" })
  let output = ""
  child.stdout.on("data", (chunk) => (output += chunk))
  child.stderr.on("data", (chunk) => (output += chunk))
  const exited = new Promise((resolve) => child.on("exit", resolve))
  const deadline = Date.now() + 30_000
  while (!output.includes("Press Ctrl+C to stop.")) {
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill("SIGKILL")
      throw new Error(`effect-entra emulator did not start:\n${output}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  if (!Fs.existsSync(Path.join(cacheDir, "emulator.json"))) {
    throw new Error("effect-entra emulator wrote no emulator.json")
  }
  child.kill("SIGINT")
  await exited
  if (Fs.existsSync(Path.join(cacheDir, "emulator.json"))) throw new Error("effect-entra emulator left emulator.json")
}
