import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as UrlParams from "@effect/platform/UrlParams"
import * as Either from "effect/Either"
import type { HostPattern, Reason, Settings } from "../AuthenticatedHttpClient.js"
import { AuthenticatedHttpClientError } from "./signingError.js"

/** @internal */
export const isLoopback = (hostname: string): boolean =>
  hostname === "localhost" || hostname === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname)

/** @internal */
export const isHostAllowed = (allowedHosts: ReadonlyArray<HostPattern>, url: URL): boolean =>
  allowedHosts.some((pattern) => {
    const host = url.hostname
    const hostMatches = pattern.subdomains ? host.endsWith(`.${pattern.hostname}`) : host === pattern.hostname
    if (!hostMatches) return false
    if (pattern.port === undefined) return url.port === ""
    return (url.port === "" ? (url.protocol === "https:" ? 443 : 80) : Number(url.port)) === pattern.port
  })

/**
 * The URL as the transport will build it, or why the token may not go there.
 *
 * @internal
 */
export const checkTarget = (
  settings: Settings,
  request: HttpClientRequest.HttpClientRequest
): Either.Either<URL, AuthenticatedHttpClientError> => {
  const refuse = (reason: Reason, url: string, description: string) =>
    Either.left(new AuthenticatedHttpClientError({ reason, method: request.method, url, description }))
  const built = UrlParams.makeUrl(request.url, request.urlParams, request.hash)
  if (Either.isLeft(built)) {
    return refuse("InvalidUrl", request.url.split(/[?#]/)[0] ?? "", "not an absolute URL; the token was not sent")
  }
  const url = built.right
  const shown = `${url.origin}${url.pathname}`
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    return refuse("InvalidUrl", shown, "only http(s) URLs are signed; the token was not sent")
  }
  if (!isHostAllowed(settings.allowedHosts, url)) {
    return refuse(
      "HostNotAllowed",
      shown,
      `the host ${url.host} is not in allowedHosts; the token was not sent`
    )
  }
  if (url.protocol === "http:" && !isLoopback(url.hostname)) {
    return refuse("InsecureTransport", shown, "a token is sent over plain http only to loopback; use https")
  }
  return Either.right(url)
}
