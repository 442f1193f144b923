/**
 * Entra's AADSTS errors as the emulator emits them: the OAuth `error` value, the HTTP status, the message text
 * (ENTRA-PROTOCOL §7) and the JSON body shape of §6.2, including the `\r\nTrace ID: ...` tail.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"

/**
 * An AADSTS failure raised by an endpoint; rendered as a JSON body (token), a redirect (authorize) or a page.
 *
 * @since 0.1.0
 * @category errors
 */
export class EntraError extends Data.TaggedError("EntraError")<{
  readonly status: number
  readonly error: string
  readonly code: number
  readonly text: string
  readonly suberror?: string | undefined
  readonly claims?: string | undefined
}> {
  override get message(): string {
    return `AADSTS${this.code}: ${this.text} (${this.error}, HTTP ${this.status})`
  }
}

const make = (code: number, error: string, text: string, status = 400, suberror?: string) =>
  new EntraError({ status, error, code, text, suberror })

/**
 * The AADSTS errors the emulator produces, by name.
 *
 * @since 0.1.0
 * @category constructors
 */
export const Errors = {
  missingParameter: (name: string) =>
    make(900144, "invalid_request", `The request body must contain the following parameter: '${name}'.`),
  postOnly: () => make(900561, "invalid_request", "The endpoint only accepts POST requests. Received a GET request."),
  unknownTenant: (tenant: string, error = "invalid_request") =>
    make(
      90002,
      error,
      `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the ` +
        "correct cloud. Check with your subscription administrator, this may happen if there are no active " +
        "subscriptions for the tenant."
    ),
  unknownClient: (clientId: string, tenant: string) =>
    make(
      700016,
      "unauthorized_client",
      `Application with identifier '${clientId}' was not found in the directory '${tenant}'. This can happen if the ` +
        "application has not been installed by the administrator of the tenant or consented to by any user in the " +
        "tenant. You might have sent your authentication request to the wrong tenant."
    ),
  redirectMismatch: (redirectUri: string, clientId: string) =>
    make(
      50011,
      "invalid_request",
      `The redirect URI '${redirectUri}' specified in the request does not match the redirect URIs configured for ` +
        `the application '${clientId}'. Make sure the redirect URI sent in the request matches one added to your ` +
        "application in the Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more about " +
        "how to fix this."
    ),
  replyAddressMismatch: (got: string, expected: string) =>
    make(
      50011,
      "invalid_grant",
      `The reply address '${got}' does not match the reply address '${expected}' provided when requesting ` +
        "Authorization code."
    ),
  invalidSecret: (clientId: string) =>
    make(
      7000215,
      "invalid_client",
      "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not " +
        `the client secret ID, for a secret added to app '${clientId}'.`,
      401
    ),
  missingSecret: () =>
    make(
      7000218,
      "invalid_client",
      "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
      401
    ),
  publicClientSecret: () =>
    make(
      700025,
      "invalid_client",
      "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.",
      401
    ),
  unsupportedGrantType: (grantType: string) =>
    make(70003, "unsupported_grant_type", `The app requested an unsupported grant type '${grantType}'.`),
  malformedGrant: () => make(9002313, "invalid_grant", "Invalid request. Request is malformed or invalid."),
  userNotInTenant: (username: string, tenantId: string) =>
    make(
      50020,
      "invalid_grant",
      `User account '${username}' from identity provider 'https://sts.windows.net/' does not exist in tenant ` +
        `'${tenantId}' and cannot access the application in that tenant. The account needs to be added as an ` +
        "external user in the tenant first."
    ),
  malformedClaims: () => make(90019, "invalid_request", "The 'claims' parameter is not a valid JSON claims request."),
  codeRedeemed: () =>
    make(
      54005,
      "invalid_grant",
      "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing " +
        "refresh token."
    ),
  expiredGrant: () =>
    make(
      70008,
      "invalid_grant",
      "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive " +
        "authorization request for this user and resource."
    ),
  refreshTokenInactive: (issuedOn: string, inactiveFor: string) =>
    make(
      700082,
      "invalid_grant",
      `The refresh token has expired due to inactivity. The token was issued on ${issuedOn} and was inactive for ` +
        `${inactiveFor}.`,
      400,
      "bad_token"
    ),
  revokedGrant: () =>
    make(
      50173,
      "invalid_grant",
      "The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have " +
        "changed or reset their password. The grant was issued on an earlier date and the TokensValidFrom date " +
        "for this user has been moved.",
      400,
      "bad_token"
    ),
  grantClientMismatch: () => make(70000, "invalid_grant", "Provided grant is invalid or malformed."),
  wrongTenant: () =>
    make(
      700005,
      "invalid_grant",
      "Provided Authorization Code is intended to use against other tenant, thus rejected."
    ),
  pkceMissingVerifier: () =>
    make(
      50148,
      "invalid_grant",
      "The code_verifier does not match the code_challenge supplied in the authorization request for PKCE."
    ),
  pkceMismatch: () =>
    make(
      501481,
      "invalid_grant",
      "The Code_Verifier does not match the code_challenge supplied in the authorization request."
    ),
  invalidChallengeMethod: () =>
    make(50149, "invalid_request", "The code_challenge_method is not valid. Supported values are 'S256' and 'plain'."),
  invalidScope: (scope: string) =>
    make(
      70011,
      "invalid_scope",
      "The provided request must include a 'scope' input parameter. The provided value for the input parameter " +
        `'scope' is not valid. The scope '${scope}' does not exist.`
    ),
  missingScope: () =>
    make(
      70011,
      "invalid_scope",
      "The provided request must include a 'scope' input parameter. The provided value for the input parameter " +
        "'scope' is not valid."
    ),
  multipleResources: () =>
    make(
      700022,
      "invalid_scope",
      "The provided value for the input parameter scope is not valid because it contains more than one resource."
    ),
  loginRequired: () =>
    make(
      50058,
      "login_required",
      "A silent sign-in request was sent but no user is signed in. The cookies used to represent the user's session " +
        "were not sent in the request to Azure AD."
    ),
  unknownUser: (username: string) =>
    make(50034, "invalid_request", `The user account ${username} does not exist in the directory.`),
  consentDeclined: () => make(65004, "access_denied", "User declined to consent to access the app."),
  unsupportedResponseType: () =>
    make(
      700054,
      "unsupported_response_type",
      "response_type 'id_token' is not enabled for the application."
    ),
  // Entra documents no code for an oversized body; 90015 is its code for an oversized query string.
  requestTooLarge: (maxBytes: number) =>
    make(90015, "invalid_request", `The request body is too large. The limit is ${maxBytes} bytes.`, 413),
  invalidResponseMode: () =>
    make(
      900144,
      "invalid_request",
      "The response_mode is not valid. Supported values are query, fragment and form_post."
    )
} as const

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
 * The token-endpoint error body (ENTRA-PROTOCOL §6.2).
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
      make(
        50076,
        "invalid_grant",
        "Due to a configuration change made by your administrator, or because you moved to a new location, you must " +
          "use multi-factor authentication to access the resource. Retry with a new authorize request for the resource.",
        400,
        "basic_action"
      ),
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
