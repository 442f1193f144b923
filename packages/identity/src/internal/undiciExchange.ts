/**
 * One token request attempt straight on an undici pool: the form is posted with the pool's `dispatch`, the answer
 * read within its byte cap and the attempt bounded by a plain timer, all in one callback handler and one
 * `Effect.async`. The platform `HttpClient` costs a cold redemption far more for the same request (its request and
 * response wrappers, an `AbortController`, a span, a fiber beside the attempt for the time-out), most of it code
 * that V8 still interprets in a process that has made only a few sign-ins.
 */
import type * as Undici from "@effect/platform-node/Undici"
import * as Effect from "effect/Effect"
import type { BodyRead } from "./boundedBody.js"
import type { Outcome } from "./tokenRetry.js"

/** A form to post: what every attempt of one token request sends. */
export interface FormPost {
  /** `https://host[:port]`. */
  readonly origin: string
  /** The path and query. */
  readonly path: string
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
}

/** What one attempt is allowed: its time-out and the answer's byte cap. */
export interface AttemptLimits {
  readonly timeoutMs: number
  readonly maxBytes: number
  readonly onTimeout: () => Outcome
}

/** The undici pool's side this module uses. */
export type Dispatcher = Pick<Undici.Agent, "dispatch">

// Past the timer's range a time-out never fires (Node would fire it at once): the attempt just runs.
const maxTimerMs = 2 ** 31 - 1

/** Why an attempt stopped its own request: undici hands this back as the request's error, which is then ignored. */
class AttemptEnded extends Error {
  constructor(readonly why: "Timeout" | "TooLarge" | "Interrupted") {
    super(`token request attempt ended: ${why}`)
  }
}

const headerRecord = (headers: Record<string, string | Array<string> | undefined>): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const name in headers) {
    const value = headers[name]
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(", ") : value
  }
  return out
}

const declaredLength = (headers: Readonly<Record<string, string>>): number | undefined => {
  const header = headers["content-length"]
  return header !== undefined && /^\d{1,15}$/.test(header) ? Number(header) : undefined
}

/** One attempt's state, and undici's handler for its request. */
class Attempt {
  settled = false
  abort: ((reason: Error) => void) | undefined = undefined
  abortReason: AttemptEnded | undefined = undefined
  answer: { readonly status: number; readonly headers: Record<string, string> } | undefined = undefined
  chunks: Array<Buffer> = []
  size = 0
  timer: ReturnType<typeof setTimeout> | undefined = undefined

  constructor(readonly limits: AttemptLimits, readonly resume: (effect: Effect.Effect<Outcome>) => void) {}

  // Settled first, then stopped: undici reports the abort as the request's error, which must find it settled.
  settle(outcome: Outcome): void {
    if (this.settled) return
    this.settled = true
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.resume(Effect.succeed(outcome))
  }

  stop(why: AttemptEnded["why"]): void {
    this.abortReason = new AttemptEnded(why)
    // Not connected yet: aborted when it connects (`onRequestStart`).
    this.abort?.(this.abortReason)
  }

  answered(body: BodyRead): Outcome {
    return { _tag: "Answer", status: this.answer!.status, headers: this.answer!.headers, body }
  }

  tooLarge(): void {
    this.settle(this.answered({ _tag: "TooLarge", maxBytes: this.limits.maxBytes }))
    this.stop("TooLarge")
  }

  onTimer(): void {
    if (this.settled) return
    this.settle(this.limits.onTimeout())
    this.stop("Timeout")
  }

  interrupted(): void {
    if (this.settled) return
    this.settled = true
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.stop("Interrupted")
  }

  // undici's handler interface.

  onRequestStart(controller: Undici.Dispatcher.DispatchController): void {
    this.abort = (reason) => controller.abort(reason)
    if (this.abortReason !== undefined) controller.abort(this.abortReason)
  }

  onResponseStart(_: unknown, statusCode: number, headers: Record<string, string | Array<string> | undefined>): void {
    if (this.settled) return
    this.answer = { status: statusCode, headers: headerRecord(headers) }
    const declared = declaredLength(this.answer.headers)
    if (declared !== undefined && declared > this.limits.maxBytes) this.tooLarge()
  }

  onResponseData(_: unknown, chunk: Buffer): void {
    if (this.settled) return
    this.size += chunk.byteLength
    // Reading stops past the cap: memory stays at the cap however long the server sends.
    if (this.size > this.limits.maxBytes) return this.tooLarge()
    this.chunks.push(chunk)
  }

  onResponseEnd(): void {
    if (this.settled || this.answer === undefined) return
    const { chunks } = this
    const text = (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, this.size)).toString("utf8")
    this.settle(this.answered({ _tag: "Text", text }))
  }

  onResponseError(_: unknown, error: Error): void {
    if (this.settled) return
    this.settle(
      this.answer === undefined
        ? { _tag: "Transport", cause: error }
        : this.answered({ _tag: "Broken", cause: new Error("the response body broke off", { cause: error }) })
    )
  }
}

/**
 * Posts `post` once on `dispatcher`. Never fails: a transport error, a time-out, a body over the cap or cut off are
 * all outcomes. Interrupting the effect aborts the request (undici destroys its socket); so do the time-out and a
 * body past the cap. An answer that completed before the timer fired is used, whatever the timer does later.
 */
export const postForm = (dispatcher: Dispatcher, post: FormPost, limits: AttemptLimits): Effect.Effect<Outcome> =>
  Effect.async<Outcome>((resume) => {
    const attempt = new Attempt(limits, resume)
    if (limits.timeoutMs <= maxTimerMs) attempt.timer = setTimeout(() => attempt.onTimer(), limits.timeoutMs)
    dispatcher.dispatch({
      origin: post.origin,
      path: post.path,
      method: "POST",
      headers: post.headers,
      body: post.body,
      // The attempt's own timer bounds it; undici's defaults (300 s) would cut a longer configured time-out short.
      headersTimeout: 0,
      bodyTimeout: 0
    }, attempt)
    // The caller was interrupted: the request is aborted and the timer dropped.
    return Effect.sync(() => attempt.interrupted())
  })
