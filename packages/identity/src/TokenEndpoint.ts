/**
 * The HTTP step: redeem an authorization code or a refresh token at Entra's v2.0 token endpoint.
 *
 * Each call is one span. Requests are form-encoded (RFC 6749 §4.1.3, §6); responses are decoded with Schema and
 * checked before anything trusts them. Transport errors, time-outs, 408, 429 and 5xx (but 501 and 505) are
 * retried with jittered exponential backoff, honouring `Retry-After`; every other answer fails at once with an
 * {@link AuthenticationError} carrying Entra's response.
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Random from "effect/Random"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type { ErrorResponse, GrantType, Reason } from "./AuthenticationError.js"
import { AuthenticationError } from "./AuthenticationError.js"
import { tokenEndpoint } from "./Authority.js"
import * as CredentialMetrics from "./CredentialMetrics.js"

/**
 * Retry and time-out settings.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Attempts in all, the first included. Default 4. */
  readonly maxAttempts?: number | undefined
  /** The first backoff delay; it doubles each retry, with jitter between 50% and 100%. Default 800 ms. */
  readonly baseDelay?: Duration.DurationInput | undefined
  /** The largest backoff delay. Default 30 s. */
  readonly maxDelay?: Duration.DurationInput | undefined
  /** The longest `Retry-After` waited for; a longer one fails at once with the 429/503. Default 60 s. */
  readonly maxRetryAfter?: Duration.DurationInput | undefined
  /** Time-out of one attempt: connect, headers and body. Default 30 s. */
  readonly requestTimeout?: Duration.DurationInput | undefined
}

/**
 * What every token request names.
 *
 * @since 0.1.0
 * @category models
 */
export interface ClientParameters {
  readonly authority: string
  readonly tenantId: string
  readonly clientId: string
  readonly clientSecret?: Redacted.Redacted<string> | undefined
  /** The resource scopes; `openid profile offline_access` are added to every request. */
  readonly scopes: ReadonlyArray<string>
  /** A claims request (JSON text), e.g. with the `cp1` capability merged in. */
  readonly claims?: string | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface RedeemCodeRequest extends ClientParameters {
  readonly code: Redacted.Redacted<string>
  readonly redirectUri: string
  readonly codeVerifier?: Redacted.Redacted<string> | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface RefreshRequest extends ClientParameters {
  readonly refreshToken: Redacted.Redacted<string>
}

/**
 * A decoded, checked token response.
 *
 * @since 0.1.0
 * @category models
 */
export interface TokenResponse {
  readonly accessToken: Redacted.Redacted<string>
  readonly tokenType: string
  /** Epoch ms when the successful attempt was sent; lifetimes count from here. */
  readonly requestedOn: number
  /** Epoch ms. From `expires_on` when present, else `requestedOn + expires_in`. */
  readonly expiresOn: number
  /** Epoch ms from `refresh_in`. */
  readonly refreshOn?: number | undefined
  readonly refreshToken?: Redacted.Redacted<string> | undefined
  readonly idToken?: Redacted.Redacted<string> | undefined
  readonly scope?: string | undefined
  readonly clientInfo?: string | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  readonly redeemCode: (request: RedeemCodeRequest) => Effect.Effect<TokenResponse, AuthenticationError>
  readonly redeemRefreshToken: (request: RefreshRequest) => Effect.Effect<TokenResponse, AuthenticationError>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class TokenEndpoint extends Context.Tag("@effect-entra/identity/TokenEndpoint")<TokenEndpoint, Service>() {}

/** The OIDC scopes MSAL adds to every request: an ID token, `client_info` and a refresh token. */
const oidcScopes = ["openid", "profile", "offline_access"]

// v1 endpoints and some proxies send numbers as strings; MSAL accepts both.
const NumberLike = Schema.Union(Schema.Number, Schema.NumberFromString)

const SuccessBody = Schema.Struct({
  access_token: Schema.optional(Schema.Redacted(Schema.String)),
  token_type: Schema.optional(Schema.String),
  expires_in: Schema.optional(NumberLike),
  expires_on: Schema.optional(NumberLike),
  ext_expires_in: Schema.optional(NumberLike),
  refresh_in: Schema.optional(NumberLike),
  refresh_token: Schema.optional(Schema.Redacted(Schema.String)),
  id_token: Schema.optional(Schema.Redacted(Schema.String)),
  scope: Schema.optional(Schema.String),
  client_info: Schema.optional(Schema.String)
})

const ErrorBody = Schema.Struct({
  error: Schema.String,
  error_description: Schema.optional(Schema.String),
  error_codes: Schema.optional(Schema.Array(Schema.Number)),
  timestamp: Schema.optional(Schema.String),
  trace_id: Schema.optional(Schema.String),
  correlation_id: Schema.optional(Schema.String),
  error_uri: Schema.optional(Schema.String),
  suberror: Schema.optional(Schema.String),
  claims: Schema.optional(Schema.String)
})

const decodeSuccess = Schema.decodeUnknownEither(SuccessBody, { errors: "all" })
const decodeError = Schema.decodeUnknownEither(ErrorBody)

const maxBodyKept = 2048
const secretFields =
  /("(?:access_token|refresh_token|id_token|client_secret|code|code_verifier|client_assertion)"\s*:\s*)"(?:[^"\\]|\\.)*"/g
const jwtLike = /eyJ[\w-]+\.[\w-]+\.[\w-]*/g

/**
 * Replaces token-like values with `***` and truncates, so a body can be kept in an error.
 *
 * @since 0.1.0
 * @category internals
 */
export const scrubBody = (body: string): string => {
  const scrubbed = body.replace(secretFields, "$1\"***\"").replace(jwtLike, "***")
  return scrubbed.length > maxBodyKept ? `${scrubbed.slice(0, maxBodyKept)}...(truncated)` : scrubbed
}

const isRetryableStatus = (status: number) =>
  status === 408 || status === 429 || (status >= 500 && status <= 599 && status !== 501 && status !== 505)

interface Answer {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  /** `undefined` when the status line arrived but the body could not be read (reset, truncated). */
  readonly text: string | undefined
  readonly bodyError?: unknown
}

type Attempt =
  | { readonly _tag: "Answer"; readonly answer: Answer }
  | { readonly _tag: "Transport"; readonly cause: unknown }
  | { readonly _tag: "Timeout" }

/**
 * Builds the token endpoint on the `HttpClient` in the context.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options = {}): Effect.Effect<Service, never, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    // Trace context stays inside our process: Entra is a third party.
    const client = (yield* HttpClient.HttpClient).pipe(HttpClient.withTracerPropagation(false))
    const maxAttempts = Math.max(1, Math.floor(options.maxAttempts ?? 4))
    const baseDelay = Duration.toMillis(Duration.decode(options.baseDelay ?? "800 millis"))
    const maxDelay = Duration.toMillis(Duration.decode(options.maxDelay ?? "30 seconds"))
    const maxRetryAfter = Duration.toMillis(Duration.decode(options.maxRetryAfter ?? "60 seconds"))
    const requestTimeout = Duration.decode(options.requestTimeout ?? "30 seconds")

    const sendOnce = (request: HttpClientRequest.HttpClientRequest): Effect.Effect<Attempt> =>
      client.execute(request).pipe(
        Effect.flatMap((response) =>
          response.text.pipe(
            Effect.map((text): Attempt => ({
              _tag: "Answer",
              answer: { status: response.status, headers: response.headers, text }
            })),
            Effect.catchAll((bodyError) =>
              Effect.succeed<Attempt>({
                _tag: "Answer",
                answer: { status: response.status, headers: response.headers, text: undefined, bodyError }
              })
            )
          )
        ),
        // The time-out covers the whole exchange, body included (EFFECT-3 §3.5).
        Effect.timeoutTo({
          duration: requestTimeout,
          onTimeout: (): Attempt => ({ _tag: "Timeout" }),
          onSuccess: (attempt) => attempt
        }),
        Effect.catchAll((error: HttpClientError.HttpClientError) =>
          Effect.succeed<Attempt>({ _tag: "Transport", cause: innerCause(error) })
        )
      )

    const backoff = (retry: number) =>
      Effect.map(Random.next, (random) => {
        const exponential = Math.min(maxDelay, baseDelay * 2 ** (retry - 1))
        return Math.round(exponential * (0.5 + random / 2))
      })

    const execute = (
      grantType: GrantType,
      parameters: ClientParameters,
      form: Record<string, string>
    ): Effect.Effect<TokenResponse, AuthenticationError> =>
      Effect.gen(function*() {
        const url = tokenEndpoint(parameters.authority, parameters.tenantId)
        const correlationId = crypto.randomUUID()
        const request = HttpClientRequest.post(url).pipe(
          HttpClientRequest.acceptJson,
          HttpClientRequest.setHeaders({
            "client-request-id": correlationId,
            "return-client-request-id": "true",
            "x-client-sku": "effect-entra.identity",
            "x-client-ver": "0.1.0"
          }),
          HttpClientRequest.bodyUrlParams(form)
        )
        // The code grant is not idempotent: once a 200 has arrived the code is spent, so an unreadable 200 is not
        // retried; a refresh can be repeated safely.
        const idempotent = grantType === "refresh_token"
        let attempt = 0
        while (true) {
          attempt++
          const requestedOn = yield* Clock.currentTimeMillis
          const outcome = yield* sendOnce(request)
          const retryable = outcome._tag !== "Answer"
            || isRetryableStatus(outcome.answer.status)
            || (idempotent && outcome.answer.status === 200 && outcome.answer.text === undefined)
          if (retryable && attempt < maxAttempts) {
            const retryAfter = outcome._tag === "Answer" ? yield* retryAfterMillis(outcome.answer.headers) : undefined
            if (retryAfter === undefined || retryAfter <= maxRetryAfter) {
              const delay = retryAfter ?? (yield* backoff(attempt))
              yield* Effect.annotateCurrentSpan("entra.retries", attempt)
              yield* Metric.increment(Metric.tagged(CredentialMetrics.tokenRequestRetries, "grant_type", grantType))
              yield* Effect.logDebug("Retrying token request").pipe(
                Effect.annotateLogs({ grantType, attempt, delayMs: delay, ...outcomeAnnotation(outcome) })
              )
              yield* Effect.sleep(Duration.millis(delay))
              continue
            }
          }
          yield* Effect.annotateCurrentSpan("entra.attempts", attempt)
          return yield* interpret(outcome, { grantType, attempt, requestedOn }).pipe(
            Effect.tapBoth({
              onFailure: (error) => countRequest(grantType, error.errorResponse.error),
              onSuccess: () => countRequest(grantType, "success")
            })
          )
        }
      })

    const countRequest = (grantType: GrantType, outcome: string) =>
      Metric.increment(
        Metric.tagged(Metric.tagged(CredentialMetrics.tokenRequests, "grant_type", grantType), "outcome", outcome)
      )

    const interpret = (
      outcome: Attempt,
      context: { readonly grantType: GrantType; readonly attempt: number; readonly requestedOn: number }
    ): Effect.Effect<TokenResponse, AuthenticationError> =>
      Effect.gen(function*() {
        const { attempt, grantType, requestedOn } = context
        const fail = (reason: Reason, statusCode: number, errorResponse: ErrorResponse, extra: {
          readonly body?: string | undefined
          readonly cause?: unknown
          readonly retryAfterMs?: number | undefined
        } = {}) =>
          new AuthenticationError({ reason, statusCode, errorResponse, grantType, attempts: attempt, ...extra })

        if (outcome._tag === "Timeout") {
          return yield* fail("Timeout", 0, {
            error: "timeout",
            errorDescription: `The token request timed out after ${Duration.format(requestTimeout)}`
          })
        }
        if (outcome._tag === "Transport") {
          return yield* fail("Transport", 0, {
            error: "transport_error",
            errorDescription: `The token endpoint could not be reached: ${describeCause(outcome.cause)}`
          }, { cause: outcome.cause })
        }
        const { headers, status, text } = outcome.answer
        yield* Effect.annotateCurrentSpan("http.response.status_code", status)
        if (text === undefined) {
          return yield* fail(status >= 400 ? "ErrorResponse" : "InvalidResponse", status, {
            error: status >= 500 ? "server_error" : "invalid_response",
            errorDescription: `The token endpoint's HTTP ${status} answer broke off before its body was complete`
          }, { cause: innerCause(outcome.answer.bodyError) })
        }
        const body = parseJson(text)
        if (status === 200) {
          const decoded = Either.flatMap(
            Either.mapLeft(decodeSuccess(body), (error) => issuePaths(error)),
            (success) => toTokenResponse(success, requestedOn)
          )
          if (Either.isRight(decoded)) return decoded.right
          return yield* fail("InvalidResponse", status, {
            error: "invalid_response",
            errorDescription: `The token endpoint answered HTTP 200 with an unusable token response: ${decoded.left}`
          }, { body: scrubBody(text) })
        }
        const retryAfterMs = yield* retryAfterMillis(headers)
        const decodedError = decodeError(body)
        if (Either.isRight(decodedError)) {
          const e = decodedError.right
          yield* Effect.annotateCurrentSpan({
            "entra.error": e.error,
            ...(e.error_codes?.[0] === undefined ? {} : { "entra.aadsts": e.error_codes[0] })
          })
          return yield* fail(status >= 400 ? "ErrorResponse" : "InvalidResponse", status, {
            error: e.error,
            errorDescription: e.error_description ?? e.error,
            errorCodes: e.error_codes,
            timestamp: e.timestamp,
            traceId: e.trace_id ?? headers["x-ms-request-id"],
            correlationId: e.correlation_id,
            errorUri: e.error_uri,
            suberror: e.suberror,
            claims: e.claims
          }, { body: scrubBody(text), retryAfterMs })
        }
        const contentType = headers["content-type"] ?? "no content type"
        return yield* fail(status >= 400 ? "ErrorResponse" : "InvalidResponse", status, {
          error: status === 429 ? "too_many_requests" : status >= 500 ? "server_error" : "invalid_response",
          errorDescription: `The token endpoint answered HTTP ${status} with a body that is not an OAuth error ` +
            `(${contentType.split(";")[0]})`,
          traceId: headers["x-ms-request-id"]
        }, { body: scrubBody(text), retryAfterMs })
      })

    const baseForm = (parameters: ClientParameters, grantType: GrantType): Record<string, string> => {
      const form: Record<string, string> = {
        client_id: parameters.clientId,
        grant_type: grantType,
        scope: [...parameters.scopes, ...oidcScopes].join(" "),
        // MSAL's extension: Entra answers with client_info, which identifies the account ({uid}.{utid}).
        client_info: "1"
      }
      if (parameters.clientSecret !== undefined) form.client_secret = Redacted.value(parameters.clientSecret)
      if (parameters.claims !== undefined) form.claims = parameters.claims
      return form
    }

    const spanAttributes = (parameters: ClientParameters, grantType: GrantType) => ({
      "entra.tenant_id": parameters.tenantId,
      "entra.client_id": parameters.clientId,
      "entra.grant_type": grantType,
      "entra.scopes": parameters.scopes.join(" "),
      "entra.claims": parameters.claims !== undefined
    })

    const measured = (grantType: GrantType) => <A, E>(effect: Effect.Effect<A, E>) =>
      Effect.timed(effect).pipe(
        Effect.tap(([elapsed]) =>
          Metric.update(
            Metric.tagged(CredentialMetrics.tokenRequestDuration, "grant_type", grantType),
            Duration.toMillis(elapsed)
          )
        ),
        Effect.map(([, value]) => value)
      )

    const redeemCode = Effect.fn("TokenEndpoint.redeemCode")(function*(request: RedeemCodeRequest) {
      yield* Effect.annotateCurrentSpan(spanAttributes(request, "authorization_code"))
      const form = baseForm(request, "authorization_code")
      form.code = Redacted.value(request.code)
      form.redirect_uri = request.redirectUri
      if (request.codeVerifier !== undefined) form.code_verifier = Redacted.value(request.codeVerifier)
      return yield* execute("authorization_code", request, form).pipe(measured("authorization_code"))
    })

    const redeemRefreshToken = Effect.fn("TokenEndpoint.redeemRefreshToken")(function*(request: RefreshRequest) {
      yield* Effect.annotateCurrentSpan(spanAttributes(request, "refresh_token"))
      const form = baseForm(request, "refresh_token")
      form.refresh_token = Redacted.value(request.refreshToken)
      return yield* execute("refresh_token", request, form).pipe(measured("refresh_token"))
    })

    return TokenEndpoint.of({ redeemCode, redeemRefreshToken })
  })

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<TokenEndpoint, never, HttpClient.HttpClient> =>
  Layer.effect(TokenEndpoint, make(options))

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

// Only the paths of failing fields: ParseError messages quote the actual values, which may be secrets.
const issuePaths = (error: ParseResult.ParseError): string => {
  const issues = ParseResult.ArrayFormatter.formatErrorSync(error)
  const paths = issues.map((issue) => (issue.path.length === 0 ? "(body)" : issue.path.join(".")))
  return `invalid ${Array.from(new Set(paths)).join(", ")}`
}

const toTokenResponse = (
  body: typeof SuccessBody.Type,
  requestedOn: number
): Either.Either<TokenResponse, string> => {
  if (body.access_token === undefined || Redacted.value(body.access_token).length === 0) {
    return Either.left("no access_token")
  }
  let expiresOn: number
  if (body.expires_on !== undefined && body.expires_on > 0) expiresOn = body.expires_on * 1000
  else if (body.expires_in !== undefined && body.expires_in > 0) expiresOn = requestedOn + body.expires_in * 1000
  else return Either.left("neither expires_in nor expires_on")
  const response: TokenResponse = {
    accessToken: body.access_token,
    tokenType: body.token_type ?? "Bearer",
    requestedOn,
    expiresOn,
    refreshOn: body.refresh_in !== undefined && body.refresh_in > 0
      ? requestedOn + body.refresh_in * 1000
      : undefined,
    refreshToken: body.refresh_token,
    idToken: body.id_token,
    scope: body.scope,
    clientInfo: body.client_info
  }
  return Either.right(response)
}

/** `retry-after-ms` / `x-ms-retry-after-ms` (ms), else `Retry-After` in seconds or as an HTTP date. */
const retryAfterMillis = (headers: Readonly<Record<string, string>>): Effect.Effect<number | undefined> =>
  Effect.gen(function*() {
    for (const name of ["retry-after-ms", "x-ms-retry-after-ms"]) {
      const value = headers[name]
      if (value !== undefined && /^\d+$/.test(value.trim())) return Number(value.trim())
    }
    const value = headers["retry-after"]?.trim()
    if (value === undefined || value === "") return undefined
    if (/^\d+$/.test(value)) return Number(value) * 1000
    const date = Date.parse(value)
    if (Number.isNaN(date)) return undefined
    const now = yield* Clock.currentTimeMillis
    return Math.max(0, date - now)
  })

const describeCause = (cause: unknown): string => {
  const inner = (cause as { readonly cause?: unknown } | undefined)?.cause ?? cause
  if (inner instanceof Error) {
    const code = (inner as { readonly code?: unknown }).code
    return typeof code === "string" ? `${code} ${inner.message}`.trim() : inner.message
  }
  return "network error"
}

const outcomeAnnotation = (outcome: Attempt): Record<string, unknown> =>
  outcome._tag === "Answer" ? { status: outcome.answer.status } : { failure: outcome._tag }

/** Parses Entra's `client_info` (base64url JSON `{uid, utid}`) into a home account id `uid.utid`. */
export const homeAccountIdFromClientInfo = (clientInfo: string | undefined): Option.Option<{
  readonly homeAccountId: string
  readonly tenantId: string
}> => {
  if (clientInfo === undefined) return Option.none()
  try {
    const parsed = JSON.parse(Buffer.from(clientInfo, "base64url").toString("utf8")) as unknown
    if (typeof parsed === "object" && parsed !== null) {
      const { uid, utid } = parsed as { readonly uid?: unknown; readonly utid?: unknown }
      if (typeof uid === "string" && typeof utid === "string" && uid !== "" && utid !== "") {
        return Option.some({ homeAccountId: `${uid}.${utid}`, tenantId: utid })
      }
    }
  } catch {
    // fall through: an undecodable client_info identifies nobody
  }
  return Option.none()
}

/**
 * The socket- or parser-level cause of an `HttpClientError`, never the error itself: it holds the request, whose
 * form body carries the client secret and the code or refresh token.
 */
const innerCause = (error: unknown): unknown =>
  typeof error === "object" && error !== null && "cause" in error ? error.cause : undefined
