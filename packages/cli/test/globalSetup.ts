import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import type { TestProject } from "vitest/node"

declare module "vitest" {
  export interface ProvidedContext {
    /** The `effect-entra` bin in the published layout (bin/, dist/bundle/, package.json) in a temporary folder. */
    readonly publishedBin: string
    /** A code cache folder shared by the run's commands (a private temporary folder). */
    readonly codeCacheDir: string
  }
}

const run = (root: string, args: ReadonlyArray<string>) => {
  const result = ChildProcess.spawnSync(process.execPath, args, { cwd: root, encoding: "utf8" })
  if (result.status !== 0) throw new Error(`${args.join(" ")} failed:\n${result.stdout}${result.stderr}`)
}

// The command-line tests run the command as it is published: `dist` brought up to date (incremental), the bundle
// built, and bin/, dist/bundle/ and package.json copied to a temporary folder, as a packed install has them (with
// no tsconfig.json beside bin/, the bin runs the bundle through its code cache).
export default function setup(project: TestProject) {
  const root = Path.resolve(__dirname, "../../..")
  const cli = Path.join(root, "packages/cli")
  run(root, [Path.join(root, "node_modules/typescript/bin/tsc"), "-b", "packages/cli/tsconfig.json"])
  run(root, [Path.join(root, "scripts/build-dist.mjs"), "cli"])
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "effect-entra-cli-published-"))
  Fs.cpSync(Path.join(cli, "bin"), Path.join(dir, "bin"), { recursive: true })
  Fs.cpSync(Path.join(cli, "dist/bundle"), Path.join(dir, "dist/bundle"), { recursive: true })
  Fs.copyFileSync(Path.join(cli, "package.json"), Path.join(dir, "package.json"))
  // The optional peer installed beside it, as `npm install @effect-entra/cli @effect-entra/emulator` places it:
  // `effect-entra emulator` loads it from there (and from nowhere else: the tests drop NODE_PATH).
  Fs.mkdirSync(Path.join(dir, "node_modules/@effect-entra"), { recursive: true })
  Fs.symlinkSync(Path.join(root, "packages/emulator"), Path.join(dir, "node_modules/@effect-entra/emulator"), "dir")
  const codeCacheDir = Path.join(dir, "code-cache")
  project.provide("publishedBin", Path.join(dir, "bin/effect-entra.js"))
  project.provide("codeCacheDir", codeCacheDir)
  return () => Fs.rmSync(dir, { recursive: true, force: true })
}
