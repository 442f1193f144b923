#!/usr/bin/env node
// `--version` is answered here, before anything is imported. The build (scripts/build-dist.mjs) and a test check
// that this constant is the package's version.
const version = "0.1.0"

if (process.argv.length === 3 && process.argv[2] === "--version") {
  process.stdout.write(`${version}\n`)
} else {
  // A published package runs the bundle (one file to load, code for other commands left unloaded); in the
  // repository (tsconfig.json beside this folder, never published) it runs what `tsc -b` built from src/. The
  // bundle is imported through a URL so that bundling this file (as some tests do) takes in dist/bin.js only.
  // `node:fs` through `require`: its ESM view reads every export, loading the stream modules behind a lazy getter.
  const Module = await import("node:module")
  const { existsSync } = Module.createRequire(import.meta.url)("node:fs")
  // Node 22.1+ keeps compiled code between runs (a no-op on Node 20): most of a short command's start-up is compiling.
  Module.enableCompileCache?.()
  const bundle = new URL("../dist/bundle/effect-entra.mjs", import.meta.url)
  if (!existsSync(new URL("../tsconfig.json", import.meta.url)) && existsSync(bundle)) await import(bundle.href)
  else await import("../dist/bin.js")
}
