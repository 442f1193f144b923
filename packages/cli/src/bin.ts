/**
 * The `effect-entra` executable. `--version` answers before anything else is loaded; a `token` whose fresh token
 * is in the cache is served by {@link FastToken} without the command-line parser; everything else runs
 * {@link FullCli}, whose commands are imported on demand (see {@link Cli.commandFor}).
 *
 * @since 0.1.0
 */
import { version } from "./Version.js"

const args = process.argv.slice(2)
if (args.length === 1 && args[0] === "--version") {
  process.stdout.write(`${version}\n`)
} else if (args[0] !== "token" || !(await (await import("./FastToken.js")).serve(args))) {
  ;(await import("./FullCli.js")).run(process.argv)
}
