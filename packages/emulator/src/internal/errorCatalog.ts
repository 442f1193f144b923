/**
 * Entra's AADSTS errors by name: the OAuth `error` value, the HTTP status and Entra's message text.
 *
 * @internal
 */
import { make } from "./entraError.js"

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
  userNotInTenant: (username: string, homeTenantId: string, tenantId: string, clientId: string, appName: string) =>
    make(
      50020,
      "invalid_grant",
      `User account '${username}' from identity provider 'https://sts.windows.net/${homeTenantId}/' does not exist ` +
        `in tenant '${tenantId}' and cannot access the application '${clientId}'(${appName}) in that tenant. The ` +
        "account needs to be added as an external user in the tenant first. Sign out and sign in again with a " +
        "different Azure Active Directory user account."
    ),
  consentRequired: (clientId: string, appName: string, error = "invalid_grant") =>
    make(
      65001,
      error,
      `The user or administrator has not consented to use the application with ID '${clientId}' named ` +
        `'${appName}'. Send an interactive authorization request for this user and resource.`,
      400,
      "consent_required"
    ),
  // 90019 is MissingTenantRealm; a parameter that is empty or not valid is 90100.
  malformedClaims: () => make(90100, "invalid_request", "claims parameter is empty or not valid."),
  unknownResource: (resource: string, tenant: string) =>
    make(
      500011,
      "invalid_resource",
      `The resource principal named ${resource} was not found in the tenant named ${tenant}. This can happen if the ` +
        "application has not been installed by the administrator of the tenant or consented to by any user in the " +
        "tenant. You might have sent your authentication request to the wrong tenant."
    ),
  resourceParameter: () => make(901002, "invalid_request", "The 'resource' request parameter isn't supported."),
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
  adminConsentRequired: () => make(90094, "access_denied", "Administrator consent is required."),
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
