#!/usr/bin/env node
// `--version` is answered here, before anything is loaded. The build (scripts/build-dist.mjs) and a test check
// that this constant is the package's version.
const version = "0.1.0"

if (process.argv.length === 3 && process.argv[2] === "--version") {
  process.stdout.write(`${version}\n`)
} else {
  // A published package runs the bundle (one CommonJS file) through V8's code cache (dist/bundle/code-cache.cjs,
  // from src/internal/codeCache.ts): compiling is most of a short command's start-up. In the repository
  // (tsconfig.json beside this folder, never published) it runs what `tsc -b` built from src/.
  const Module = await import("node:module")
  const require = Module.createRequire(import.meta.url)
  const { existsSync } = require("node:fs")
  const bundle = new URL("../dist/bundle/effect-entra.cjs", import.meta.url)
  if (!existsSync(new URL("../tsconfig.json", import.meta.url)) && existsSync(bundle)) {
    const { load } = require("../dist/bundle/code-cache.cjs")
    // One cache per command: each holds the functions its command runs.
    const command = process.argv[2] ?? ""
    const kind = /^(login|token|status|logout|emulator)$/.test(command) ? command : "other"
    await load(require("node:url").fileURLToPath(bundle), kind).exports.main(process.argv)
  } else {
    await import("../dist/bin.js")
  }
}
