#!/usr/bin/env node
// A published package runs the bundle (one file to load, code for other commands left unloaded); in the
// repository (tsconfig.json beside this folder, never published) it runs what `tsc -b` built from src/.
import { existsSync } from "node:fs"
import * as Module from "node:module"

// Node 22.1+ keeps compiled code between runs (a no-op on Node 20): most of a short command's start-up is compiling.
Module.enableCompileCache?.()

await import(
  existsSync(new URL("../tsconfig.json", import.meta.url)) ? "../dist/bin.js" : "../dist/bundle/effect-entra.mjs"
)
