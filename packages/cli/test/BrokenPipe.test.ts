import { describe, expect, it } from "@effect/vitest"
import * as ChildProcess from "node:child_process"
import { bin, cleanEnv, tempDir } from "./fixtures/cli.js"

/**
 * Runs the command with the reading end of `stream` closed before the command writes to it, as `| head -1` does
 * once it has its line: every write to it fails with EPIPE.
 */
const withClosedReader = (args: ReadonlyArray<string>, stream: "stdout" | "stderr") =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null; other: string }>((resolve) => {
    const env = cleanEnv({ EFFECT_ENTRA_CACHE_DIR: tempDir() })
    const child = ChildProcess.spawn(process.execPath, [bin, ...args], { env, stdio: ["ignore", "pipe", "pipe"] })
    const closed = stream === "stdout" ? child.stdout : child.stderr
    const other = stream === "stdout" ? child.stderr : child.stdout
    closed.destroy()
    let text = ""
    other.on("data", (chunk: Buffer) => (text += chunk.toString()))
    child.on("close", (code, signal) => resolve({ code, signal, other: text }))
  })

describe.concurrent("a reader that goes away (effect-entra ... | head -1)", () => {
  it("stdout: the command ends quietly with 141, as a program stopped by SIGPIPE (gh, cat), not with a stack trace", async () => {
    const result = await withClosedReader(["--help"], "stdout")
    expect(result).toEqual({ code: 141, signal: null, other: "" })
  })

  it("stderr: an error message nobody reads changes nothing: the command's own status, no crash", async () => {
    const result = await withClosedReader(["status", "--no-such-flag"], "stderr")
    expect(result).toEqual({ code: 2, signal: null, other: "" })
  })
})
