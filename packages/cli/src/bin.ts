/**
 * The `effect-entra` executable. `--version` answers before anything else is loaded; the rest is imported on
 * demand (see {@link Cli.commandFor}).
 *
 * @since 0.1.0
 */
import { version } from "./Version.js"

const args = process.argv.slice(2)
if (args.length === 1 && args[0] === "--version") {
  process.stdout.write(`${version}\n`)
} else {
  const [NodeContext, NodeRuntime, Cause, Effect, Exit, Cli, { ExitCode }] = await Promise.all([
    import("@effect/platform-node/NodeContext"),
    import("@effect/platform-node/NodeRuntime"),
    import("effect/Cause"),
    import("effect/Effect"),
    import("effect/Exit"),
    import("./Cli.js"),
    import("./CliError.js")
  ])
  Cli.main(process.argv).pipe(
    Effect.provide(NodeContext.layer),
    (program) =>
      NodeRuntime.runMain(program, {
        disableErrorReporting: true,
        disablePrettyLogger: true,
        teardown: (exit, onExit) => {
          const code = Exit.isSuccess(exit)
            ? (typeof exit.value === "number" ? exit.value : ExitCode.Success)
            : Cause.isInterruptedOnly(exit.cause)
            ? ExitCode.Cancelled
            : ExitCode.Failed
          process.exitCode = code
          onExit(code)
        }
      })
  )
}
