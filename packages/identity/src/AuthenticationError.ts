/**
 * The failures of token acquisition.
 *
 * `AuthenticationError` carries what Entra answered (OAuth `error`, AADSTS codes, trace and correlation ids,
 * `claims`) and the HTTP status. `InvalidOptionError` is raised before any network call when a setting or a
 * `getToken` argument is wrong, and names the field.
 *
 * Neither ever holds a secret: messages, `toJSON()` and `util.inspect` show only the fields below; of the body,
 * only Entra's documented error fields are kept (an allow-list), with the request's own secrets blanked out.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"

const inspectSymbol = Symbol.for("nodejs.util.inspect.custom")

// Registered symbols, so that every copy of this module in a process (the ES module and CommonJS builds, the
// pre-bundled Promise facade) recognises the others' errors: `instanceof` checks these brands, not the prototype.
const authenticationErrorBrand = Symbol.for("@effect-entra/identity/AuthenticationError")
const invalidOptionErrorBrand = Symbol.for("@effect-entra/identity/InvalidOptionError")

const hasBrand = (value: unknown, brand: symbol): boolean =>
  typeof value === "object" && value !== null && (value as { readonly [key: symbol]: unknown })[brand] === true

/**
 * Entra's error body, in camelCase (the shape `@azure/identity` exposes as `errorResponse`).
 *
 * @since 0.1.0
 * @category models
 */
export interface ErrorResponse {
  readonly error: string
  readonly errorDescription: string
  readonly errorCodes?: ReadonlyArray<number> | undefined
  readonly timestamp?: string | undefined
  readonly traceId?: string | undefined
  readonly correlationId?: string | undefined
  readonly errorUri?: string | undefined
  /** Hint for clients: `consent_required`, `basic_action`, `bad_token`, ... */
  readonly suberror?: string | undefined
  /** A claims request (plain JSON text) to send back on the next sign-in. */
  readonly claims?: string | undefined
}

/**
 * Why the token request failed.
 *
 * - `ErrorResponse`: Entra answered with an error status (≥ 400): an OAuth error (see `errorResponse`), or for a
 *   body that is not one (an HTML 502 page) `error` is `"server_error"` (5xx), `"too_many_requests"` (429) or
 *   `"invalid_response"`.
 * - `Transport`: the request never got an HTTP answer (DNS, TLS, reset, refused).
 * - `Timeout`: no complete answer within the request time-out.
 * - `InvalidResponse`: a success status whose body is not a valid token response (malformed JSON, a 200 without
 *   `access_token`, a body cut off).
 * - `ReauthenticationRequired`: there is nothing left to redeem (the code was used or rejected and no refresh
 *   token is cached); the user must sign in again.
 * - `ResponseTooLarge`: the answer's body is larger than the cap (`maxResponseBytes`, 1 MiB by default); reading
 *   stopped there. Never retried.
 * - `DeadlineExceeded`: the request, retries and `Retry-After` waits included, did not finish within its deadline
 *   (`deadline`, 60 s by default).
 * - `InvalidRequest`: refused before it was sent (a tenant id or authority that is not valid); the credential
 *   checks these earlier and raises `InvalidOptionError` instead.
 * - `InvalidIdToken`: the code was redeemed, but the ID token of the answer failed validation (signature, issuer,
 *   audience, lifetime, nonce, tenant) or the tenant's signing keys could not be fetched. Nothing was cached; the
 *   code is spent.
 *
 * @since 0.1.0
 * @category models
 */
export type Reason =
  | "ErrorResponse"
  | "Transport"
  | "Timeout"
  | "InvalidResponse"
  | "ReauthenticationRequired"
  | "ResponseTooLarge"
  | "DeadlineExceeded"
  | "InvalidRequest"
  | "InvalidIdToken"

/**
 * The grant a failed request used (`device_code`: the polls of the device authorization grant, RFC 8628).
 *
 * @since 0.1.0
 * @category models
 */
export type GrantType = "authorization_code" | "refresh_token" | "device_code"

/** Entra's errors that mean "the user has to sign in again" (MSAL's rule). */
const interactionErrors = new Set(["invalid_grant", "interaction_required", "consent_required", "login_required"])
const interactionSuberrors = new Set([
  "message_only",
  "additional_action",
  "basic_action",
  "user_password_expired",
  "consent_required",
  "bad_token"
])

/**
 * A token request failed. Carries Entra's response when there was one.
 *
 * The message is one line led by the AADSTS text, e.g.
 * `AADSTS70008: The provided authorization code or refresh token has expired ... (invalid_grant, HTTP 400)`.
 *
 * The same class is exported by the root module (`AuthenticationError.AuthenticationError`) and by
 * `@effect-entra/identity/promise` (`AuthenticationError`), and `instanceof` against either matches an error
 * from the other, even when they are separate copies (CommonJS and ES module builds, the bundled facade).
 *
 * @since 0.1.0
 * @category errors
 */
export class AuthenticationError extends Data.TaggedError("AuthenticationError")<{
  readonly reason: Reason
  /** HTTP status of Entra's answer; 0 when there was none. */
  readonly statusCode: number
  readonly errorResponse: ErrorResponse
  readonly grantType?: GrantType | undefined
  /** How many HTTP attempts were made (retries included). */
  readonly attempts?: number | undefined
  /** Entra's `Retry-After`, in milliseconds, when it sent one. */
  readonly retryAfterMs?: number | undefined
  /**
   * What was kept of the response body: for JSON, Entra's error fields (`error`, `error_description`,
   * `error_codes`, `timestamp`, `trace_id`, `correlation_id`, `suberror`, `claims`, `error_uri`) and the names of
   * any others with `***` as values; for other bodies (an HTML page), at most 200 characters of their text. The
   * request's secrets and token-like values are blanked out.
   */
  readonly body?: string | undefined
  /** The underlying transport or decoding error (never the HTTP request, which holds the form body). */
  readonly cause?: unknown
}> {
  /**
   * True for an `AuthenticationError` from any copy of this package; a subclass keeps the usual prototype check.
   *
   * @since 0.1.0
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return this === AuthenticationError
      ? hasBrand(value, authenticationErrorBrand)
      : Function.prototype[Symbol.hasInstance].call(this, value)
  }

  /**
   * The AADSTS number, when Entra sent one.
   *
   * @since 0.1.0
   */
  get aadstsCode(): number | undefined {
    return this.errorResponse.errorCodes?.[0] ?? parseAadsts(this.errorResponse.errorDescription)
  }

  /**
   * True when only a new interactive sign-in can fix this (expired or revoked grant, consent, MFA, CA policy).
   *
   * @since 0.1.0
   */
  get isInteractionRequired(): boolean {
    if (this.reason === "ReauthenticationRequired") return true
    const { error, suberror } = this.errorResponse
    return interactionErrors.has(error) || (suberror !== undefined && interactionSuberrors.has(suberror))
  }

  override get message(): string {
    const { error, errorDescription } = this.errorResponse
    const summary = clip(firstLine(errorDescription), maxMessageQuote)
    const status = this.statusCode > 0 ? `, HTTP ${this.statusCode}` : ""
    return `${summary} (${clip(error, 128)}${status})`
  }

  /** Only the documented fields; the cause and the body stay out of serialised output. */
  override toJSON(): unknown {
    return {
      _tag: this._tag,
      name: this.name,
      message: this.message,
      reason: this.reason,
      statusCode: this.statusCode,
      errorResponse: this.errorResponse,
      ...(this.grantType === undefined ? {} : { grantType: this.grantType }),
      ...(this.attempts === undefined ? {} : { attempts: this.attempts }),
      ...(this.retryAfterMs === undefined ? {} : { retryAfterMs: this.retryAfterMs })
    }
  }

  [inspectSymbol](): string {
    return `${this.name}: ${this.message} ${JSON.stringify(this.toJSON())}`
  }
}

/**
 * A setting or a `getToken` argument is invalid. Raised before any network call.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidOptionError extends Data.TaggedError("InvalidOptionError")<{
  /** The option at fault, e.g. `tenantId`, `authority`, `scopes`, `claims`. */
  readonly field: string
  /** What is wrong with it, in a sentence; never the value of a secret. */
  readonly reason: string
}> {
  /**
   * True for an `InvalidOptionError` from any copy of this package; a subclass keeps the usual prototype check.
   *
   * @since 0.1.0
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return this === InvalidOptionError
      ? hasBrand(value, invalidOptionErrorBrand)
      : Function.prototype[Symbol.hasInstance].call(this, value)
  }

  override get message(): string {
    return `Invalid ${this.field}: ${this.reason}`
  }

  override toJSON(): unknown {
    return { _tag: this._tag, name: this.name, message: this.message, field: this.field, reason: this.reason }
  }

  [inspectSymbol](): string {
    return `${this.name}: ${this.message}`
  }
}

// On the prototypes, not enumerable: `toJSON`, `util.inspect` and `Equal` see no extra field.
Object.defineProperty(AuthenticationError.prototype, authenticationErrorBrand, { value: true })
Object.defineProperty(InvalidOptionError.prototype, invalidOptionErrorBrand, { value: true })

/**
 * True for an {@link AuthenticationError} from any copy of this package: the root's
 * `AuthenticationError.isAuthenticationError` and the Promise facade's `isAuthenticationError` are the same test.
 *
 * @since 0.1.0
 * @category guards
 */
export const isAuthenticationError = (value: unknown): value is AuthenticationError =>
  hasBrand(value, authenticationErrorBrand)

/**
 * True for an {@link InvalidOptionError} from any copy of this package.
 *
 * @since 0.1.0
 * @category guards
 */
export const isInvalidOptionError = (value: unknown): value is InvalidOptionError =>
  hasBrand(value, invalidOptionErrorBrand)

/**
 * Everything `getToken` can fail with.
 *
 * @since 0.1.0
 * @category errors
 */
export type TokenError = AuthenticationError | InvalidOptionError

// A message quotes at most this much of Entra's description; the typed fields keep more.
const maxMessageQuote = 2048

const clip = (text: string, max: number): string => (text.length > max ? `${text.slice(0, max)}...` : text)

const firstLine = (description: string): string => {
  // Entra appends "\r\nTrace ID: ..." (older) or " Trace ID: ..." (newer) to the AADSTS text.
  const cut = description.slice(0, 2 * maxMessageQuote).search(/\r?\n|\s+Trace ID:/)
  return (cut === -1 ? description.slice(0, 2 * maxMessageQuote) : description.slice(0, cut)).trim()
}

const parseAadsts = (description: string): number | undefined => {
  const match = /^AADSTS(\d+)/.exec(description)
  return match === null ? undefined : Number(match[1])
}
