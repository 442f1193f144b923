/**
 * The demo's terminal report: numbered steps, aligned, coloured only on a TTY (and never with `NO_COLOR`).
 *
 * @since 0.1.0
 */
import * as Console from "effect/Console"
import type * as Effect from "effect/Effect"

const color = process.stdout.isTTY === true && process.env.NO_COLOR === undefined
const paint = (code: string) => (text: string) => color ? `\u001b[${code}m${text}\u001b[0m` : text

/** @since 0.1.0 */
export const bold = paint("1")
/** @since 0.1.0 */
export const dim = paint("2")
/** @since 0.1.0 */
export const green = paint("32")
/** @since 0.1.0 */
export const yellow = paint("33")
/** @since 0.1.0 */
export const cyan = paint("36")

/**
 * A step: its number and name on the left, the first line of detail beside it, the rest indented under it.
 *
 * @since 0.1.0
 */
export const step = (n: number, name: string, ...lines: ReadonlyArray<string>): Effect.Effect<void> => {
  const head = `${bold(cyan(`${n}.`))} ${bold(name.padEnd(13))}`
  const indent = " ".repeat(17)
  return Console.log([`${head} ${lines[0] ?? ""}`, ...lines.slice(1).map((line) => `${indent}${line}`)].join("\n"))
}

/** @since 0.1.0 */
export const title = (text: string): Effect.Effect<void> => Console.log(`\n${bold(text)}\n`)

/** @since 0.1.0 */
export const note = (text: string): Effect.Effect<void> => Console.log(dim(text))

/** "59m 58s" */
export const duration = (ms: number): string => {
  const s = Math.max(0, Math.round(ms / 1000))
  const m = Math.floor(s / 60)
  return m > 0 ? `${m}m ${String(s % 60).padStart(2, "0")}s` : `${s}s`
}

/** "4.2 µs", "23 ms" */
export const elapsed = (nanos: bigint): string => {
  const ns = Number(nanos)
  return ns < 1_000_000 ? `${(ns / 1000).toFixed(1)} µs` : `${(ns / 1_000_000).toFixed(0)} ms`
}
