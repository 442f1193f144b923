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
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as CliError from "./CliError.js"
import * as Help from "./Help.js"
import * as Arguments from "./internal/arguments.js"
import * as Output from "./Output.js"
import * as TerminalText from "./TerminalText.js"
import { version } from "./Version.js"

export {
  /**
   * The version printed by `--version`.
   *
   * @since 0.1.0
   * @category constants
   */
  version
} from "./Version.js"

type Services = CommandExecutor | FileSystem | Path | Terminal
// Names and parsed inputs differ per command (both invariant); only the runner sees them.

type Subcommand = Command.Command<any, Services, unknown, any>

// Each command's module is loaded only when that command runs: a cached `token` need not load the sign-in's
// browser and loopback receiver, nor `status` the emulator command. In this order in the help.
const subcommands: Record<string, () => Promise<{ readonly command: Subcommand }>> = {
  login: () => import("./LoginCommand.js"),
  token: () => import("./TokenCommand.js"),
  status: () => import("./StatusCommand.js"),
  logout: () => import("./LogoutCommand.js"),
  emulator: () => import("./EmulatorCommand.js")
}

const description = "Sign in to Microsoft Entra ID from a terminal (in the system browser with PKCE, or with a " +
  "device code) and get access tokens from a persistent cache."

const root = (commands: readonly [Subcommand, ...Array<Subcommand>]) =>
  Command.make("effect-entra").pipe(Command.withDescription(description), Command.withSubcommands(commands))

/** The subcommand the arguments name (their first word that is not a flag), if it is one. */
const subcommandOf = (argv: ReadonlyArray<string>): string | undefined => {
  const first = argv.slice(2).find((arg) => !arg.startsWith("-"))
  return first !== undefined && Object.hasOwn(subcommands, first) ? first : undefined
}

/**
 * The root command for these arguments (the whole `process.argv`): with only the subcommand they name when the
 * first word is one (its parsing, help and errors are that subcommand's alone), else with all of them (for
 * `--help`, the built-in options and unknown commands).
 *
 * @since 0.1.0
 * @category commands
 */
export const commandFor = (argv: ReadonlyArray<string>) =>
  Effect.promise(async () => {
    const only = subcommandOf(argv)
    const [head, ...tail] = only !== undefined
      ? [await subcommands[only]!()]
      : await Promise.all(Object.values(subcommands).map((load) => load()))
    return root([head!.command, ...tail.map((module) => module.command)])
  })

const helpOf = (argv: ReadonlyArray<string>, color: boolean) =>
  Effect.promise(async () => {
    const only = subcommandOf(argv)
    if (only !== undefined) return Help.renderCommand(only, (await subcommands[only]!()).command, { color })
    const loaded = await Promise.all(
      Object.entries(subcommands).map(async ([name, load]) => [name, (await load()).command] as const)
    )
    return Help.renderRoot(description, loaded, { color })
  })

/**
 * Parses the arguments and runs the command (the whole `process.argv`, executable included). `--help` (and no
 * arguments at all) print the help rendered by {@link Help}; `--no-color` is read here.
 *
 * @since 0.1.0
 * @category running
 */
export const run = (argv: ReadonlyArray<string>) =>
  Effect.suspend(() => {
    const parsed = Arguments.parse(argv)
    const color = TerminalText.useColor({ isTTY: process.stdout.isTTY, env: process.env, noColorFlag: parsed.noColor })
    if (parsed.refused !== undefined) return Effect.fail(new CliError.SettingsError({ reason: parsed.refused }))
    if (parsed.help) return Effect.flatMap(helpOf(parsed.argv, color), Output.trusted)
    return Effect.flatMap(commandFor(parsed.argv), (command) =>
      Console.consoleWith((base) =>
        Command.run(command, { name: "effect-entra", version })(parsed.argv).pipe(
          Effect.withConsole(Arguments.console(color)(base))
        )
      ))
  })

const messageOf = (message: unknown): string =>
  Array.isArray(message) ? message.map((part) => messageOf(part)).join(" ") : String(message)

/**
 * Warnings from the libraries (e.g. an unreadable cache file) as one `effect-entra: warn: ...` line on stderr, each
 * once.
 *
 * @since 0.1.0
 * @category logging
 */
export const logger = Logger.make(({ logLevel, message }) => {
  Output.warnOnceSync(`effect-entra: ${logLevel.label.toLowerCase()}: ${messageOf(message)}`)
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
): Effect.Effect<number, never, Services> =>
  run(argv).pipe(
    Effect.as<number>(CliError.ExitCode.Success),
    Effect.catchAll((error) => {
      if (ValidationError.isValidationError(error)) {
        const command = subcommandOf(argv)
        const text = Help.helpDocText(error.error).replace(/\s*\n\s*/g, " ").trim()
        return Effect.as(
          Output.info(
            `effect-entra: ${text} (see \`effect-entra ${command === undefined ? "" : `${command} `}--help\`)`
          ),
          CliError.ExitCode.Usage
        )
      }
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
