/**
 * Text made safe for a terminal. Error descriptions, names, user names and tenant names come from the network or
 * from a token: a control character in them can move the cursor, rewrite what was printed, change the window title
 * or (on some terminals) answer back; a bidi override can make `evil` read as `live`. Every line the CLI prints goes
 * through {@link sanitizeForTerminal} (in `Output`).
 *
 * @since 0.1.0
 */

/**
 * What is removed: C0 controls except tab and newline (CR included: it would let text overwrite its own line), DEL,
 * C1 controls, the bidi embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069), the directional marks
 * (U+200E, U+200F, U+061C) and the Unicode line and paragraph separators (U+2028, U+2029).
 *
 * @since 0.1.0
 * @category constants
 */
export const unsafeCharacters: RegExp =
  /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u061C\u200E\u200F\u2028\u2029\u202A-\u202E\u2066-\u2069]/g

/**
 * Removes every {@link unsafeCharacters unsafe character}; tabs and newlines stay.
 *
 * @since 0.1.0
 * @category sanitizing
 */
export const sanitizeForTerminal = (text: string): string => text.replace(unsafeCharacters, "")

/**
 * For a value shown inside one line (a name, a user name): unsafe characters are removed and tabs and newlines
 * become spaces, so the value cannot start a line that looks like the CLI's own output.
 *
 * @since 0.1.0
 * @category sanitizing
 */
export const sanitizeInline = (text: string): string => sanitizeForTerminal(text).replace(/[\t\n]/g, " ")

/**
 * Whether to write colour codes: never with `--no-color`, a non-empty `NO_COLOR` or `TERM=dumb`; always with a
 * `FORCE_COLOR` other than `0` or `false`; otherwise only when the stream is a terminal.
 *
 * @since 0.1.0
 * @category colour
 */
export const useColor = (options: {
  readonly isTTY: boolean | undefined
  readonly env: Readonly<Record<string, string | undefined>>
  readonly noColorFlag?: boolean | undefined
}): boolean => {
  const { env } = options
  if (options.noColorFlag === true || (env.NO_COLOR ?? "") !== "" || env.TERM === "dumb") return false
  const force = env.FORCE_COLOR
  if (force !== undefined) return force !== "0" && force.toLowerCase() !== "false"
  return options.isTTY === true
}

// CSI and OSC sequences, and lone escapes.
const ansiSequences = /\u001B(?:\[[0-?]*[ -/]*[@-~]|\][^\u0007\u001B]*(?:\u0007|\u001B\\)|[@-Z\\-_])/g

/**
 * Text without ANSI escape sequences (for what `@effect/cli` writes when colour is off).
 *
 * @since 0.1.0
 * @category colour
 */
export const stripAnsi = (text: string): string => text.replace(ansiSequences, "")

/**
 * Whether a stream may be redrawn with cursor controls (the spinner, clearing its line): a terminal other than
 * `TERM=dumb`, which would print the codes as text.
 *
 * @since 0.1.0
 * @category colour
 */
export const canRedraw = (options: {
  readonly isTTY: boolean | undefined
  readonly env: Readonly<Record<string, string | undefined>>
}): boolean => options.isTTY === true && options.env.TERM !== "dumb"
