import { describe, expect, it } from "@effect/vitest"
import { cleanEnv, start, tempDir } from "./fixtures/cli.js"

/**
 * Runs the command with the reading end of `stream` closed before the command writes to it, as `| head -1` does
 * once it has its line: every write to it fails with EPIPE. Returns the exit and what the other stream got.
 */
const withClosedReader = async (args: ReadonlyArray<string>, stream: "stdout" | "stderr") => {
  const running = start(args, cleanEnv({ EFFECT_ENTRA_CACHE_DIR: tempDir() }))
  ;(stream === "stdout" ? running.child.stdout : running.child.stderr)?.destroy()
  const { code, signal, stderr, stdout } = await running.exit
  return { code, signal, other: stream === "stdout" ? stderr : stdout }
}

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
