/**
 * Where the commands write: results on stdout, prompts, progress and errors on stderr (so `$(effect-entra token)`
 * captures only the token).
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"

/**
 * Writes a line on stdout.
 *
 * @since 0.1.0
 * @category writing
 */
export const line = (text: string): Effect.Effect<void> => Effect.sync(() => void process.stdout.write(`${text}\n`))

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
  process.stderr.write(`${process.stderr.isTTY === true ? "\r\x1b[2K" : ""}${text}\n`)
}
