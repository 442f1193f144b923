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

/**
 * Reads at most `maxBytes` bytes of the body, as UTF-8. A body whose declared length is within the cap is read
 * whole, in one step: the client's HTTP framing stops at that length, and the chunk loop of a `Stream` cost more
 * CPU than the rest of a token request. Its size is still checked, for clients that do not frame by length.
 */
export const readBounded = (
  response: HttpClientResponse.HttpClientResponse,
  maxBytes: number,
  // A Node client converts its headers anew on each read of `response.headers`: a caller that has them passes them.
  headers: Readonly<Record<string, string>> = response.headers
): Effect.Effect<BodyRead> => {
  const header = headers["content-length"]
  const declared = header !== undefined && /^\d{1,15}$/.test(header) ? Number(header) : undefined
  if (declared !== undefined && declared > maxBytes) return Effect.succeed<BodyRead>({ _tag: "TooLarge", maxBytes })
  return declared === undefined ? readChunks(response, maxBytes) : readWhole(response, maxBytes)
}

const readWhole = (response: HttpClientResponse.HttpClientResponse, maxBytes: number): Effect.Effect<BodyRead> =>
  Effect.match(response.arrayBuffer, {
    onFailure: (cause): BodyRead => ({ _tag: "Broken", cause }),
    onSuccess: (buffer): BodyRead =>
      buffer.byteLength > maxBytes
        ? { _tag: "TooLarge", maxBytes }
        : { _tag: "Text", text: Buffer.from(buffer).toString("utf8") }
  })

const readChunks = (response: HttpClientResponse.HttpClientResponse, maxBytes: number): Effect.Effect<BodyRead> =>
  Effect.suspend(() => {
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
