/**
 * The `effect-entra` command tree and its runner: every failure is printed as one `effect-entra: ...` line on
 * stderr (never a stack trace) and mapped to an exit code (see {@link CliError.ExitCode}).
 *
 * @since 0.1.0
 */
import * as Command from "@effect/cli/Command"
import * as ValidationError from "@effect/cli/ValidationError"
import type { CommandExecutor } from "@effect/platform/CommandExecutor"
import type { FileSystem } from "@effect/platform/FileSystem"
import type { Path } from "@effect/platform/Path"
import type { Terminal } from "@effect/platform/Terminal"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as CliError from "./CliError.js"
import * as EmulatorCommand from "./EmulatorCommand.js"
import * as LoginCommand from "./LoginCommand.js"
import * as LogoutCommand from "./LogoutCommand.js"
import * as Output from "./Output.js"
import * as StatusCommand from "./StatusCommand.js"
import * as TokenCommand from "./TokenCommand.js"

/**
 * The version printed by `--version`.
 *
 * @since 0.1.0
 * @category constants
 */
export const version = "0.1.0"

/**
 * The root command.
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make("effect-entra").pipe(
  Command.withDescription(
    "Sign in to Microsoft Entra ID from a terminal (authorization code + PKCE in the system browser) and get " +
      "access tokens from a persistent cache."
  ),
  Command.withSubcommands([
    LoginCommand.command,
    TokenCommand.command,
    StatusCommand.command,
    LogoutCommand.command,
    EmulatorCommand.command
  ])
)

/**
 * Parses the arguments and runs the command (the whole `process.argv`, executable included).
 *
 * @since 0.1.0
 * @category running
 */
export const run = Command.run(command, { name: "effect-entra", version })

const messageOf = (message: unknown): string =>
  Array.isArray(message) ? message.map((part) => messageOf(part)).join(" ") : String(message)

/**
 * Warnings from the libraries (e.g. an unreadable cache file) as one `effect-entra: warning: ...` line on stderr.
 *
 * @since 0.1.0
 * @category logging
 */
export const logger = Logger.make(({ logLevel, message }) => {
  Output.infoSync(`effect-entra: ${logLevel.label.toLowerCase()}: ${messageOf(message)}`)
})

const isCliError = (error: unknown): error is CliError.CliError =>
  typeof error === "object" && error !== null && "_tag" in error &&
  [
    "SettingsError",
    "EmulatorNotRunningError",
    "NotSignedInError",
    "SignInError",
    "SignInTimeoutError",
    "TokenRequestError",
    "CacheNotWritableError",
    "ReceiverError"
  ].includes((error as { readonly _tag: string })._tag)

/**
 * Runs the CLI and returns the exit code. Failures are printed; defects are printed as one line too.
 *
 * @since 0.1.0
 * @category running
 */
export const main = (
  argv: ReadonlyArray<string>
): Effect.Effect<number, never, CommandExecutor | FileSystem | Path | Terminal> =>
  run(argv).pipe(
    Effect.as<number>(CliError.ExitCode.Success),
    Effect.catchAll((error) => {
      // @effect/cli has already printed the usage error and the help.
      if (ValidationError.isValidationError(error)) return Effect.succeed(CliError.ExitCode.Usage)
      if (isCliError(error)) {
        return Effect.as(Output.info(`effect-entra: ${error.message}`), CliError.exitCodeOf(error))
      }
      return Effect.as(Output.info(`effect-entra: ${String(error)}`), CliError.ExitCode.Failed)
    }),
    Effect.catchAllCause((cause) =>
      Cause.isInterruptedOnly(cause)
        ? Effect.succeed(CliError.ExitCode.Cancelled)
        : Effect.as(
          Output.info(`effect-entra: unexpected error: ${Cause.squash(cause)}`),
          CliError.ExitCode.Failed
        )
    ),
    Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
    Logger.withMinimumLogLevel(LogLevel.Warning)
  )
