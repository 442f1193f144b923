/**
 * Interop with the Azure SDK for JavaScript, both ways.
 *
 * - Azure → Effect: {@link make} / {@link layer} wrap any Azure `TokenCredential` (`@azure/identity`'s
 *   `DefaultAzureCredential`, `ManagedIdentityCredential`, `ClientSecretCredential`, ... or one of your own) as this
 *   package's Effect `TokenCredential` service. Tokens become `Redacted` the moment they arrive; failures become
 *   {@link AuthenticationError}s with Entra's fields and without a secret.
 * - Effect → Azure: {@link toAzure} / {@link fromService} turn any Effect `TokenCredential` service into an object an
 *   Azure SDK client accepts as its `credential` (the Promise facade in `@effect-entra/identity/promise` already is
 *   one).
 *
 * ```ts
 * import { DefaultAzureCredential } from "@azure/identity"
 * import { AzureTokenCredential, TokenCredential } from "@effect-entra/identity"
 *
 * const program = TokenCredential.getToken("https://vault.azure.net/.default").pipe(
 *   Effect.provide(AzureTokenCredential.layer(new DefaultAzureCredential()))
 * )
 * ```
 *
 * The Azure types are declared structurally here, so `@azure/core-auth` is not a dependency of this package.
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Runtime from "effect/Runtime"
import type * as Scope from "effect/Scope"
import type { AccessToken } from "./AccessToken.js"
import { toInfo } from "./AccessToken.js"
import type { ErrorResponse, Reason } from "./AuthenticationError.js"
import { AuthenticationError, InvalidOptionError } from "./AuthenticationError.js"
import { normalizeScopes } from "./internal/scopes.js"
import * as TokenCredential from "./TokenCredential.js"
import { scrubBody } from "./TokenEndpoint.js"

// The optional properties below deliberately omit `| undefined`: under `exactOptionalPropertyTypes` that keeps
// them assignable to and from `@azure/core-auth`'s own declarations, so real Azure credentials fit `make` and the
// result of `toAzure` fits every Azure SDK client.

/**
 * `@azure/core-auth`'s `AccessToken`, structurally.
 *
 * @since 0.1.0
 * @category models
 */
export interface AzureAccessToken {
  readonly token: string
  /** Epoch milliseconds. */
  readonly expiresOnTimestamp: number
  /** Epoch milliseconds. */
  readonly refreshAfterTimestamp?: number
  readonly tokenType?: "Bearer" | "pop"
}

/**
 * `@azure/core-auth`'s `GetTokenOptions`, as far as this module passes or reads them.
 *
 * @since 0.1.0
 * @category models
 */
export interface AzureGetTokenOptions {
  readonly abortSignal?: AbortSignal
  /** A claims request (JSON text, decoded from a CAE challenge). */
  readonly claims?: string
  readonly tenantId?: string
  readonly enableCae?: boolean
  /** Other core-auth options (`tracingOptions`, `requestOptions`, ...): accepted, not forwarded. */
  readonly [key: string]: unknown
}

/**
 * `@azure/core-auth`'s `TokenCredential`, structurally: every `@azure/identity` credential fits.
 *
 * @since 0.1.0
 * @category models
 */
export interface AzureTokenCredential {
  getToken(scopes: string | Array<string>, options?: AzureGetTokenOptions): Promise<AzureAccessToken | null>
}

/**
 * What {@link toAzure} returns: an Azure `TokenCredential` that never resolves to `null`.
 *
 * @since 0.1.0
 * @category models
 */
export interface EffectBackedCredential extends AzureTokenCredential {
  getToken(scopes: string | Array<string>, options?: AzureGetTokenOptions): Promise<AzureAccessToken>
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /**
   * Bounds each `getToken` call: when it passes, the Azure credential's call is aborted and the Effect fails with
   * an `AuthenticationError` of reason `Timeout`. Default: none (the Azure credential's own time-outs apply).
   */
  readonly timeout?: Duration.DurationInput | undefined
  /** Names the credential in spans and messages. Default: its class name, e.g. `ClientSecretCredential`. */
  readonly name?: string | undefined
}

// --- Azure → Effect --------------------------------------------------------------------------------------------

/**
 * Wraps an Azure `TokenCredential` as an Effect `TokenCredential` service.
 *
 * - `claims`, `tenantId` and `enableCae` are passed through to the Azure credential's `GetTokenOptions`, with an
 *   `abortSignal` that fires when the fiber is interrupted (or the {@link Options.timeout} passes).
 * - The token is wrapped in `Redacted` before anything else sees it.
 * - A `null` answer, an unusable token or a thrown error fail with an {@link AuthenticationError} (see
 *   {@link fromAzureError}); empty scopes fail with an `InvalidOptionError` before the Azure credential is called.
 * - Each call is a span `AzureTokenCredential.getToken` with the scopes, tenant and credential name.
 *
 * Caching is left to the Azure credential (every `@azure/identity` credential caches in MSAL).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  credential: AzureTokenCredential,
  options: Options = {}
): Effect.Effect<TokenCredential.Service> => Effect.sync(() => unsafeMake(credential, options))

/**
 * A layer providing the Effect `TokenCredential` backed by an Azure credential.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  credential: AzureTokenCredential,
  options?: Options
): Layer.Layer<TokenCredential.TokenCredential> =>
  Layer.effect(TokenCredential.TokenCredential, make(credential, options))

/**
 * Like {@link layer}, for an Azure credential that is built by an Effect (from `Config`, or scoped so that a
 * finalizer can release it).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerEffect = <E, R>(
  acquire: Effect.Effect<AzureTokenCredential, E, R>,
  options?: Options
): Layer.Layer<TokenCredential.TokenCredential, E, Exclude<R, Scope.Scope>> =>
  Layer.scoped(TokenCredential.TokenCredential, Effect.flatMap(acquire, (credential) => make(credential, options)))

const unsafeMake = (credential: AzureTokenCredential, options: Options): TokenCredential.Service => {
  const name = options.name ?? credentialName(credential)
  const timeout = options.timeout === undefined ? undefined : Duration.decode(options.timeout)

  const getToken = (
    scopes: string | ReadonlyArray<string>,
    tokenOptions?: TokenCredential.GetTokenOptions
  ): Effect.Effect<AccessToken, AuthenticationError | InvalidOptionError> =>
    Effect.suspend((): Effect.Effect<AccessToken, AuthenticationError | InvalidOptionError> => {
      const list = normalizeScopes(scopes)
      if (list instanceof InvalidOptionError) return Effect.fail(list)
      const claims = tokenOptions?.claims === undefined || tokenOptions.claims === "" ? undefined : tokenOptions.claims
      const tenantId = tokenOptions?.tenantId
      const enableCae = tokenOptions?.enableCae
      const call = Effect.tryPromise({
        try: (signal) =>
          credential.getToken([...list], {
            abortSignal: signal,
            ...(claims === undefined ? {} : { claims }),
            ...(tenantId === undefined ? {} : { tenantId }),
            ...(enableCae === undefined ? {} : { enableCae })
          }),
        catch: (error) => fromAzureError(error, { credentialName: name })
      }).pipe(Effect.flatMap((answer) => toAccessToken(answer, name)))
      const bounded = timeout === undefined ? call : call.pipe(Effect.timeoutFail({
        duration: timeout,
        onTimeout: () =>
          new AuthenticationError({
            reason: "Timeout",
            statusCode: 0,
            errorResponse: {
              error: "timeout",
              errorDescription: `${name}.getToken did not settle within ${Duration.format(timeout)}`
            }
          })
      }))
      return bounded.pipe(
        Effect.tapError((error) =>
          Effect.annotateCurrentSpan({
            "entra.error": error.errorResponse.error,
            ...(error.aadstsCode === undefined ? {} : { "entra.aadsts": error.aadstsCode })
          })
        ),
        Effect.withSpan("AzureTokenCredential.getToken", {
          captureStackTrace: false,
          attributes: {
            "azure.credential": name,
            "entra.scopes": list.join(" "),
            "entra.cae": enableCae === true,
            "entra.claims": claims !== undefined,
            ...(tenantId === undefined ? {} : { "entra.tenant_id": tenantId })
          }
        })
      )
    })

  return TokenCredential.TokenCredential.of({
    getToken,
    getTokenInfo: (scopes, tokenOptions) => Effect.map(getToken(scopes, tokenOptions), toInfo)
  })
}

const toAccessToken = (
  answer: AzureAccessToken | null | undefined,
  name: string
): Effect.Effect<AccessToken, AuthenticationError> => {
  const unusable = (what: string) =>
    Effect.fail(
      new AuthenticationError({
        reason: "InvalidResponse",
        statusCode: 0,
        errorResponse: { error: "invalid_response", errorDescription: `${name}.getToken ${what}` }
      })
    )
  // `null` is core-auth's "no token" answer (older credentials use it instead of throwing).
  if (answer === null || answer === undefined) return unusable("returned no token (null)")
  if (typeof answer !== "object") return unusable("returned something that is not an AccessToken")
  const { expiresOnTimestamp, refreshAfterTimestamp, token, tokenType } = answer
  if (typeof token !== "string" || token.length === 0) return unusable("returned an AccessToken without a token")
  const secret = Redacted.make(token)
  if (typeof expiresOnTimestamp !== "number" || !Number.isFinite(expiresOnTimestamp)) {
    return unusable("returned an AccessToken without a numeric expiresOnTimestamp")
  }
  const type = typeof tokenType === "string" && tokenType.length > 0 ? tokenType : "Bearer"
  return Effect.succeed(
    typeof refreshAfterTimestamp === "number" && Number.isFinite(refreshAfterTimestamp)
      ? { token: secret, expiresOnTimestamp, refreshAfterTimestamp, tokenType: type }
      : { token: secret, expiresOnTimestamp, tokenType: type }
  )
}

// --- error mapping ----------------------------------------------------------------------------------------------

/**
 * Maps whatever an Azure credential threw to an {@link AuthenticationError}, keeping Entra's fields and the Azure
 * error's name and message, but never the raw error object (a `RestError` holds the HTTP request, whose form body
 * carries the client secret, the code or the refresh token).
 *
 * | thrown                                                       | `reason`                   | `errorResponse.error`    |
 * |--------------------------------------------------------------|----------------------------|--------------------------|
 * | `AuthenticationError` (`statusCode` + `errorResponse`)       | `ErrorResponse`            | Entra's `error`          |
 * | MSAL `ServerError`, alone or as `AuthenticationRequiredError.cause` | `ErrorResponse`     | Entra's `error`          |
 * | `AuthenticationRequiredError` without a server cause         | `ReauthenticationRequired` | `interaction_required`   |
 * | `CredentialUnavailableError`                                 | `Transport`                | `credential_unavailable` |
 * | `AggregateAuthenticationError` with an Entra error inside    | as that inner error        | as that inner error      |
 * | `AggregateAuthenticationError` otherwise                     | `ReauthenticationRequired` if a source needs interaction, else `Transport` / `credential_unavailable` | |
 * | `AbortError` / `TimeoutError` (not caused by interruption)   | `Timeout`                  | `timeout`                |
 * | `RestError` with a `statusCode`                              | `ErrorResponse`            | `http_error`             |
 * | `RestError` without one, Node socket errors (`ECONN...`)     | `Transport`                | `transport_error`        |
 * | anything else                                                | `Transport`                | `unknown_error`          |
 *
 * `cause` holds a sanitised copy: an `Error` with the Azure error's `name`, its message scrubbed of token-like
 * values, its stack frames, and the same for its own `cause` (two levels).
 *
 * @since 0.1.0
 * @category errors
 */
export const fromAzureError = (
  error: unknown,
  context: { readonly credentialName?: string | undefined } = {}
): AuthenticationError => {
  const name = errorName(error)
  const message = scrub(errorMessage(error))
  const cause = sanitize(error, 0)
  const fail = (reason: Reason, statusCode: number, errorResponse: ErrorResponse) =>
    new AuthenticationError({ reason, statusCode, errorResponse, cause })

  if (isRecord(error)) {
    // @azure/identity's AuthenticationError: `statusCode` and a camelCase `errorResponse`.
    const response = error["errorResponse"]
    if (isRecord(response) && typeof response["error"] === "string") {
      const statusCode = numberOr(error["statusCode"], 0)
      return fail("ErrorResponse", statusCode, fromOAuthFields(response))
    }
    // MSAL's ServerError / InteractionRequiredAuthError, directly or wrapped by @azure/identity.
    const msal = msalError(error) ?? (isRecord(error["cause"]) ? msalError(error["cause"]) : undefined)
    if (msal !== undefined) return fail("ErrorResponse", msal.statusCode, msal.errorResponse)
  }
  const prefix = context.credentialName === undefined ? "" : `${context.credentialName}: `
  const described = (oauthError: string) => ({ error: oauthError, errorDescription: `${prefix}${name}: ${message}` })
  // ChainedTokenCredential / DefaultAzureCredential: thrown when every source was unavailable or needed
  // interaction; a source's Entra error inside it is the most telling.
  if (name === "AggregateAuthenticationError" && isRecord(error) && Array.isArray(error["errors"])) {
    const inner = error["errors"].map((e: unknown) => fromAzureError(e, context))
    const chosen = inner.find((e) => e.reason === "ErrorResponse") ??
      inner.find((e) => e.reason === "ReauthenticationRequired")
    if (chosen !== undefined) return chosen
    return fail("Transport", 0, described("credential_unavailable"))
  }
  switch (name) {
    case "AuthenticationRequiredError":
      return fail("ReauthenticationRequired", 0, described("interaction_required"))
    case "CredentialUnavailableError":
      return fail("Transport", 0, described("credential_unavailable"))
    case "AbortError":
    case "TimeoutError":
      return fail("Timeout", 0, described("timeout"))
  }
  if (isRecord(error)) {
    const statusCode = error["statusCode"]
    if (name === "RestError" && typeof statusCode === "number" && statusCode > 0) {
      return fail("ErrorResponse", statusCode, described("http_error"))
    }
    const code = error["code"]
    if (name === "RestError" || (typeof code === "string" && transportCodes.has(code))) {
      return fail("Transport", 0, described("transport_error"))
    }
  }
  return fail("Transport", 0, described("unknown_error"))
}

const transportCodes = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "ESOCKETTIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "REQUEST_SEND_ERROR"
])

const fromOAuthFields = (r: Record<string, unknown>): ErrorResponse => {
  const error = scrub(String(r["error"]))
  const codes = r["errorCodes"] ?? r["error_codes"]
  const errorCodes = Array.isArray(codes) ? codes.filter((c): c is number => typeof c === "number") : undefined
  return compact({
    error,
    errorDescription: scrub(stringOr(r["errorDescription"] ?? r["error_description"], error)),
    errorCodes: errorCodes !== undefined && errorCodes.length > 0 ? errorCodes : undefined,
    timestamp: optionalString(r["timestamp"]),
    traceId: optionalString(r["traceId"] ?? r["trace_id"]),
    correlationId: optionalString(r["correlationId"] ?? r["correlation_id"]),
    errorUri: optionalString(r["errorUri"] ?? r["error_uri"]),
    suberror: optionalString(r["suberror"] ?? r["subError"]),
    claims: optionalString(r["claims"])
  })
}

/** MSAL's `AuthError` family: `errorCode` + `errorMessage`; a `ServerError` adds `errorNo` and `status`. */
const msalError = (
  e: Record<string, unknown>
): { readonly statusCode: number; readonly errorResponse: ErrorResponse } | undefined => {
  const errorCode = e["errorCode"]
  const errorMessage = e["errorMessage"]
  if (typeof errorCode !== "string" || errorCode === "" || typeof errorMessage !== "string") return undefined
  // ServerError's message: "Error(s): 7000215 - Timestamp: ... - Description: AADSTS... - Correlation ID: ... -
  // Trace ID: ..." (msal-common ResponseHandler.validateTokenResponse).
  // Entra's own description embeds "\r\nTrace ID: ..." lines too, so labels are matched with MSAL's " - " separator.
  const part = (label: string, next: string | undefined) => {
    const marker = label === "Error(s)" ? `${label}: ` : ` - ${label}: `
    const start = label === "Trace ID" ? errorMessage.lastIndexOf(marker) : errorMessage.indexOf(marker)
    if (start === -1) return undefined
    const from = start + marker.length
    const end = next === undefined ? -1 : errorMessage.indexOf(` - ${next}: `, from)
    const value = (end === -1 ? errorMessage.slice(from) : errorMessage.slice(from, end)).trim()
    return value === "" || value === "N/A" ? undefined : value
  }
  const errorNo = Number(e["errorNo"])
  const subError = optionalString(e["subError"])
  return {
    statusCode: numberOr(e["status"], 0),
    errorResponse: compact({
      error: scrub(errorCode),
      errorDescription: scrub(
        part("Description", "Correlation ID") ?? (errorMessage === "" ? errorCode : errorMessage)
      ),
      errorCodes: Number.isInteger(errorNo) && errorNo > 0 ? [errorNo] : undefined,
      timestamp: part("Timestamp", "Description"),
      traceId: part("Trace ID", undefined),
      correlationId: optionalString(e["correlationId"]) ?? part("Correlation ID", "Trace ID"),
      suberror: subError === "" ? undefined : subError,
      claims: optionalString(e["claims"])
    })
  }
}

// Beyond the JSON fields `scrubBody` knows: bearer headers and form-encoded secrets that error messages quote.
const bearerValue = /\b(Bearer|Basic)\s+[\w.~+/=-]{8,}/gi
const formSecret =
  /\b(client_secret|client_assertion|code|code_verifier|refresh_token|access_token|id_token|assertion|password)=[^&\s"']+/g

const scrub = (text: string): string => scrubBody(text.replace(bearerValue, "$1 ***").replace(formSecret, "$1=***"))

const sanitize = (error: unknown, depth: number): Error => {
  const copy = new Error(scrub(errorMessage(error)))
  copy.name = errorName(error)
  const stack = isRecord(error) && typeof error["stack"] === "string" ? error["stack"] : ""
  const frames = stack.split("\n").filter((line) => /^\s+at /.test(line))
  copy.stack = [`${copy.name}: ${copy.message}`, ...frames].join("\n")
  if (isRecord(error)) {
    const code = error["code"]
    if (typeof code === "string" || typeof code === "number") Object.assign(copy, { code })
    const statusCode = error["statusCode"] ?? error["status"]
    if (typeof statusCode === "number") Object.assign(copy, { statusCode })
    if (depth < 2 && error["cause"] !== undefined) Object.assign(copy, { cause: sanitize(error["cause"], depth + 1) })
  }
  return copy
}

const errorName = (error: unknown): string =>
  isRecord(error) && typeof error["name"] === "string" && error["name"] !== "" ? error["name"] : "Error"

const errorMessage = (error: unknown): string => {
  if (isRecord(error) && typeof error["message"] === "string") return error["message"]
  if (typeof error === "string") return error
  return "a non-Error value was thrown"
}

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null

const numberOr = (u: unknown, fallback: number): number => (typeof u === "number" && Number.isFinite(u) ? u : fallback)

const stringOr = (u: unknown, fallback: string): string => (typeof u === "string" && u !== "" ? u : fallback)

const optionalString = (u: unknown): string | undefined => (typeof u === "string" && u !== "" ? u : undefined)

/** Drops `undefined` fields, so the error's JSON shows only what Entra sent. */
const compact = (r: ErrorResponse): ErrorResponse =>
  Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)) as unknown as ErrorResponse

const credentialName = (credential: AzureTokenCredential): string => {
  const ctor = (credential as { readonly constructor?: { readonly name?: unknown } }).constructor
  return typeof ctor?.name === "string" && ctor.name !== "" && ctor.name !== "Object"
    ? ctor.name
    : "AzureTokenCredential"
}

// --- Effect → Azure ---------------------------------------------------------------------------------------------

/**
 * Turns an Effect `TokenCredential` service into an Azure `TokenCredential`, run on the given runtime (default:
 * the default runtime; {@link toAzure} captures the current one, so spans and services carry over).
 *
 * `getToken` resolves with core-auth's `AccessToken` (the token unwrapped, millisecond timestamps), rejects with
 * the `AuthenticationError` / `InvalidOptionError` itself (never a `FiberFailure`), and rejects with an
 * `AbortError` when `abortSignal` fires, which interrupts the Effect.
 *
 * @since 0.1.0
 * @category conversions
 */
export const fromService = (
  service: TokenCredential.Service,
  runtime: Runtime.Runtime<never> = Runtime.defaultRuntime
): EffectBackedCredential => {
  const run = Runtime.runPromiseExit(runtime)
  return {
    async getToken(scopes: string | Array<string>, options?: AzureGetTokenOptions): Promise<AzureAccessToken> {
      const signal = options?.abortSignal
      if (signal?.aborted === true) throw abortError()
      const effect = service.getToken(scopes, {
        claims: options?.claims,
        tenantId: options?.tenantId,
        enableCae: options?.enableCae
      })
      const exit = await run(effect, signal === undefined ? undefined : { signal })
      if (Exit.isSuccess(exit)) return toAzureAccessToken(exit.value)
      const failure = Cause.failureOption(exit.cause)
      if (Option.isSome(failure)) throw failure.value
      if (Cause.isInterruptedOnly(exit.cause)) throw abortError()
      throw Cause.squash(exit.cause)
    }
  }
}

/**
 * The `TokenCredential` in the context as an Azure `TokenCredential`, running on the current runtime.
 *
 * ```ts
 * const credential = yield* AzureTokenCredential.toAzure
 * const client = new SecretClient(vaultUrl, credential)
 * ```
 *
 * @since 0.1.0
 * @category conversions
 */
export const toAzure: Effect.Effect<EffectBackedCredential, never, TokenCredential.TokenCredential> = Effect.gen(
  function*() {
    const service = yield* TokenCredential.TokenCredential
    const runtime = yield* Effect.runtime<never>()
    return fromService(service, runtime)
  }
)

const toAzureAccessToken = (token: AccessToken): AzureAccessToken => {
  const tokenType = token.tokenType.toLowerCase() === "pop" ? "pop" : "Bearer"
  return token.refreshAfterTimestamp === undefined
    ? { token: Redacted.value(token.token), expiresOnTimestamp: token.expiresOnTimestamp, tokenType }
    : {
      token: Redacted.value(token.token),
      expiresOnTimestamp: token.expiresOnTimestamp,
      refreshAfterTimestamp: token.refreshAfterTimestamp,
      tokenType
    }
}

const abortError = () => new DOMException("The operation was aborted.", "AbortError")
