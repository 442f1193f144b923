/**
 * Where the commands write: results on stdout, prompts, progress and errors on stderr (so `$(effect-entra token)`
 * captures only the token).
 *
 * Every line goes through `TerminalText.sanitizeForTerminal` first: what the commands print carries text from the
 * network and from tokens (error descriptions, names, user names, tenant names), and no control character or bidi
 * override in it may reach the terminal. Tabs and newlines stay.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import { canRedraw, sanitizeForTerminal } from "./TerminalText.js"

/**
 * Writes a line on stdout.
 *
 * @since 0.1.0
 * @category writing
 */
export const line = (text: string): Effect.Effect<void> =>
  Effect.sync(() => void process.stdout.write(`${sanitizeForTerminal(text)}\n`))

/**
 * Writes a line on stderr, first clearing a spinner line on a terminal.
 *
 * @since 0.1.0
 * @category writing
 */
export const info = (text: string): Effect.Effect<void> => Effect.sync(() => infoSync(text))

/**
 * {@link info} outside an effect (for callbacks).
 *
 * @since 0.1.0
 * @category writing
 */
export const infoSync = (text: string): void => {
  // The clearing sequence is ours, added after the text is cleaned.
  const clear = canRedraw({ isTTY: process.stderr.isTTY, env: process.env }) ? "\r\x1b[2K" : ""
  process.stderr.write(`${clear}${sanitizeForTerminal(text)}\n`)
}

const warned = new Set<string>()

/**
 * Writes a warning line on stderr once per process. The cached-token fast path and the full command it falls back
 * to read the same files: a warning about one of them (a corrupt cache file, say) would otherwise come twice.
 *
 * @since 0.1.0
 * @category writing
 */
export const warnOnceSync = (text: string): void => {
  if (warned.has(text)) return
  warned.add(text)
  infoSync(text)
}

/**
 * Writes text the CLI composed itself (its help, with its own colour codes) on stdout, as it is: nothing in it comes
 * from the network or a token.
 *
 * @since 0.1.0
 * @category writing
 */
export const trusted = (text: string): Effect.Effect<void> =>
  Effect.sync(() => void process.stdout.write(text.endsWith("\n") ? text : `${text}\n`))
