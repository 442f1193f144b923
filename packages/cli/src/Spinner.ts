/**
 * A progress line on stderr while the CLI waits: on a terminal a spinner with a countdown, redrawn in place;
 * otherwise (a pipe, a log file, CI) one plain line at the start and one per minute.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import { canRedraw } from "./TerminalText.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly label: string
  /** Epoch ms (on the `Clock`) when the wait ends. */
  readonly deadline: number
  /** Redraw in place. Default: whether stderr is a terminal. */
  readonly interactive?: boolean | undefined
  readonly write?: ((text: string) => void) | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Spinner {
  /** Prints a line above the spinner. */
  readonly note: (line: string) => Effect.Effect<void>
}

const frames = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"]
const clearLine = "\r\x1b[2K"

/**
 * `4:59` for a countdown.
 *
 * @since 0.1.0
 * @category formatting
 */
export const formatRemaining = (ms: number): string => {
  const total = Math.max(0, Math.ceil(ms / 1000))
  const hours = Math.floor(total / 3600)
  const minutes = Math.floor((total % 3600) / 60)
  const seconds = String(total % 60).padStart(2, "0")
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, "0")}:${seconds}` : `${minutes}:${seconds}`
}

/**
 * Shows the spinner until the scope closes; the line is cleared then.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<Spinner, never, Scope.Scope> =>
  Effect.gen(function*() {
    const write = options.write ?? ((text: string) => void process.stderr.write(text))
    const interactive = options.interactive ?? canRedraw({ isTTY: process.stderr.isTTY, env: process.env })
    let frame = 0
    const render = Effect.gen(function*() {
      const remaining = options.deadline - (yield* Clock.currentTimeMillis)
      if (interactive) {
        frame = (frame + 1) % frames.length
        write(`${clearLine}${frames[frame]} ${options.label} ${formatRemaining(remaining)} left (Ctrl+C to cancel)`)
      } else {
        write(`${options.label} (${formatRemaining(remaining)} left)\n`)
      }
    })
    const every = interactive ? Duration.millis(100) : Duration.minutes(1)
    // Finalizers run in reverse: the drawing fiber stops first, then the line is cleared.
    yield* Effect.addFinalizer(() => Effect.sync(() => interactive && write(clearLine)))
    yield* render.pipe(Effect.repeat(Schedule.spaced(every)), Effect.forkScoped)
    return {
      note: (line) => Effect.sync(() => write(interactive ? `${clearLine}${line}\n` : `${line}\n`))
    }
  })
