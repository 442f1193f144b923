import * as ChildProcess from "node:child_process"
import * as Path from "node:path"

// The command-line tests run the built `bin/effect-entra.js`: bring `dist` up to date first (incremental, fast).
export default function setup() {
  const root = Path.resolve(__dirname, "../../..")
  const tsc = Path.join(root, "node_modules/typescript/bin/tsc")
  const result = ChildProcess.spawnSync(process.execPath, [tsc, "-b", "packages/cli/tsconfig.json"], {
    cwd: root,
    encoding: "utf8"
  })
  if (result.status !== 0) throw new Error(`building packages/cli failed:\n${result.stdout}${result.stderr}`)
}
