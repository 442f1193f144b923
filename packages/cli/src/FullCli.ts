/**
 * The whole command line (`@effect/cli` parsing, every command) on the Node runtime, setting the exit code: what
 * the executable runs for everything the cached-token fast path ({@link FastToken}) does not serve.
 *
 * @since 0.1.0
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Cli from "./Cli.js"
import { ExitCode } from "./CliError.js"

/**
 * Runs the CLI for these arguments (the whole `process.argv`) until it ends.
 *
 * @since 0.1.0
 * @category running
 */
export const run = (argv: ReadonlyArray<string>): void =>
  Cli.main(argv).pipe(
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
