/**
 * An `HttpClient` that signs its requests: `Authorization: Bearer <token>` from the `TokenCredential`, for the
 * configured scopes, fetched on every request (the credential caches).
 *
 * - **Host safety.** The token goes only to the allowed hosts (by default the hosts named by the scopes), only over
 *   https (plain http only to loopback), and never across a redirect to another origin. A request to any other
 *   host fails with {@link AuthenticatedHttpClientError} before a token is fetched or a byte is sent.
 * - **Claims challenges (CAE).** A `401` with `error="insufficient_claims"` is answered once: the claims are
 *   decoded, a token with them is fetched, the request is sent again. A second `401` is returned as it is.
 * - **No secret escapes.** The token stays `Redacted` until the header is built; responses and errors handed back
 *   carry the request without the `Authorization` header.
 *
 * ```ts
 * const program = Effect.gen(function*() {
 *   const graph = yield* AuthenticatedHttpClient.AuthenticatedHttpClient
 *   const me = yield* graph.get("https://graph.microsoft.com/v1.0/me")
 *   return yield* me.json
 * }).pipe(Effect.provide(AuthenticatedHttpClient.layer({ scopes: ["https://graph.microsoft.com/User.Read"] })))
 * ```
 *
 * @since 0.1.0
 */
import * as Headers from "@effect/platform/Headers"
import * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as HttpIncomingMessage from "@effect/platform/HttpIncomingMessage"
import * as UrlParams from "@effect/platform/UrlParams"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { dual } from "effect/Function"
import * as Inspectable from "effect/Inspectable"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import type { AccessToken } from "./AccessToken.js"
import { InvalidOptionError } from "./AuthenticationError.js"
import type { TokenError } from "./AuthenticationError.js"
import { TokenCredential } from "./TokenCredential.js"
import type { Service as TokenCredentialService } from "./TokenCredential.js"

const inspectSymbol = Symbol.for("nodejs.util.inspect.custom")

// --- models ------------------------------------------------------------------------------------------------------

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The scopes of the token, e.g. `["https://graph.microsoft.com/User.Read"]`. At least one. */
  readonly scopes: string | ReadonlyArray<string>
  /**
   * The hosts the token may be sent to: `host`, `host:port`, `*.domain` (any subdomain, not the domain itself) or
   * an origin such as `https://host:8443`. Without a port an entry allows the scheme's default port only.
   * Default: the hosts of the scopes' resource URIs (`https://graph.microsoft.com/.default` → `graph.microsoft.com`);
   * required when a scope names no https resource (`api://...`, a GUID, a bare `User.Read`).
   */
  readonly allowedHosts?: ReadonlyArray<string> | undefined
  /** Ask for CAE tokens (client capability `cp1`). Default `true`: this client answers claims challenges. */
  readonly enableCae?: boolean | undefined
  /** The tenant to ask tokens for; default: the credential's. */
  readonly tenantId?: string | undefined
  /** How many redirects to follow (the token never crosses to another origin). Default 10; 0 returns the 3xx. */
  readonly maxRedirects?: number | undefined
}

/**
 * A host the token may be sent to, after validation.
 *
 * @since 0.1.0
 * @category models
 */
export interface HostPattern {
  /** Lower-case, as `URL.hostname` writes it (IPv6 in brackets). */
  readonly hostname: string
  /** `undefined`: the default port of the request's scheme. */
  readonly port: number | undefined
  /** `*.hostname`: any subdomain of `hostname`, not `hostname` itself. */
  readonly subdomains: boolean
}

/**
 * The options after validation.
 *
 * @since 0.1.0
 * @category models
 */
export interface Settings {
  readonly scopes: ReadonlyArray<string>
  readonly allowedHosts: ReadonlyArray<HostPattern>
  readonly enableCae: boolean
  readonly tenantId: string | undefined
  readonly maxRedirects: number
}

/**
 * Why a request was refused before anything was sent.
 *
 * - `InvalidUrl`: not an absolute http(s) URL (apply `prependUrl` to the signed client, not to the wrapped one).
 * - `HostNotAllowed`: the host (and port) is not in `allowedHosts`.
 * - `InsecureTransport`: plain http to a host that is not loopback (`localhost`, `127.0.0.0/8`, `[::1]`).
 *
 * @since 0.1.0
 * @category models
 */
export type Reason = "InvalidUrl" | "HostNotAllowed" | "InsecureTransport"

/**
 * The signed client refused to send a request: no token was fetched and nothing was sent.
 *
 * `url` is the origin and path only: a query string can carry secrets (SAS signatures, codes).
 *
 * @since 0.1.0
 * @category errors
 */
export class AuthenticatedHttpClientError extends Data.TaggedError("AuthenticatedHttpClientError")<{
  readonly reason: Reason
  readonly method: string
  readonly url: string
  readonly description: string
}> {
  override get message(): string {
    return `${this.description} (${this.method} ${this.url})`
  }

  override toJSON(): unknown {
    return {
      _tag: this._tag,
      name: this.name,
      message: this.message,
      reason: this.reason,
      method: this.method,
      url: this.url
    }
  }

  [inspectSymbol](): string {
    return `${this.name}: ${this.message}`
  }
}

/**
 * What a signed request can fail with: the wrapped client's errors, a refusal, or the credential's error (an
 * `AuthenticationError` whose `isInteractionRequired` says when the user must sign in again).
 *
 * @since 0.1.0
 * @category errors
 */
export type ClientError = HttpClientError.HttpClientError | SigningError

/**
 * The errors a signed client adds to the wrapped client's.
 *
 * @since 0.1.0
 * @category errors
 */
export type SigningError = AuthenticatedHttpClientError | TokenError

/**
 * @since 0.1.0
 * @category tags
 */
export class AuthenticatedHttpClient extends Context.Tag("@effect-entra/identity/AuthenticatedHttpClient")<
  AuthenticatedHttpClient,
  HttpClient.HttpClient.With<ClientError>
>() {}

// --- validation --------------------------------------------------------------------------------------------------

const oidcScopes = new Set(["openid", "profile", "email", "offline_access"])

/**
 * Validates options synchronously; nothing here touches the network.
 *
 * @since 0.1.0
 * @category validation
 */
export const validateOptions = (options: Options): Either.Either<Settings, InvalidOptionError> => {
  const fail = (field: string, reason: string) => Either.left(new InvalidOptionError({ field, reason }))
  if (typeof options !== "object" || options === null) return fail("options", "an options object is required")
  const scopes = normalizeScopes(options.scopes)
  if (scopes === undefined) return fail("scopes", "at least one scope is required, each a non-empty string")
  if (options.enableCae !== undefined && typeof options.enableCae !== "boolean") {
    return fail("enableCae", "must be a boolean")
  }
  if (options.tenantId !== undefined && (typeof options.tenantId !== "string" || options.tenantId.trim() === "")) {
    return fail("tenantId", "must be a non-empty string")
  }
  const maxRedirects = options.maxRedirects ?? 10
  if (!Number.isInteger(maxRedirects) || maxRedirects < 0) {
    return fail("maxRedirects", "must be a non-negative integer")
  }
  const allowedHosts: Array<HostPattern> = []
  if (options.allowedHosts !== undefined) {
    if (!Array.isArray(options.allowedHosts) || options.allowedHosts.length === 0) {
      return fail("allowedHosts", "list at least one host, or leave it out to allow the scopes' hosts")
    }
    for (const entry of options.allowedHosts) {
      const pattern = typeof entry === "string" ? parseHostPattern(entry) : undefined
      if (pattern === undefined) {
        return fail("allowedHosts", `"${String(entry)}" is not a host, host:port, *.domain or http(s) origin`)
      }
      allowedHosts.push(pattern)
    }
  } else {
    for (const scope of scopes) {
      if (oidcScopes.has(scope.toLowerCase())) continue
      const pattern = hostOfScope(scope)
      if (pattern === undefined) {
        return fail(
          "allowedHosts",
          `the scope "${scope}" names no http(s) resource host; list the hosts the token may be sent to`
        )
      }
      allowedHosts.push(pattern)
    }
    if (allowedHosts.length === 0) {
      return fail("allowedHosts", "the scopes name no resource; list the hosts the token may be sent to")
    }
  }
  return Either.right({
    scopes,
    allowedHosts,
    enableCae: options.enableCae ?? true,
    tenantId: options.tenantId,
    maxRedirects
  })
}

const normalizeScopes = (scopes: unknown): ReadonlyArray<string> | undefined => {
  const input: ReadonlyArray<unknown> = typeof scopes === "string" ? [scopes] : Array.isArray(scopes) ? scopes : []
  const result: Array<string> = []
  for (const item of input) {
    if (typeof item !== "string" || item.trim() === "") return undefined
    for (const part of item.trim().split(/\s+/)) if (!result.includes(part)) result.push(part)
  }
  return result.length === 0 ? undefined : result
}

const hostOfScope = (scope: string): HostPattern | undefined => {
  if (!URL.canParse(scope)) return undefined
  const url = new URL(scope)
  if ((url.protocol !== "https:" && url.protocol !== "http:") || url.hostname === "") return undefined
  return { hostname: url.hostname, port: url.port === "" ? undefined : Number(url.port), subdomains: false }
}

const parseHostPattern = (entry: string): HostPattern | undefined => {
  let text = entry.trim().toLowerCase()
  if (text.includes("://")) {
    if (!URL.canParse(text)) return undefined
    const url = new URL(text)
    const bare = url.pathname === "/" && url.search === "" && url.hash === "" && url.username === "" &&
      url.password === ""
    if ((url.protocol !== "https:" && url.protocol !== "http:") || !bare || url.hostname === "") return undefined
    return { hostname: url.hostname, port: url.port === "" ? undefined : Number(url.port), subdomains: false }
  }
  const subdomains = text.startsWith("*.")
  if (subdomains) text = text.slice(2)
  if (text === "" || /[/?#@\\\s*]/.test(text) || !URL.canParse(`https://${text}`)) return undefined
  const url = new URL(`https://${text}`)
  if (url.hostname === "" || (subdomains && (url.hostname.startsWith("[") || /^[\d.]+$/.test(url.hostname)))) {
    return undefined
  }
  // The port as written: URL drops 443 for https, but "host:443" means port 443 whatever the scheme.
  const written = /:(\d+)$/.exec(text)
  return { hostname: url.hostname, port: written === null ? undefined : Number(written[1]), subdomains }
}

// --- host rules --------------------------------------------------------------------------------------------------

/**
 * Loopback per RFC 8252 §8.3 and RFC 6761: `localhost`, `127.0.0.0/8`, `[::1]` (on a normalised `URL.hostname`).
 *
 * @since 0.1.0
 * @category host rules
 */
export const isLoopback = (hostname: string): boolean =>
  hostname === "localhost" || hostname === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname)

/**
 * Whether the token may be sent to `url` under `settings`' allow-list (scheme rules aside).
 *
 * @since 0.1.0
 * @category host rules
 */
export const isHostAllowed = (allowedHosts: ReadonlyArray<HostPattern>, url: URL): boolean =>
  allowedHosts.some((pattern) => {
    const host = url.hostname
    const hostMatches = pattern.subdomains ? host.endsWith(`.${pattern.hostname}`) : host === pattern.hostname
    if (!hostMatches) return false
    if (pattern.port === undefined) return url.port === ""
    return (url.port === "" ? (url.protocol === "https:" ? 443 : 80) : Number(url.port)) === pattern.port
  })

/** The URL as the transport will build it, or why the token may not go there. */
const checkTarget = (
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

// --- claims challenges -------------------------------------------------------------------------------------------

/**
 * What a `401`'s `WWW-Authenticate` asks for.
 *
 * - `None`: no `Bearer` challenge with `error="insufficient_claims"`; an ordinary 401.
 * - `Invalid`: such a challenge, but `claims` is missing or not base64 of a JSON object.
 * - `Claims`: the decoded claims request, and the tenant `authorization_uri` names (not common/organizations/
 *   consumers), if any.
 *
 * @since 0.1.0
 * @category models
 */
export type ClaimsChallenge =
  | { readonly _tag: "None" }
  | { readonly _tag: "Invalid" }
  | { readonly _tag: "Claims"; readonly claims: string; readonly tenantId: string | undefined }

/**
 * Reads a CAE / conditional-access claims challenge from `WWW-Authenticate` (RFC 7235 challenges; several may
 * share the header).
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseClaimsChallenge = (header: string | undefined): ClaimsChallenge => {
  if (header === undefined || header === "") return { _tag: "None" }
  const challenge = parseAuthenticate(header).find((c) =>
    c.scheme === "bearer" && c.params.get("error") === "insufficient_claims"
  )
  if (challenge === undefined) return { _tag: "None" }
  const claims = decodeClaims(challenge.params.get("claims"))
  if (claims === undefined) return { _tag: "Invalid" }
  return { _tag: "Claims", claims, tenantId: tenantOfAuthorizationUri(challenge.params.get("authorization_uri")) }
}

interface AuthChallenge {
  readonly scheme: string
  readonly params: Map<string, string>
}

const tchar = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/

/** RFC 7235 §4.1: `scheme [token68 | param *("," param)]`, challenges separated by commas. */
const parseAuthenticate = (header: string): ReadonlyArray<AuthChallenge> => {
  const challenges: Array<AuthChallenge> = []
  let current: AuthChallenge | undefined
  let i = 0
  const skipSpace = () => {
    while (header[i] === " " || header[i] === "\t") i++
  }
  const token = () => {
    const start = i
    while (i < header.length && tchar.test(header[i]!)) i++
    return header.slice(start, i)
  }
  const quoted = () => {
    let value = ""
    i++
    while (i < header.length && header[i] !== "\"") {
      if (header[i] === "\\") i++
      value += header[i] ?? ""
      i++
    }
    i++
    return value
  }
  while (i < header.length) {
    skipSpace()
    if (header[i] === ",") {
      i++
      continue
    }
    const name = token()
    if (name === "") {
      i++
      continue
    }
    skipSpace()
    if (header[i] === "=") {
      i++
      skipSpace()
      const value = header[i] === "\"" ? quoted() : token()
      if (value === "") {
        // token68 padding ("abc=="), not a parameter
        while (header[i] === "=") i++
        continue
      }
      const key = name.toLowerCase()
      if (current !== undefined && !current.params.has(key)) current.params.set(key, value)
      continue
    }
    current = { scheme: name.toLowerCase(), params: new Map() }
    challenges.push(current)
  }
  return challenges
}

const base64 = /^[A-Za-z0-9+/_-]+={0,2}$/

/** base64 (standard or url-safe) → UTF-8 → a JSON object; the JSON text is passed on as it is. */
const decodeClaims = (encoded: string | undefined): string | undefined => {
  const text = encoded?.trim() ?? ""
  if (!base64.test(text)) return undefined
  try {
    const json = new TextDecoder("utf-8", { fatal: true }).decode(Buffer.from(text, "base64"))
    const parsed: unknown = JSON.parse(json)
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) ? json : undefined
  } catch {
    return undefined
  }
}

const multiTenantSegments = new Set(["common", "organizations", "consumers"])

/** `https://login.microsoftonline.com/{tenant}/oauth2/...` → the tenant, unless it is a multi-tenant alias. */
const tenantOfAuthorizationUri = (uri: string | undefined): string | undefined => {
  if (uri === undefined || !URL.canParse(uri)) return undefined
  const segment = new URL(uri).pathname.split("/")[1] ?? ""
  if (!/^[A-Za-z0-9][A-Za-z0-9.-]*$/.test(segment) || multiTenantSegments.has(segment.toLowerCase())) {
    return undefined
  }
  return segment
}

// --- requests and responses --------------------------------------------------------------------------------------

/** Bodies that can be sent twice: a stream (or a raw stream) is consumed by the first attempt. */
const isReplayable = (body: HttpBody.HttpBody): boolean =>
  body._tag === "Empty" || body._tag === "Uint8Array" ||
  (body._tag === "Raw" && (typeof body.body === "string" || body.body instanceof Uint8Array))

const redirectStatuses = new Set([301, 302, 303, 307, 308])

/** The next request of a redirect (Fetch standard §4.4), or `undefined` when it cannot be followed. */
const redirectTarget = (
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

/** The request without any `Authorization` header (ours is never in it; a caller's might be). */
const withoutAuthorization = (request: HttpClientRequest.HttpClientRequest): HttpClientRequest.HttpClientRequest => {
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
 * The response as the caller sees it: `request` is the request without the token, and body errors say so too.
 * The signed original is held in a private field, out of reach of `inspect`, `JSON.stringify` and reflection.
 */
class UnsignedResponse extends Inspectable.Class implements HttpClientResponse.HttpClientResponse {
  readonly [HttpClientResponse.TypeId]: HttpClientResponse.TypeId = HttpClientResponse.TypeId
  readonly [HttpIncomingMessage.TypeId]: HttpIncomingMessage.TypeId = HttpIncomingMessage.TypeId
  readonly #original: HttpClientResponse.HttpClientResponse

  constructor(original: HttpClientResponse.HttpClientResponse, readonly request: HttpClientRequest.HttpClientRequest) {
    super()
    this.#original = original
  }

  get status() {
    return this.#original.status
  }
  get headers() {
    return this.#original.headers
  }
  get cookies() {
    return this.#original.cookies
  }
  get remoteAddress() {
    return this.#original.remoteAddress
  }
  get text() {
    return Effect.mapError(this.#original.text, (e) => this.#scrub(e))
  }
  get json() {
    return Effect.mapError(this.#original.json, (e) => this.#scrub(e))
  }
  get urlParamsBody() {
    return Effect.mapError(this.#original.urlParamsBody, (e) => this.#scrub(e))
  }
  get arrayBuffer() {
    return Effect.mapError(this.#original.arrayBuffer, (e) => this.#scrub(e))
  }
  get formData() {
    return Effect.mapError(this.#original.formData, (e) => this.#scrub(e))
  }
  get stream() {
    return Stream.mapError(this.#original.stream, (e) => this.#scrub(e))
  }

  #scrub(error: HttpClientError.ResponseError): HttpClientError.ResponseError {
    return new HttpClientError.ResponseError({
      request: this.request,
      response: this,
      reason: error.reason,
      ...(error.cause === undefined ? {} : { cause: error.cause }),
      ...(error.description === undefined ? {} : { description: error.description })
    })
  }

  toJSON(): unknown {
    return HttpIncomingMessage.inspect(this, {
      _id: "@effect/platform/HttpClientResponse",
      request: this.request.toJSON(),
      status: this.status
    })
  }
}

/** The wrapped client's error, pointing at the request without the token. */
const scrubError = <E>(error: E, request: HttpClientRequest.HttpClientRequest): E => {
  if (!HttpClientError.isHttpClientError(error)) return error
  const extra = {
    ...(error.cause === undefined ? {} : { cause: error.cause }),
    ...(error.description === undefined ? {} : { description: error.description })
  }
  return (error._tag === "RequestError"
    ? new HttpClientError.RequestError({ request, reason: error.reason, ...extra })
    : new HttpClientError.ResponseError({
      request,
      response: new UnsignedResponse(error.response, request),
      reason: error.reason,
      ...extra
    })) as E
}

const discardBody = (response: HttpClientResponse.HttpClientResponse) => Effect.ignore(response.arrayBuffer)

// --- the client --------------------------------------------------------------------------------------------------

/**
 * Signs `client`'s requests with tokens from `credential`, from validated settings.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromSettings = <E, R>(
  client: HttpClient.HttpClient.With<E, R>,
  credential: TokenCredentialService,
  settings: Settings
): HttpClient.HttpClient.With<E | AuthenticatedHttpClientError | TokenError, R> => {
  const scopeText = settings.scopes.join(" ")

  const getToken = (claims?: { readonly claims: string; readonly tenantId: string | undefined }) =>
    credential.getToken(settings.scopes, {
      enableCae: settings.enableCae,
      tenantId: claims?.tenantId ?? settings.tenantId,
      claims: claims?.claims
    })

  /** One exchange with the wrapped client; the response and errors point at the request without the token. */
  const send = (request: HttpClientRequest.HttpClientRequest, token: AccessToken | undefined) =>
    client.execute(token === undefined ? request : HttpClientRequest.bearerToken(request, token.token)).pipe(
      Effect.mapError((error) => scrubError(error, request))
    )

  const execute = Effect.fn("AuthenticatedHttpClient.execute", { captureStackTrace: false })(function*(
    original: HttpClientRequest.HttpClientRequest
  ) {
    yield* Effect.annotateCurrentSpan({
      "http.request.method": original.method,
      "entra.scopes": scopeText,
      "entra.cae": settings.enableCae
    })
    const target = yield* checkTarget(settings, original)
    yield* Effect.annotateCurrentSpan({ "server.address": target.hostname, "url.scheme": target.protocol.slice(0, -1) })
    const origin = target.origin
    let request = original
    let url = target
    let signing = true
    let claimsToken: AccessToken | undefined
    let challenged = false
    let redirects = 0
    while (true) {
      const token = signing ? claimsToken ?? (yield* getToken()) : undefined
      const response = yield* send(request, token)
      if (response.status === 401 && signing && !challenged) {
        const challenge = parseClaimsChallenge(response.headers["www-authenticate"])
        // A claims challenge is answered once; anything we cannot answer returns the 401.
        if (challenge._tag !== "None") {
          challenged = true
          if (challenge._tag === "Invalid") return yield* declined(response, request, "invalid-claims")
          if (!isReplayable(request.body)) return yield* declined(response, request, "body-not-replayable")
          const fresh = yield* getToken(challenge).pipe(
            Effect.catchTag("InvalidOptionError", (error) =>
              error.field === "tenantId" || error.field === "claims"
                ? Effect.succeed(error.field)
                : Effect.fail(error))
          )
          if (typeof fresh === "string") {
            return yield* declined(response, request, fresh === "tenantId" ? "tenant-not-allowed" : "invalid-claims")
          }
          yield* Effect.annotateCurrentSpan({
            "entra.cae.retry": true,
            "entra.cae.tenant_hint": challenge.tenantId !== undefined
          })
          yield* discardBody(response)
          claimsToken = fresh
          continue
        }
      }
      if (redirectStatuses.has(response.status) && redirects < settings.maxRedirects) {
        const next = redirectTarget(request, url, response)
        if (next !== undefined) {
          yield* discardBody(response)
          redirects++
          yield* Effect.annotateCurrentSpan("http.redirects", redirects)
          // The token never follows a redirect to another origin (scheme, host or port).
          if (signing && next.url.origin !== origin) {
            signing = false
            yield* Effect.annotateCurrentSpan("entra.token.dropped_on_redirect", true)
          }
          request = signing ? next.request : withoutAuthorization(next.request)
          url = next.url
          continue
        }
      }
      return new UnsignedResponse(response, request) as HttpClientResponse.HttpClientResponse
    }
  })

  const declined = (
    response: HttpClientResponse.HttpClientResponse,
    request: HttpClientRequest.HttpClientRequest,
    outcome: string
  ) =>
    Effect.as(
      Effect.zipRight(
        Effect.annotateCurrentSpan({ "entra.cae.retry": false, "entra.cae.outcome": outcome }),
        Effect.logDebug("Claims challenge not answered; returning the 401").pipe(
          Effect.annotateLogs({ outcome, method: request.method })
        )
      ),
      new UnsignedResponse(response, request) as HttpClientResponse.HttpClientResponse
    )

  return HttpClient.makeWith(
    (request) => Effect.flatMap(request, execute),
    Effect.succeed as HttpClient.HttpClient.Preprocess<never, never>
  )
}

/**
 * Signs `client`'s requests with tokens from `credential`. Pure: the options are validated here, and when they are
 * invalid every request fails with the `InvalidOptionError` (use {@link make} to fail at construction instead).
 *
 * Apply URL combinators (`prependUrl`), retries and time-outs to the returned client; the wrapped client must send
 * requests as they are (no `followRedirects`, no URL rewriting), because the checks run before it. Redirects the
 * wrapped client returns (undici, node:http) are followed here; `FetchHttpClient` follows them inside `fetch`, which
 * drops `Authorization` on a redirect to another origin (Fetch standard, "HTTP-redirect fetch").
 *
 * @since 0.1.0
 * @category combinators
 */
export const authenticate: {
  (
    credential: TokenCredentialService,
    options: Options
  ): <E, R>(client: HttpClient.HttpClient.With<E, R>) => HttpClient.HttpClient.With<E | SigningError, R>
  <E, R>(
    client: HttpClient.HttpClient.With<E, R>,
    credential: TokenCredentialService,
    options: Options
  ): HttpClient.HttpClient.With<E | SigningError, R>
} = dual(3, <E, R>(
  client: HttpClient.HttpClient.With<E, R>,
  credential: TokenCredentialService,
  options: Options
): HttpClient.HttpClient.With<E | SigningError, R> =>
  Either.match(validateOptions(options), {
    onLeft: (error) =>
      HttpClient.makeWith(
        (request) => Effect.zipRight(request, Effect.fail(error)),
        Effect.succeed as HttpClient.HttpClient.Preprocess<never, never>
      ),
    onRight: (settings) => fromSettings(client, credential, settings)
  }))

/**
 * The signed client over the `HttpClient` and `TokenCredential` in the context. Invalid options fail here, before
 * any request.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: Options
): Effect.Effect<
  HttpClient.HttpClient.With<ClientError>,
  InvalidOptionError,
  HttpClient.HttpClient | TokenCredential
> =>
  Effect.gen(function*() {
    const settings = yield* validateOptions(options)
    const client = yield* HttpClient.HttpClient
    const credential = yield* TokenCredential
    return fromSettings(client, credential, settings)
  })

/**
 * The signed client under its own tag, so a program can hold it next to the plain `HttpClient`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options
): Layer.Layer<AuthenticatedHttpClient, InvalidOptionError, HttpClient.HttpClient | TokenCredential> =>
  Layer.effect(AuthenticatedHttpClient, make(options))
