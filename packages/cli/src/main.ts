/**
 * What the `effect-entra` executable runs: `--version` answers at once; a `token` whose fresh token is in the
 * cache is served by {@link FastToken} without the command-line parser; everything else runs {@link FullCli},
 * whose commands are imported on demand (see {@link Cli.commandFor}).
 *
 * @since 0.1.0
 */
import { version } from "./Version.js"

/**
 * A reader that went away (`effect-entra status | head -1`) makes every later write fail with EPIPE, which Node
 * reports as an error event, a stack trace by default. The command ends quietly instead, with the status of a
 * program stopped by SIGPIPE (128 + 13), as `gh` and `cat` do: Node ignores the signal itself.
 */
const endOnBrokenPipe = (error: NodeJS.ErrnoException): void => {
  if (error.code === "EPIPE") process.exit(141)
  throw error
}

/**
 * Runs the command line for `argv` (`process.argv`: the executable, the script, then the arguments).
 *
 * @since 0.1.0
 * @category running
 */
export const main = async (argv: ReadonlyArray<string>): Promise<void> => {
  process.stdout.on("error", endOnBrokenPipe)
  process.stderr.on("error", endOnBrokenPipe)
  const args = argv.slice(2)
  if (args.length === 1 && args[0] === "--version") {
    process.stdout.write(`${version}\n`)
    return
  }
  if (args[0] === "token" && (await (await import("./FastToken.js")).serve(args))) return
  ;(await import("./FullCli.js")).run(argv)
}
