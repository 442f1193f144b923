#!/usr/bin/env node
// A published package runs the bundle (one file to load, code for other commands left unloaded); in the
// repository (tsconfig.json beside this folder, never published) it runs what `tsc -b` built from src/. The
// bundle is imported through a URL so that bundling this file (as some tests do) takes in dist/bin.js only.
import { existsSync } from "node:fs"
import * as Module from "node:module"

// Node 22.1+ keeps compiled code between runs (a no-op on Node 20): most of a short command's start-up is compiling.
Module.enableCompileCache?.()

const bundle = new URL("../dist/bundle/effect-entra.mjs", import.meta.url)
if (!existsSync(new URL("../tsconfig.json", import.meta.url)) && existsSync(bundle)) await import(bundle.href)
else await import("../dist/bin.js")
