#!/usr/bin/env node
// What `tsc -b` does not build for the published packages (run after it; `pnpm build` runs both):
// - dist/cjs: a CommonJS copy of every module (esbuild, one file per source file, so `require` and `import`
//   users get the same module layout) with the `.d.ts` files beside it and a `{"type":"commonjs"}` package.json,
//   which makes TypeScript read those declarations as CommonJS ones;
// - dist/bundle: pre-bundled entry points where a private copy of `effect` is harmless and start-up matters:
//   the identity Promise facade (its users pass no Effect values in) and the `effect-entra` bin.
//
//   node scripts/build-dist.mjs [--readable] [identity|emulator|cache-redis|cli ...]   (default: all four)
import * as esbuild from "esbuild"
import * as Fs from "node:fs"
import { createRequire } from "node:module"
import * as Path from "node:path"

const root = Path.resolve(import.meta.dirname, "..")
const target = "node20"
const readable = process.argv.includes("--readable")

const walk = (dir) =>
  Fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? walk(Path.join(dir, entry.name)) : [Path.join(dir, entry.name)]
  )

const commonJs = async (pkg) => {
  const dir = Path.join(root, "packages", pkg)
  const dist = Path.join(dir, "dist")
  const cjs = Path.join(dist, "cjs")
  Fs.rmSync(cjs, { recursive: true, force: true })
  const sources = walk(Path.join(dir, "src")).filter((file) => file.endsWith(".ts") && !file.endsWith(".d.ts"))
  await esbuild.build({
    entryPoints: sources,
    outbase: Path.join(dir, "src"),
    outdir: cjs,
    format: "cjs",
    platform: "node",
    target,
    // A lazy `import()` becomes `require()`: from the CommonJS copy, `import()` would load the ESM copies of
    // `effect` and `@effect/platform` beside the CommonJS ones the module already uses (two sets of tags).
    supported: { "dynamic-import": false },
    logLevel: "warning"
  })
  Fs.writeFileSync(Path.join(cjs, "package.json"), JSON.stringify({ type: "commonjs" }) + "\n")
  for (const source of sources) {
    const relative = Path.relative(Path.join(dir, "src"), source).replace(/\.ts$/, ".d.ts")
    const declaration = Path.join(dist, relative)
    if (!Fs.existsSync(declaration)) throw new Error(`${declaration} is missing: run tsc -b first`)
    Fs.mkdirSync(Path.dirname(Path.join(cjs, relative)), { recursive: true })
    // The declaration map points at ../src from dist/, not from dist/cjs/: leave it out of the copy.
    const text = Fs.readFileSync(declaration, "utf8").replace(/\n\/\/# sourceMappingURL=.*\n?$/, "\n")
    Fs.writeFileSync(Path.join(cjs, relative), text)
  }
}

// An ESM bundle whose CommonJS dependencies (undici, ws) call `require` for Node built-ins.
const esmRequireBanner = "import { createRequire as __createRequire } from \"node:module\";" +
  "const require = __createRequire(import.meta.url);"

// undici is more than half of a bundle (~540 KB of ~1 MB) and only a token request needs it, yet the modules that
// import it evaluate it at start-up. Outside undici itself, `undici` resolves to this stand-in for what
// @effect/platform-node and NodeHttp use (`Agent`, `getGlobalDispatcher`), which loads undici, bundled on its own
// beside the entry point (undici.cjs), on first use.
const lazyUndiciSource = `
let undici
const load = () => (undici ??= require("./undici.cjs"))
export function Agent(options) { return new (load().Agent)(options) }
export const getGlobalDispatcher = () => load().getGlobalDispatcher()
export default new Proxy({}, { get: (_, key) => load()[key] })
`
const lazyUndici = {
  name: "lazy-undici",
  setup(build) {
    build.onResolve(
      { filter: /^undici$/ },
      (args) =>
        args.namespace === "lazy-undici" || /[\\/]undici[\\/]/.test(args.importer)
          ? undefined
          : { path: "undici", namespace: "lazy-undici", pluginData: { resolveDir: args.resolveDir } }
    )
    build.onResolve({ filter: /^\.\/undici\.cjs$/, namespace: "lazy-undici" }, () => ({
      path: "./undici.cjs",
      external: true
    }))
    build.onLoad({ filter: /.*/, namespace: "lazy-undici" }, (args) => ({
      contents: lazyUndiciSource,
      loader: "js",
      resolveDir: args.pluginData.resolveDir
    }))
  }
}

const bundleOptions = {
  bundle: true,
  platform: "node",
  target,
  // `--readable` keeps the bundles unminified, with a comment naming each module (for profiling).
  minifySyntax: !readable,
  minifyWhitespace: !readable,
  legalComments: "none",
  logLevel: "warning",
  plugins: [lazyUndici]
}

const undiciBundle = (outdir) =>
  esbuild.build({
    ...bundleOptions,
    plugins: [],
    stdin: { contents: "module.exports = require(\"undici\")", resolveDir: resolveDirOf("@effect/platform-node") },
    outfile: Path.join(outdir, "undici.cjs"),
    format: "cjs"
  })

// The folder from which `undici` resolves as @effect/platform-node sees it.
const resolveDirOf = (pkg) => {
  const require = createRequire(Path.join(root, "packages/identity/package.json"))
  return Path.dirname(require.resolve(`${pkg}/package.json`))
}

const identityBundles = async () => {
  const dir = Path.join(root, "packages/identity")
  const outdir = Path.join(dir, "dist/bundle")
  Fs.rmSync(outdir, { recursive: true, force: true })
  const entry = Path.join(dir, "src/promise.ts")
  await esbuild.build({
    ...bundleOptions,
    entryPoints: [entry],
    outfile: Path.join(outdir, "promise.mjs"),
    format: "esm",
    banner: { js: esmRequireBanner }
  })
  await esbuild.build({
    ...bundleOptions,
    entryPoints: [entry],
    outfile: Path.join(outdir, "promise.cjs"),
    format: "cjs"
  })
  await undiciBundle(outdir)
}

// The bin answers `--version` from a constant of its own, before loading anything: it must be the package's.
const checkBinVersion = (dir) => {
  const { version } = JSON.parse(Fs.readFileSync(Path.join(dir, "package.json"), "utf8"))
  const bin = Fs.readFileSync(Path.join(dir, "bin/effect-entra.js"), "utf8")
  const source = Fs.readFileSync(Path.join(dir, "src/Version.ts"), "utf8")
  for (const [file, text] of [["bin/effect-entra.js", bin], ["src/Version.ts", source]]) {
    if (!text.includes(`const version = ${JSON.stringify(version)}`)) {
      throw new Error(`packages/cli/${file} does not declare const version = "${version}" (package.json's)`)
    }
  }
}

// `@effect/platform/FileSystem` holds the service's tag and `make`, which brings `Stream` (a file's `stream` and
// `sink`). esbuild splits by file, so the cached-token fast path, which needs the tag alone (identity's file cache
// and the fast path's own read-only FileSystem look it up), would load `Stream` with the file. Their imports take
// the tag from a module of its own: a tag is found by its key, the same in both.
const fileSystemTagSource = `
import { GenericTag } from "effect/Context"
export const FileSystem = GenericTag("@effect/platform/FileSystem")
export const Size = (bytes) => typeof bytes === "bigint" ? bytes : BigInt(bytes)
`
const fileSystemTag = {
  name: "file-system-tag",
  setup(build) {
    build.onResolve(
      { filter: /^@effect\/platform\/FileSystem$/ },
      (args) =>
        /[\\/](identity[\\/]dist[\\/]FileTokenCache\.js|cli[\\/]src[\\/](Session|internal[\\/]fastFiles)\.ts)$/.test(
            args.importer
          )
          ? { path: "file-system-tag", namespace: "file-system-tag", pluginData: { resolveDir: args.resolveDir } }
          : undefined
    )
    build.onLoad({ filter: /.*/, namespace: "file-system-tag" }, (args) => ({
      contents: fileSystemTagSource,
      loader: "js",
      resolveDir: args.pluginData.resolveDir
    }))
  }
}

// The command line ships as one CommonJS file, run by its bin through a V8 code cache (src/internal/codeCache.ts):
// with the cache, code a command never runs costs next to nothing, so nothing is split into chunks; the modules
// behind a dynamic import (the sign-in, the emulator command) are still initialised only when first imported.
const cliBundle = async () => {
  const dir = Path.join(root, "packages/cli")
  checkBinVersion(dir)
  const outdir = Path.join(dir, "dist/bundle")
  Fs.rmSync(outdir, { recursive: true, force: true })
  await esbuild.build({
    ...bundleOptions,
    entryPoints: { "effect-entra": Path.join(dir, "src/main.ts") },
    outdir,
    outExtension: { ".js": ".cjs" },
    format: "cjs",
    supported: { "dynamic-import": false },
    // An optional peer, loaded only by `effect-entra emulator`.
    external: ["@effect-entra/emulator", "@effect-entra/emulator/*"],
    plugins: [lazyUndici, fileSystemTag]
  })
  await esbuild.build({
    ...bundleOptions,
    plugins: [],
    entryPoints: { "code-cache": Path.join(dir, "src/internal/codeCache.ts") },
    outdir,
    outExtension: { ".js": ".cjs" },
    format: "cjs"
  })
  for (const name of Fs.readdirSync(outdir)) {
    // The bundle runs in a vm.Script, which has no loader for import(): every dynamic import must be a require.
    if (/\bimport\(/.test(Fs.readFileSync(Path.join(outdir, name), "utf8"))) {
      throw new Error(`packages/cli/dist/bundle/${name} contains import(): the code cache loader cannot run it`)
    }
  }
  await undiciBundle(outdir)
}

const builders = {
  identity: async () => {
    await commonJs("identity")
    await identityBundles()
  },
  emulator: () => commonJs("emulator"),
  "cache-redis": () => commonJs("cache-redis"),
  cli: cliBundle
}

const requested = process.argv.slice(2).filter((arg) => arg !== "--readable")
for (const name of requested.length > 0 ? requested : Object.keys(builders)) {
  const build = builders[name]
  if (build === undefined) throw new Error(`unknown package ${name}; one of ${Object.keys(builders).join(", ")}`)
  await build()
}
