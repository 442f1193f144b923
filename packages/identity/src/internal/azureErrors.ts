import type { ErrorResponse, Reason } from "../AuthenticationError.js"
import { AuthenticationError } from "../AuthenticationError.js"
import { scrubBody } from "../TokenEndpoint.js"

/**
 * What an Azure credential threw, as an `AuthenticationError` without a secret (the table is on the public export).
 *
 * @internal
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
