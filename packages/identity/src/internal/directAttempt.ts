/**
 * A token request attempt on one of `NodeHttp`'s own pools, past the platform `HttpClient`: the `http.client POST`
 * span that client would have made is made here, when a tracer records it.
 */
import * as Headers from "@effect/platform/Headers"
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import { untraced } from "./liveServices.js"
import type { Outcome } from "./tokenRetry.js"
import type { AttemptLimits, Dispatcher, FormPost } from "./undiciExchange.js"
import { postForm } from "./undiciExchange.js"

/** The `FormPost` of `body` to `url` with `headers` (the form's content type and length added). */
export const formPost = (url: URL, headers: Readonly<Record<string, string>>, body: string): FormPost => ({
  origin: url.origin,
  path: url.pathname + url.search,
  headers: {
    ...headers,
    "content-type": "application/x-www-form-urlencoded",
    "content-length": String(Buffer.byteLength(body))
  },
  body
})

/** One attempt posting `post` to `url` on `dispatcher`, a span when a tracer records it (under Effect's own: none). */
export const directAttempt = (
  dispatcher: Effect.Effect<Dispatcher>,
  url: URL,
  post: FormPost,
  limits: AttemptLimits
): Effect.Effect<Outcome> => {
  const attempt = Effect.flatMap(dispatcher, (pool) => postForm(pool, post, limits))
  return Effect.suspend(() => untraced() ? attempt : traced(attempt, url, post))
}

// The attributes of the platform client's span, with the same names (OpenTelemetry's HTTP conventions).
const traced = (attempt: Effect.Effect<Outcome>, url: URL, post: FormPost): Effect.Effect<Outcome> =>
  Effect.useSpan(
    "http.client POST",
    { kind: "client", captureStackTrace: false },
    (span) =>
      Effect.flatMap(FiberRef.get(Headers.currentRedactedNames), (redacted) => {
        const headerAttributes = (prefix: string, headers: Readonly<Record<string, string>>) => {
          const shown = Headers.redact(Headers.fromInput(headers), redacted)
          for (const name in shown) span.attribute(`${prefix}.${name}`, String(shown[name]))
        }
        span.attribute("http.request.method", "POST")
        span.attribute("server.address", url.origin)
        if (url.port !== "") span.attribute("server.port", Number(url.port))
        span.attribute("url.full", url.toString())
        span.attribute("url.path", url.pathname)
        span.attribute("url.scheme", url.protocol.slice(0, -1))
        headerAttributes("http.request.header", post.headers)
        return Effect.tap(attempt, (outcome) => {
          if (outcome._tag === "Answer") {
            span.attribute("http.response.status_code", outcome.status)
            headerAttributes("http.response.header", outcome.headers)
          } else {
            span.attribute("error.type", outcome._tag === "Timeout" ? "timeout" : "transport")
          }
        })
      })
  )
