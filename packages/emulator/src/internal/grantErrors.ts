/**
 * Entra's AADSTS errors for the client-credentials, on-behalf-of and device-code grants and for client assertions.
 *
 * @internal
 */
import { make } from "./entraError.js"

/** @internal */
export const GrantErrors = {
  clientCredentialsScope: (scope: string) =>
    make(
      1002012,
      "invalid_scope",
      `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with ` +
        "/.default suffixed to the resource identifier (application ID URI)."
    ),
  confidentialOnly: () =>
    make(
      7000218,
      "invalid_client",
      "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
      401
    ),
  assertionSignature: () => make(50013, "invalid_grant", "Assertion failed signature validation."),
  assertionAudience: (got: string, expected: string) =>
    make(
      50013,
      "invalid_grant",
      `Assertion audience does not match the Client app presenting the assertion. The audience in the assertion was ` +
        `'${got}' and the expected audience is '${expected}' or one of the Application Id URIs of this application.`
    ),
  assertionExpired: () => make(500133, "invalid_grant", "Assertion is not within its valid time range."),
  assertionNoUser: () =>
    make(50034, "invalid_grant", "The user account in the assertion does not exist in the directory."),
  unsupportedTokenUse: (value: string) =>
    make(
      50099,
      "invalid_request",
      `The 'requested_token_use' parameter value '${value}' is not supported; expected 'on_behalf_of'.`
    ),
  authorizationPending: () =>
    make(
      70016,
      "authorization_pending",
      "The provided request has not yet been authorized by the user. The user must input their code."
    ),
  // Entra documents `slow_down` but no AADSTS number of its own; 70016 is the pending family.
  slowDown: (interval: number) =>
    make(
      70016,
      "slow_down",
      `The client is polling too often. Wait at least ${interval} seconds between requests.`
    ),
  deviceCodeExpired: () => make(70019, "expired_token", "Verification code expired. Have the user retry the sign-in."),
  authorizationDeclined: () => make(65004, "authorization_declined", "User declined to consent to access the app."),
  badDeviceCode: () => make(9002313, "invalid_grant", "Invalid request. Request is malformed or invalid."),
  // Client assertions (certificate credentials). Entra documents no code of its own for a replayed `jti` or an
  // unsupported algorithm; both are a malformed assertion (50027) with the reason in the text.
  assertionMalformed: (reason: string) =>
    make(50027, "invalid_request", `JWT token is invalid or malformed. [Reason - ${reason}]`),
  assertionNoCertificate: (thumbprint: string, clientId: string) =>
    make(
      700027,
      "invalid_client",
      "Client assertion contains an invalid signature. [Reason - The key was not found., Thumbprint of key used by " +
        `client: '${thumbprint}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see ` +
        `configured keys for app Id '${clientId}'.]`,
      401
    ),
  assertionBadSignature: (thumbprint: string) =>
    make(
      700027,
      "invalid_client",
      "Client assertion contains an invalid signature. [Reason - The provided signature value did not match the " +
        `expected signature value., Thumbprint of key used by client: '${thumbprint}']`,
      401
    ),
  assertionWrongAudience: () =>
    make(50012, "invalid_client", "Client assertion audience claim does not match Realm issuer.", 401),
  assertionIssuer: () =>
    make(700021, "invalid_client", "Client assertion application identifier doesn't match 'client_id' parameter.", 401),
  assertionLifetime: (now: string, from: string, to: string) =>
    make(
      700024,
      "invalid_client",
      `Client assertion is not within its valid time range. Current time: ${now}, assertion valid from ${from}, ` +
        `expiry time of assertion ${to}.`,
      401
    ),
  assertionReplay: () =>
    make(50027, "invalid_client", "JWT token is invalid or malformed. [Reason - The jti was already used.]", 401)
} as const
