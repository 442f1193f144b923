/**
 * Authority hosts, tenant ids and the endpoint URLs built from them, validated before any request.
 *
 * @since 0.1.0
 */
import * as Either from "effect/Either"
import { InvalidOptionError } from "./AuthenticationError.js"

/**
 * The Entra authority hosts of the Azure clouds (the same values as `@azure/identity`).
 *
 * @since 0.1.0
 * @category constants
 */
export const AzureAuthorityHosts = {
  AzurePublicCloud: "https://login.microsoftonline.com",
  AzureGovernment: "https://login.microsoftonline.us",
  AzureChina: "https://login.chinacloudapi.cn"
} as const

/**
 * The authority used when neither the options nor `AZURE_AUTHORITY_HOST` name one.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultAuthority: string = AzureAuthorityHosts.AzurePublicCloud

// A tenant is a GUID, a verified domain or common/organizations/consumers: all of them DNS host names (labels of
// letters, digits and inner hyphens, 1-63 characters, joined by single dots). So "." and ".." (which would move
// the token URL up a path segment), empty labels and anything else are refused.
const dnsLabel = /^[0-9a-zA-Z](?:[0-9a-zA-Z-]{0,61}[0-9a-zA-Z])?$/
const isTenantId = (value: string): boolean => value.length <= 253 && value.split(".").every((l) => dnsLabel.test(l))

/**
 * Checks a tenant id. `field` names the option in the error.
 *
 * @since 0.1.0
 * @category validation
 */
export const validateTenantId = (tenantId: unknown, field = "tenantId"): Either.Either<string, InvalidOptionError> => {
  if (typeof tenantId !== "string" || tenantId.length === 0) {
    return Either.left(new InvalidOptionError({ field, reason: "a tenant id is required" }))
  }
  if (!isTenantId(tenantId)) {
    return Either.left(
      new InvalidOptionError({
        field,
        reason: `"${printable(truncate(tenantId))}" is not a tenant id: use a tenant GUID, a verified domain ` +
          "(dot-separated labels of letters, digits and inner hyphens), or common/organizations/consumers"
      })
    )
  }
  return Either.right(tenantId)
}

/**
 * Normalises an authority: a bare host (optionally with a port) gets `https://`; anything but `https` is refused
 * (Entra's endpoints and every Microsoft client require TLS); so are credentials, a query, a fragment, a
 * backslash, and a scheme not followed by `//` (`https:/evil.com` is not read as the host `https`). A trailing
 * `/` is dropped.
 *
 * @since 0.1.0
 * @category validation
 */
export const normalizeAuthority = (authority: unknown): Either.Either<string, InvalidOptionError> => {
  const fail = (reason: string) => Either.left(new InvalidOptionError({ field: "authority", reason }))
  if (typeof authority !== "string" || authority.trim().length === 0) return fail("an authority host is required")
  const trimmed = authority.trim()
  if (/[\\\s]/.test(trimmed)) return fail("the authority must not contain backslashes or spaces")
  // "host:443" is a host and a port; "https:/evil.com" or "https:evil.com" is a scheme without "//".
  const scheme = /^[a-zA-Z][a-zA-Z0-9+.-]*:/.exec(trimmed)
  const rest = scheme === null ? "" : trimmed.slice(scheme[0].length)
  const hasScheme = scheme !== null && !/^\d+(?:\/|$)/.test(rest)
  if (hasScheme && !rest.startsWith("//")) {
    return fail(`"${printable(truncate(trimmed))}" is not a URL: the scheme must be followed by "//"`)
  }
  const withScheme = hasScheme ? trimmed : `https://${trimmed}`
  let url: URL
  try {
    url = new URL(withScheme)
  } catch {
    return fail(`"${printable(truncate(trimmed))}" is not a valid URL or host name`)
  }
  if (url.hostname === "") return fail("the authority has no host")
  if (url.protocol !== "https:") return fail(`the authority must use https, got "${url.protocol}"`)
  if (url.username !== "" || url.password !== "") return fail("the authority must not contain credentials")
  if (url.search !== "" || url.hash !== "") return fail("the authority must not contain a query or a fragment")
  const path = url.pathname.replace(/\/+$/, "")
  return Either.right(`${url.protocol}//${url.host}${path}`)
}

/**
 * `POST {authority}/{tenant}/oauth2/v2.0/token`, the tenant an encoded path segment. Expects a tenant id that
 * passed {@link validateTenantId}: no encoding stops a URL from resolving a `..` segment.
 *
 * @since 0.1.0
 * @category endpoints
 */
export const tokenEndpoint = (authority: string, tenantId: string): string =>
  `${authority}/${encodeURIComponent(tenantId)}/oauth2/v2.0/token`

/**
 * `GET {authority}/{tenant}/oauth2/v2.0/authorize`.
 *
 * @since 0.1.0
 * @category endpoints
 */
export const authorizeEndpoint = (authority: string, tenantId: string): string =>
  `${authority}/${encodeURIComponent(tenantId)}/oauth2/v2.0/authorize`

const truncate = (value: string): string => (value.length > 64 ? `${value.slice(0, 64)}...` : value)

// Control and bidi characters would let a quoted value rewrite the terminal line it is printed on.
const printable = (value: string): string =>
  value.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, "?")
