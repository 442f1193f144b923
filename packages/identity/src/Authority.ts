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

// The Azure SDKs' rule: letters, digits, "-" and "." (a GUID, a verified domain, or common/organizations/consumers).
const tenantIdPattern = /^[0-9a-zA-Z.-]+$/

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
  if (!tenantIdPattern.test(tenantId)) {
    return Either.left(
      new InvalidOptionError({
        field,
        reason: `"${truncate(tenantId)}" is not a tenant id: use only letters, digits, "-" and "." ` +
          "(a tenant GUID, a verified domain, or common/organizations/consumers)"
      })
    )
  }
  return Either.right(tenantId)
}

/**
 * Normalises an authority: a bare host gets `https://`; anything but `https` is refused (Entra's endpoints and
 * every Microsoft client require TLS); credentials, query and fragment are refused; a trailing `/` is dropped.
 *
 * @since 0.1.0
 * @category validation
 */
export const normalizeAuthority = (authority: unknown): Either.Either<string, InvalidOptionError> => {
  const fail = (reason: string) => Either.left(new InvalidOptionError({ field: "authority", reason }))
  if (typeof authority !== "string" || authority.trim().length === 0) return fail("an authority host is required")
  const trimmed = authority.trim()
  const withScheme = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(trimmed) ? trimmed : `https://${trimmed}`
  let url: URL
  try {
    url = new URL(withScheme)
  } catch {
    return fail(`"${truncate(trimmed)}" is not a valid URL or host name`)
  }
  if (url.protocol !== "https:") return fail(`the authority must use https, got "${url.protocol}"`)
  if (url.username !== "" || url.password !== "") return fail("the authority must not contain credentials")
  if (url.search !== "" || url.hash !== "") return fail("the authority must not contain a query or a fragment")
  const path = url.pathname.replace(/\/+$/, "")
  return Either.right(`${url.protocol}//${url.host}${path}`)
}

/**
 * `POST {authority}/{tenant}/oauth2/v2.0/token`.
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
