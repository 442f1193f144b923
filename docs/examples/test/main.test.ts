/**
 * The entry points as a user runs them: built with `tsc -b` (incremental, so quick when nothing changed), then
 * started with `node`, each starting its own emulator on loopback.
 */
import { assert, describe, it } from "@effect/vitest"
import { type ChildProcess, execFile, spawn } from "node:child_process"
import { createRequire } from "node:module"
import { fileURLToPath } from "node:url"
import { beforeAll } from "vitest"

const examples = fileURLToPath(new URL("..", import.meta.url))
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc")

interface Run {
  readonly child: ChildProcess
  readonly output: () => string
  readonly exited: Promise<number | null>
}

const start = (entry: string, env: Record<string, string> = {}): Run => {
  const child = spawn(process.execPath, [`dist/src/${entry}`], {
    cwd: examples,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let output = ""
  child.stdout!.on("data", (chunk) => (output += chunk.toString()))
  child.stderr!.on("data", (chunk) => (output += chunk.toString()))
  return {
    child,
    output: () => output,
    exited: new Promise((resolve) => child.on("exit", (code) => resolve(code)))
  }
}

const until = async (run: Run, pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const match = run.output().match(pattern)
    if (match !== null) return match
    if (run.child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`no ${pattern} (exit code ${run.child.exitCode}); output:\n${run.output()}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

describe("the entry points, built and run with node", () => {
  beforeAll(async () => {
    await new Promise<void>((resolve, reject) =>
      execFile(
        process.execPath,
        [tsc, "-b", examples],
        (error, stdout) => error === null ? resolve() : reject(new Error(`tsc -b docs/examples failed:\n${stdout}`))
      )
    )
  }, 120_000)

  it("main.js prints who the API says the user is, across a claims challenge, and exits 0", async () => {
    const run = start("main.js")
    const code = await run.exited
    assert.strictEqual(code, 0, run.output())
    assert.match(
      run.output(),
      /^Alice Example <alice@contoso\.example> \(tenant [0-9a-f-]{36}\)\nafter a claims challenge: still alice@contoso\.example\n$/
    )
  })

  it("serve.js serves GET /profile on loopback and stops cleanly when interrupted", async () => {
    const run = start("serve.js")
    try {
      const [, url] = await until(run, /Listening on (http:\/\/127\.0\.0\.1:\d+)/, 20_000)
      const profile = await fetch(`${url}/profile`)
      assert.strictEqual(profile.status, 200)
      assert.deepInclude(await profile.json(), { name: "Alice Example", preferred_username: "alice@contoso.example" })
      assert.deepStrictEqual(await (await fetch(`${url}/health`)).json(), { status: "ok" })
      run.child.kill("SIGINT")
      assert.strictEqual(await run.exited, 0, run.output())
    } finally {
      run.child.kill("SIGKILL")
    }
  })
})
