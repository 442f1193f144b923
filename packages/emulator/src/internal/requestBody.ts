/**
 * Reading a request: the body with a byte cap, streamed, and the query and form parameters merged in linear time.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import type * as Http from "node:http"

/** @internal */
export type BodyRead =
  | { readonly _tag: "Body"; readonly text: string }
  | { readonly _tag: "TooLarge" }

const tooLarge: BodyRead = { _tag: "TooLarge" }

/**
 * Reads the body as UTF-8, holding at most `maxBytes`: a declared `Content-Length` over the cap is refused before a
 * byte is read, and a streamed body is dropped the moment it passes the cap, so memory stays flat however much a
 * client sends. A body cut off by the client reads as empty (the connection is gone, nobody gets the answer).
 *
 * @internal
 */
export const readCapped = (incoming: Http.IncomingMessage, maxBytes: number): Effect.Effect<BodyRead> =>
  Effect.async<BodyRead>((resume) => {
    const declared = Number(incoming.headers["content-length"])
    if (Number.isFinite(declared) && declared > maxBytes) return resume(Effect.succeed(tooLarge))
    if (incoming.readableEnded) return resume(Effect.succeed({ _tag: "Body", text: "" }))
    const chunks: Array<Buffer> = []
    let size = 0
    const cleanup = () => {
      incoming.off("data", onData)
      incoming.off("end", onEnd)
      incoming.off("error", onGone)
      incoming.off("close", onGone)
    }
    const finish = (read: BodyRead) => {
      cleanup()
      resume(Effect.succeed(read))
    }
    function onData(chunk: Buffer) {
      size += chunk.length
      if (size > maxBytes) {
        chunks.length = 0
        incoming.pause()
        return finish(tooLarge)
      }
      chunks.push(chunk)
    }
    function onEnd() {
      finish({ _tag: "Body", text: Buffer.concat(chunks).toString("utf8") })
    }
    function onGone() {
      finish({ _tag: "Body", text: "" })
    }
    incoming.on("data", onData)
    incoming.on("end", onEnd)
    incoming.on("error", onGone)
    incoming.on("close", onGone)
    return Effect.sync(cleanup)
  })

/**
 * Query and form parameters together; the form wins, with its last value for a repeated name.
 *
 * `URLSearchParams.set` rescans the whole list on every call, so setting each form parameter in turn was quadratic
 * (100,000 parameters took 14 s); this makes one pass over each list and only appends.
 *
 * @internal
 */
export const mergeParams = (query: URLSearchParams, form: URLSearchParams): URLSearchParams => {
  const fromForm = new Map<string, string>()
  for (const [name, value] of form) fromForm.set(name, value)
  const merged = new URLSearchParams()
  for (const [name, value] of query) {
    if (!fromForm.has(name)) merged.append(name, value)
  }
  for (const [name, value] of fromForm) merged.append(name, value)
  return merged
}
