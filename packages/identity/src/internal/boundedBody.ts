/**
 * Reads a response body up to a byte cap, chunk by chunk: memory stays at the cap however long a server sends,
 * and reading stops (the connection is released) as soon as the cap is passed.
 */
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"

/** What reading the body gave. */
export type BodyRead =
  | { readonly _tag: "Text"; readonly text: string }
  | { readonly _tag: "TooLarge"; readonly maxBytes: number }
  | { readonly _tag: "Broken"; readonly cause: unknown }

class TooLarge extends Data.TaggedError("TooLarge")<{}> {}

/** Reads at most `maxBytes` bytes of the body, as UTF-8. */
export const readBounded = (
  response: HttpClientResponse.HttpClientResponse,
  maxBytes: number
): Effect.Effect<BodyRead> => {
  const declared = Number(response.headers["content-length"])
  if (Number.isFinite(declared) && declared > maxBytes) {
    return Effect.succeed<BodyRead>({ _tag: "TooLarge", maxBytes })
  }
  return Effect.suspend(() => {
    const chunks: Array<Uint8Array> = []
    let size = 0
    return response.stream.pipe(
      Stream.runForEach((chunk) => {
        size += chunk.byteLength
        if (size > maxBytes) return new TooLarge()
        chunks.push(chunk)
        return Effect.void
      }),
      Effect.map((): BodyRead => ({ _tag: "Text", text: Buffer.concat(chunks, size).toString("utf8") })),
      Effect.catchAll((error): Effect.Effect<BodyRead> =>
        Effect.succeed(error._tag === "TooLarge" ? { _tag: "TooLarge", maxBytes } : { _tag: "Broken", cause: error })
      )
    )
  })
}
