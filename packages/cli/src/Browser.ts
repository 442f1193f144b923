/**
 * Opens a URL in the system browser (RFC 8252 §8.12: the system browser, never an embedded view).
 *
 * The command is `$BROWSER` when set, else `open` (macOS), `rundll32 url.dll,FileProtocolHandler` (Windows) or
 * `xdg-open` (elsewhere). The URL is passed as one argument, never through a shell.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as ChildProcess from "node:child_process"

/**
 * The browser could not be started; the caller prints the URL instead.
 *
 * @since 0.1.0
 * @category errors
 */
export class BrowserError extends Data.TaggedError("BrowserError")<{
  readonly command: string
  readonly detail: string
}> {
  override get message(): string {
    return `could not open a browser with ${this.command}: ${this.detail}`
  }
}

/**
 * The command and leading arguments for this platform.
 *
 * @since 0.1.0
 * @category commands
 */
export const command = (
  platform: NodeJS.Platform = process.platform,
  env: NodeJS.ProcessEnv = process.env
): readonly [string, ReadonlyArray<string>] => {
  const browser = env.BROWSER?.trim()
  if (browser !== undefined && browser !== "") return [browser, []]
  switch (platform) {
    case "darwin":
      return ["open", []]
    case "win32":
      return ["rundll32", ["url.dll,FileProtocolHandler"]]
    default:
      return ["xdg-open", []]
  }
}

/**
 * Starts the browser. Succeeds when the opener exits with 0 or is still running after `settle` (a browser that
 * keeps the opener alive); fails when it cannot be started or exits with another status.
 *
 * @since 0.1.0
 * @category opening
 */
export const open = Effect.fn("Browser.open")(function*(url: string, settle: number = 3000) {
  const [file, args] = command()
  return yield* Effect.async<void, BrowserError>((resume) => {
    let child: ChildProcess.ChildProcess
    try {
      child = ChildProcess.spawn(file, [...args, url], { stdio: "ignore", detached: true, windowsHide: true })
    } catch (error) {
      resume(Effect.fail(new BrowserError({ command: file, detail: (error as Error).message })))
      return
    }
    let settled = false
    const finish = (effect: Effect.Effect<void, BrowserError>) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      child.unref()
      resume(effect)
    }
    const timer = setTimeout(() => finish(Effect.void), settle)
    child.once("error", (error: NodeJS.ErrnoException) =>
      finish(Effect.fail(
        new BrowserError({
          command: file,
          detail: error.code === "ENOENT" ? "command not found" : (error.code ?? error.message)
        })
      )))
    child.once("exit", (code, signal) =>
      finish(
        code === 0 ? Effect.void : Effect.fail(
          new BrowserError({ command: file, detail: signal !== null ? `killed by ${signal}` : `exit status ${code}` })
        )
      ))
  })
})
