/**
 * Entra's AADSTS errors as the emulator emits them: the OAuth `error` value, the HTTP status, the message text
 * and the JSON body shape Entra sends, including the `\r\nTrace ID: ...` tail.
 *
 * @since 0.1.0
 */
import { EntraError, make } from "./internal/entraError.js"
import { Errors } from "./internal/errorCatalog.js"

export {
  /**
   * An AADSTS failure raised by an endpoint; rendered as a JSON body (token), a redirect (authorize) or a page.
   *
   * @since 0.1.0
   * @category errors
   */
  EntraError
} from "./internal/entraError.js"
export {
  /**
   * The AADSTS errors the emulator produces, by name.
   *
   * @since 0.1.0
   * @category constructors
   */
  Errors
} from "./internal/errorCatalog.js"

/**
 * Entra's `timestamp` format: `YYYY-MM-DD HH:MM:SSZ`.
 *
 * @since 0.1.0
 * @category formatting
 */
export const formatTimestamp = (epochMs: number): string =>
  new Date(epochMs).toISOString().replace("T", " ").replace(/\.\d{3}Z$/, "Z")

/**
 * The ids that tie an error to a request.
 *
 * @since 0.1.0
 * @category models
 */
export interface Trace {
  readonly traceId: string
  readonly correlationId: string
  readonly now: number
}

/**
 * `AADSTS{n}: {text}\r\nTrace ID: ...\r\nCorrelation ID: ...\r\nTimestamp: ...`
 *
 * @since 0.1.0
 * @category formatting
 */
export const description = (e: EntraError, trace: Trace): string =>
  `AADSTS${e.code}: ${e.text}\r\nTrace ID: ${trace.traceId}\r\nCorrelation ID: ${trace.correlationId}\r\n` +
  `Timestamp: ${formatTimestamp(trace.now)}`

/**
 * The token-endpoint error body.
 *
 * @since 0.1.0
 * @category formatting
 */
export const body = (e: EntraError, trace: Trace): Record<string, unknown> => ({
  error: e.error,
  error_description: description(e, trace),
  error_codes: [e.code],
  timestamp: formatTimestamp(trace.now),
  trace_id: trace.traceId,
  correlation_id: trace.correlationId,
  error_uri: `https://login.microsoftonline.com/error?code=${e.code}`,
  ...(e.suberror === undefined ? {} : { suberror: e.suberror }),
  ...(e.claims === undefined ? {} : { claims: e.claims })
})

/**
 * The Conditional Access policy id the MFA presets name in their `claims` challenge.
 *
 * @since 0.1.0
 * @category constants
 */
export const mfaPolicyId = "e0a2fb5f-4c1d-4a3b-9f7e-2d6c8b1a0f93"

// MFA challenges carry `claims` (plain JSON, not base64) to pass to the next authorize request.
const mfa = (code: number, text: string) =>
  new EntraError({
    status: 400,
    error: "invalid_grant",
    code,
    text,
    suberror: "basic_action",
    claims: JSON.stringify({ access_token: { capolids: { essential: true, values: [mfaPolicyId] } } })
  })

/**
 * Builds an error from a bare AADSTS number, for fault injection. Known numbers get Entra's text and `error`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromCode = (
  code: number,
  overrides: { readonly error?: string | undefined; readonly status?: number | undefined } = {}
): EntraError => {
  const known: Record<number, () => EntraError> = {
    54005: Errors.codeRedeemed,
    70008: Errors.expiredGrant,
    700082: () => Errors.refreshTokenInactive("2020-01-01T00:00:00.0000000Z", "90.00:00:00"),
    50173: Errors.revokedGrant,
    50148: Errors.pkceMissingVerifier,
    501481: Errors.pkceMismatch,
    7000215: () => Errors.invalidSecret("{appId}"),
    7000218: Errors.missingSecret,
    700016: () => Errors.unknownClient("{appId}", "{tenant}"),
    90002: () => Errors.unknownTenant("{tenant}"),
    900144: () => Errors.missingParameter("grant_type"),
    9002313: Errors.malformedGrant,
    70011: Errors.missingScope,
    50058: Errors.loginRequired,
    65004: Errors.consentDeclined,
    65001: () =>
      make(
        65001,
        "invalid_grant",
        "The user or administrator has not consented to use the application. Send an interactive authorization " +
          "request for this user and resource.",
        400,
        "consent_required"
      ),
    50076: () =>
      mfa(
        50076,
        "Due to a configuration change made by your administrator, or because you moved to a new location, you must " +
          "use multi-factor authentication to access '{resource}'."
      ),
    50079: () =>
      mfa(
        50079,
        "Due to a configuration change made by your administrator, or because you moved to a new location, you must " +
          "enroll in multi-factor authentication to access '{resource}'."
      ),
    50126: () => make(50126, "invalid_grant", "Error validating credentials due to invalid username or password."),
    53003: () =>
      make(
        53003,
        "interaction_required",
        "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.",
        400,
        "message_only"
      ),
    90055: () => make(90055, "temporarily_unavailable", "The request has been throttled.", 429),
    90033: () => make(90033, "temporarily_unavailable", "A transient error has occurred. Please try again.", 503)
  }
  const base = known[code]?.() ?? make(code, "invalid_request", "Injected error.")
  return new EntraError({
    status: overrides.status ?? base.status,
    error: overrides.error ?? base.error,
    code,
    text: base.text,
    suberror: base.suberror,
    claims: base.claims
  })
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;" })[c]!)

/**
 * Entra's "Sorry, but we're having trouble signing you in." page, shown instead of redirecting when the client or
 * redirect URI cannot be trusted.
 *
 * @since 0.1.0
 * @category formatting
 */
export const errorPage = (e: EntraError, trace: Trace, styles: string): string =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in to your account</title>` +
  `<meta name="viewport" content="width=device-width, initial-scale=1"><style>${styles}</style></head>` +
  `<body><main class="card" id="error-page" data-error="${escapeHtml(e.error)}" data-error-code="${e.code}">` +
  `<div class="brand">Entra ID emulator</div><h1 id="error-title">Sorry, but we're having trouble signing you in.</h1>` +
  `<p class="message" id="error-message">AADSTS${e.code}: ${escapeHtml(e.text)}</p>` +
  `<dl class="details"><dt>Request Id</dt><dd>${trace.traceId}</dd><dt>Correlation Id</dt><dd>${trace.correlationId}</dd>` +
  `<dt>Timestamp</dt><dd>${
    formatTimestamp(trace.now)
  }</dd><dt>Message</dt><dd>AADSTS${e.code}</dd></dl></main></body></html>`

/** @internal */
export { escapeHtml }
