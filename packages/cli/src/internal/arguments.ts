/**
 * What the CLI reads from the arguments before `@effect/cli` parses them: `--help` (its own help), `--no-color`
 * (taken out), and the built-in options it does not offer (`--wizard`, `--log-level`; `--completions` after a
 * command), refused rather than silently honoured.
 *
 * @internal
 */
import type * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { stripAnsi } from "../TerminalText.js"

export interface Parsed {
  /** The arguments for `@effect/cli`, executable included, without `--no-color`. */
  readonly argv: ReadonlyArray<string>
  readonly help: boolean
  readonly noColor: boolean
  /** Why the arguments are refused (a usage error), if they are. */
  readonly refused: string | undefined
}

const refusedOption = /^--(wizard|log-level)(=|$)/

export const parse = (argv: ReadonlyArray<string>): Parsed => {
  const [executable = "node", script = "effect-entra", ...args] = argv
  // Flags end at `--`; what follows is an operand even if it looks like a flag.
  const end = args.indexOf("--")
  const flags = end === -1 ? args : args.slice(0, end)
  const kept = args.filter((arg, index) => !(arg === "--no-color" && (end === -1 || index < end)))
  const refused = flags.find((arg) => refusedOption.test(arg))
  const command = flags.find((arg) => !arg.startsWith("-"))
  const completionsAfterCommand = command !== undefined && flags.includes("--completions") &&
    flags.indexOf("--completions") > flags.indexOf(command)
  return {
    argv: [executable, script, ...kept],
    help: flags.includes("--help") || flags.includes("-h") || kept.length === 0,
    noColor: flags.includes("--no-color"),
    refused: refused !== undefined
      ? `${refused.replace(/=.*$/, "")} is not an option of effect-entra (see \`effect-entra --help\`)`
      : completionsAfterCommand
      ? "--completions is an option of effect-entra alone: effect-entra --completions bash|zsh|fish|sh"
      : undefined
  }
}

/**
 * The console `@effect/cli` writes to: its help and completion scripts (`log`) without colour codes unless colour
 * is on; its usage errors (`error`) dropped, since the runner prints each as one `effect-entra: ...` line.
 */
export const console = (color: boolean) => (base: Console.Console): Console.Console => ({
  ...base,
  log: (...args) => base.log(...(color ? args : args.map((arg) => typeof arg === "string" ? stripAnsi(arg) : arg))),
  error: () => Effect.void
})
