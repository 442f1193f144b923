#!/usr/bin/env node
// What a stranger gets from the registry, checked before publishing: every published package is packed
// (`pnpm pack`, which runs its prepack build), linted as published (publint, @arethetypeswrong/cli), and installed
// from the tarballs into fresh apps outside the workspace (packages from the local pnpm store, else the registry):
// - an ESM app (NodeNext, strict, exactOptionalPropertyTypes, skipLibCheck off) type-checked and run: the Promise
//   facade and the Effect API each sign in against the packed emulator; `effect-entra` (the packed CLI) prints
//   its version, starts the emulator, signs in to the packed emulator and prints a cached token twice, the second
//   time from the code cache its first run wrote (private files in a private folder);
// - a CommonJS app (moduleResolution node10) type-checked, compiled and run with `require`;
// - the CLI alone: no other package installed, and `effect-entra emulator` says how to install the emulator;
// - identity with only `effect` and `@effect/platform` (no optional `@effect/platform-node`): the root imports
//   (ESM and CommonJS) and `/promise` load, the facade gets a token, and `NodeHttp.layer()` names what is missing;
// - with --yarn, identity installed by yarn classic (`npx yarn@1`) with the README's yarn line's ranges, run the
//   same way (its own network fetches: about a minute more).
//
//   node scripts/packed-install.mjs [--keep] [--yarn]        (the root `test` script runs it)
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import { createRequire } from "node:module"
import * as Os from "node:os"
import * as Path from "node:path"
import { signInWithCli } from "./lib/cli-sign-in.mjs"

const root = Path.resolve(import.meta.dirname, "..")
const keep = process.argv.includes("--keep")
const withYarn = process.argv.includes("--yarn")
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

// The root (Effect API) and the Promise facade, without TypeScript: one token from the facade, and what building
// `NodeHttp.layer()` does (it needs the optional @effect/platform-node). Prints one JSON line.
const rootCheck = `
async function check(Identity, Facade, Effect, Layer, Cause, Option) {
  const s = JSON.parse(process.env.EMULATOR_SIGN_IN)
  const credential = new Facade.AuthorizationCodeCredential(s.tenantId, s.clientId, s.clientSecret, s.code,
    s.redirectUri, { authority: s.authority, ca: s.ca })
  const token = await credential.getToken(s.scope)
  await credential.close()
  const exit = await Effect.runPromiseExit(Effect.scoped(Layer.build(Identity.NodeHttp.layer())))
  let layer = "built"
  if (exit._tag === "Failure") {
    const defect = Option.getOrUndefined(Cause.dieOption(exit.cause))
    layer = defect?._tag === "PlatformNodeMissingError" && defect.message.includes("npm i @effect/platform-node")
      ? "PlatformNodeMissingError"
      : Cause.pretty(exit.cause)
  }
  console.log(JSON.stringify({ modules: Object.keys(Identity).length, facade: token.token.length > 0, layer }))
}
`
const rootFiles = {
  "esm.mjs": `import * as Identity from "@effect-entra/identity"
import * as Facade from "@effect-entra/identity/promise"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
${rootCheck}
await check(Identity, Facade, Effect, Layer, Cause, Option)
`,
  "cjs.cjs": `${rootCheck}
check(require("@effect-entra/identity"), require("@effect-entra/identity/promise"), require("effect/Effect"),
  require("effect/Layer"), require("effect/Cause"), require("effect/Option")).catch((error) => {
  console.error(error)
  process.exitCode = 1
})
`
}

// Runs an app's esm.mjs and cjs.cjs, each with a code of its own from `emulator` (in this process: asynchronous).
const runRootChecks = async (dir, emulator, expectedLayer) => {
  for (const file of ["esm.mjs", "cjs.cjs"]) {
    const d = emulator.defaults
    const { code } = await emulator.signIn()
    const signIn = { ...d, code, authority: emulator.authority, ca: emulator.caPem }
    const output = await runAsync(process.execPath, [file], {
      cwd: dir,
      env: { ...process.env, EMULATOR_SIGN_IN: JSON.stringify(signIn) }
    })
    const result = JSON.parse(output.trim().split("\n").at(-1))
    if (result.modules < 20 || !result.facade || result.layer !== expectedLayer) {
      throw new Error(`${Path.basename(dir)}/${file}: ${output}`)
    }
  }
}

const packageCount = (dir) =>
  Fs.readdirSync(Path.join(dir, "node_modules/.pnpm")).filter((entry) => entry.includes("@")).length

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

  const yarnInstall = withYarn ? yarnApp(work, tarballs["@effect-entra/identity"], rootFiles) : undefined
  yarnInstall?.catch(() => undefined) // awaited below; this only keeps an early failure from being unhandled
  const [esm, cjs, cliOnly, rootOnly] = await Promise.all([
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
    app("cli-only", { dependencies: deps(["@effect-entra/cli"]) }, {}),
    app("root-only", {
      dependencies: deps(["@effect-entra/identity"], { effect: "^3.22.4", "@effect/platform": "^0.97.1" })
    }, rootFiles)
  ])
  step("installed the tarballs into four apps")
  await Promise.all([runAsync(process.execPath, [tsc, "-p", esm]), runAsync(process.execPath, [tsc, "-p", cjs])])
  const esmRun = run(process.execPath, ["dist/main.js"], { cwd: esm })
  if (!esmRun.stdout.includes("facade ok") || !esmRun.stdout.includes("effect ok")) {
    throw new Error(`the ESM app did not get its tokens:\n${esmRun.stdout}${esmRun.stderr}`)
  }
  await checkCli(esm)
  step(
    "both apps type-checked; the ESM app (NodeNext) ran against the packed emulator; the packed CLI ran, signed in, " +
      "and served a cached token from its code cache"
  )

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

  if (Fs.existsSync(Path.join(rootOnly, "node_modules/@effect/platform-node"))) {
    throw new Error("the root-only app has @effect/platform-node: it proves nothing")
  }
  const { startEmulator } = createRequire(Path.join(esm, "package.json"))("@effect-entra/emulator")
  const emulator = await startEmulator()
  try {
    await runRootChecks(rootOnly, emulator, "PlatformNodeMissingError")
    step(
      `identity with effect and @effect/platform only (${packageCount(rootOnly)} packages): the root (ESM, ` +
        "CommonJS) and /promise load, the facade got its tokens, NodeHttp.layer() names @effect/platform-node"
    )
    if (yarnInstall !== undefined) {
      const yarnDir = await yarnInstall
      await runRootChecks(yarnDir, emulator, "built")
      step("yarn classic installed identity with the README's ranges; the root, /promise and NodeHttp ran")
    }
  } finally {
    await emulator.close()
  }
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
  await checkCachedToken(dir)
}

// The packed CLI signs in to the packed emulator, then prints the cached token twice: the first `token` writes its
// code cache, the second starts from it (the file is left as it was), and the cache is private.
async function checkCachedToken(dir) {
  const script = Path.join(dir, "node_modules/@effect-entra/cli/bin/effect-entra.js")
  const cacheDir = Path.join(dir, "token-cache")
  const codeDir = Path.join(dir, "code-cache")
  const env = { ...process.env, EFFECT_ENTRA_CACHE_DIR: cacheDir, EFFECT_ENTRA_CODE_CACHE_DIR: codeDir }
  for (const key of Object.keys(env)) if (/^(AZURE_|NODE_DISABLE_COMPILE_CACHE$)/.test(key)) delete env[key]
  const { startEmulator } = createRequire(Path.join(dir, "package.json"))("@effect-entra/emulator")
  const emulator = await startEmulator()
  try {
    await signInWithCli({ bin: script, cacheDir, emulator, env })
    const token = () =>
      run(process.execPath, [script, "token", "--emulator", "--scope", emulator.defaults.scope], { env })
    const first = token().stdout
    if (!/^eyJ[\w-]+\.[\w-]+\.[\w-]+\n$/.test(first)) throw new Error(`effect-entra token printed ${first}`)
    const tokenCache = () => {
      const names = Fs.readdirSync(codeDir).filter((name) => name.includes("-token-") && name.endsWith(".v8cache"))
      if (names.length !== 1) throw new Error(`expected one code cache for token, found ${names.join(", ")}`)
      return Fs.statSync(Path.join(codeDir, names[0]), { bigint: true })
    }
    const written = tokenCache()
    if (
      run(process.execPath, [script, "token", "--emulator", "--scope", emulator.defaults.scope], { env }).stdout !==
        first
    ) {
      throw new Error("the second cached token differs from the first")
    }
    const again = tokenCache()
    if (again.ino !== written.ino || again.mtimeNs !== written.mtimeNs) {
      throw new Error("the token's code cache was rewritten")
    }
    const modes = [Fs.statSync(codeDir).mode & 0o777, Number(again.mode) & 0o777]
    if (modes[0] !== 0o700 || modes[1] !== 0o600) throw new Error(`code cache modes ${modes.map((m) => m.toString(8))}`)
    if ((await emulator.requests({ endpoint: "token" })).length !== 1) throw new Error("a cached token sent a request")
  } finally {
    await emulator.close()
  }
}

// yarn classic, from the npm registry: the tarball and the README's yarn line's ranges, installed in one go.
async function yarnApp(work, identityTarball, files) {
  const dir = Path.join(work, "yarn-app")
  Fs.mkdirSync(dir, { recursive: true })
  const dependencies = {
    "@effect-entra/identity": `file:${identityTarball}`,
    effect: "^3.22",
    "@effect/platform": "^0.97",
    "@effect/platform-node": "^0.108"
  }
  Fs.writeFileSync(Path.join(dir, "package.json"), JSON.stringify({ name: "yarn-app", private: true, dependencies }))
  for (const [file, text] of Object.entries(files)) Fs.writeFileSync(Path.join(dir, file), text)
  const yarnStarted = Date.now()
  await runAsync("npx", ["--yes", "yarn@1", "install", "--non-interactive", "--no-lockfile", "--silent"], {
    cwd: dir,
    env: { ...process.env, YARN_CACHE_FOLDER: Path.join(work, "yarn-cache") }
  })
  step(`yarn classic installed its app in ${((Date.now() - yarnStarted) / 1000).toFixed(1)} s`)
  return dir
}
