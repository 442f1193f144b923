import * as Headers from "@effect/platform/Headers"
import * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"

/**
 * Bodies that can be sent twice: a stream (or a raw stream) is consumed by the first attempt.
 *
 * @internal
 */
export const isReplayable = (body: HttpBody.HttpBody): boolean =>
  body._tag === "Empty" || body._tag === "Uint8Array" ||
  (body._tag === "Raw" && (typeof body.body === "string" || body.body instanceof Uint8Array))

/** @internal */
export const redirectStatuses = new Set([301, 302, 303, 307, 308])

/**
 * The next request of a redirect (Fetch standard §4.4), or `undefined` when it cannot be followed.
 *
 * @internal
 */
export const redirectTarget = (
  request: HttpClientRequest.HttpClientRequest,
  url: URL,
  response: HttpClientResponse.HttpClientResponse
): { readonly request: HttpClientRequest.HttpClientRequest; readonly url: URL } | undefined => {
  const location = response.headers["location"]
  if (location === undefined || !URL.canParse(location, url)) return undefined
  const target = new URL(location, url)
  if (target.protocol !== "https:" && target.protocol !== "http:") return undefined
  const next = HttpClientRequest.setUrl(request, target)
  const toGet = (response.status === 303 && request.method !== "GET" && request.method !== "HEAD") ||
    ((response.status === 301 || response.status === 302) && request.method === "POST")
  if (toGet) {
    return {
      request: next.pipe(HttpClientRequest.setMethod("GET"), HttpClientRequest.setBody(HttpBody.empty)),
      url: target
    }
  }
  return isReplayable(request.body) ? { request: next, url: target } : undefined
}

/**
 * The request without any `Authorization` header (ours is never in it; a caller's might be).
 *
 * @internal
 */
export const withoutAuthorization = (
  request: HttpClientRequest.HttpClientRequest
): HttpClientRequest.HttpClientRequest => {
  if (!("authorization" in request.headers)) return request
  const rebuilt = HttpClientRequest.make(request.method as "POST")(request.url, {
    headers: Headers.remove(request.headers, "authorization"),
    urlParams: request.urlParams,
    body: request.body
  })
  return Option.match(request.hash, {
    onNone: () => rebuilt,
    onSome: (hash) => HttpClientRequest.setHash(rebuilt, hash)
  })
}

/**
 * Reads and drops a body the caller will never see, so the connection can be reused.
 *
 * @internal
 */
export const discardBody = (response: HttpClientResponse.HttpClientResponse) => Effect.ignore(response.arrayBuffer)
