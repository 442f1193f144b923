/**
 * A `getToken` call after validation: its scopes, tenant, claims and CAE flag, checked once, plus the cache keys
 * it maps to. Every step (RedeemCode, CacheLookup, RefreshToken) takes one of these, so none validates again.
 *
 * ```ts
 * const request = yield* TokenRequest.make(client, "api://my-api/access_as_user")
 * ```
 *
 * @since 0.1.0
 */
import * as Either from "effect/Either"
import type * as Redacted from "effect/Redacted"
import { InvalidOptionError } from "./AuthenticationError.js"
import { validateTenantId } from "./Authority.js"
import { normalizeScopes } from "./internal/scopes.js"
import * as TokenCache from "./TokenCache.js"
import type { GetTokenOptions } from "./TokenCredential.js"

/**
 * Who asks: the app registration and where it signs in. Every step names the client the same way, so their
 * cache keys agree.
 *
 * @since 0.1.0
 * @category models
 */
export interface Client {
  /** Normalised (`https://host`, no trailing slash): see `Authority.normalizeAuthority`. */
  readonly authority: string
  /** The tenant the credential was configured for. */
  readonly tenantId: string
  readonly clientId: string
  readonly clientSecret?: Redacted.Redacted<string> | undefined
  /** The redirect URI the code was issued for (RedeemCode only). */
  readonly redirectUri: string
}

/**
 * Which tenants a call may ask for besides the client's own.
 *
 * @since 0.1.0
 * @category models
 */
export interface TenantPolicy {
  readonly tenantId: string
  /** Lower-case tenant ids. */
  readonly allowedTenants?: ReadonlySet<string> | undefined
  readonly allowAnyTenant?: boolean | undefined
  /** Per-call tenants are ignored: every call uses `tenantId`. */
  readonly multiTenantDisabled?: boolean | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface TokenRequest {
  /** The resource scopes as asked, de-duplicated, in order. */
  readonly scopes: ReadonlyArray<string>
  /** Canonical: lower-case, sorted, space-joined. */
  readonly scopeKey: string
  readonly tenantId: string
  readonly cae: boolean
  /** What goes to Entra: the caller's claims with `cp1` merged in when CAE is on. */
  readonly claims: string | undefined
  /** The caller sent claims: bypass the cache (a claims challenge wants a new token). */
  readonly bypassCache: boolean
}

/**
 * Validates a call without allocating an `Either`: the credential's miss path uses this.
 *
 * @since 0.1.0
 * @category constructors
 */
export const unsafeMake = (
  tenants: TenantPolicy,
  scopes: string | ReadonlyArray<string>,
  options?: GetTokenOptions
): TokenRequest | InvalidOptionError => {
  const list = normalizeScopes(scopes)
  if (list instanceof InvalidOptionError) return list
  const tenantId = resolveTenant(tenants, options?.tenantId)
  if (tenantId instanceof InvalidOptionError) return tenantId
  const cae = options?.enableCae === true
  const userClaims = options?.claims !== undefined && options.claims !== "" ? options.claims : undefined
  const claims = cae || userClaims !== undefined ? mergeClaims(userClaims, cae) : undefined
  if (claims instanceof InvalidOptionError) return claims
  return {
    scopes: list,
    scopeKey: TokenCache.canonicalScopes(list),
    tenantId,
    cae,
    claims,
    bypassCache: userClaims !== undefined
  }
}

/**
 * Validates a call: scopes (non-empty strings), the tenant (allowed by `tenants`), the claims (a JSON object).
 * Nothing is sent; an `InvalidOptionError` names the field.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  tenants: TenantPolicy,
  scopes: string | ReadonlyArray<string>,
  options?: GetTokenOptions
): Either.Either<TokenRequest, InvalidOptionError> => {
  const result = unsafeMake(tenants, scopes, options)
  return result instanceof InvalidOptionError ? Either.left(result) : Either.right(result)
}

const resolveTenant = (tenants: TenantPolicy, requested: string | undefined): string | InvalidOptionError => {
  if (requested === undefined || tenants.multiTenantDisabled === true) return tenants.tenantId
  const checked = validateTenantId(requested)
  if (Either.isLeft(checked)) return checked.left
  const lower = requested.toLowerCase()
  if (lower === tenants.tenantId.toLowerCase()) return tenants.tenantId
  if (tenants.allowAnyTenant === true || tenants.allowedTenants?.has(lower) === true) return requested
  return new InvalidOptionError({
    field: "tenantId",
    reason: `the credential is not configured to acquire tokens for tenant "${requested}": add it to ` +
      `additionallyAllowedTenants, or add "*" to allow any tenant`
  })
}

/**
 * The cache key of the account `homeAccountId` signed in to `client`.
 *
 * @since 0.1.0
 * @category keys
 */
export const accountKey = (client: Client, homeAccountId: string): string =>
  TokenCache.accountKey({ authority: client.authority, clientId: client.clientId, homeAccountId })

/**
 * The cache key of the access token this request asks for, for the account `homeAccountId`.
 *
 * @since 0.1.0
 * @category keys
 */
export const accessTokenKey = (client: Client, homeAccountId: string, request: TokenRequest): string =>
  TokenCache.accessTokenKey({
    authority: client.authority,
    clientId: client.clientId,
    homeAccountId,
    tenantId: request.tenantId,
    cae: request.cae,
    scopes: request.scopeKey
  })

/** Merges the `cp1` client capability into a claims request, as MSAL does, keeping the caller's own. */
const mergeClaims = (claims: string | undefined, cae: boolean): string | InvalidOptionError => {
  let parsed: unknown = {}
  if (claims !== undefined) {
    try {
      parsed = JSON.parse(claims)
    } catch {
      return new InvalidOptionError({ field: "claims", reason: "the claims request is not valid JSON" })
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      return new InvalidOptionError({ field: "claims", reason: "the claims request must be a JSON object" })
    }
    if (!cae) return claims
  }
  const request = parsed as Record<string, unknown>
  const accessToken = typeof request.access_token === "object" && request.access_token !== null
    ? request.access_token as Record<string, unknown>
    : {}
  const capabilities = typeof accessToken.xms_cc === "object" && accessToken.xms_cc !== null &&
      !Array.isArray(accessToken.xms_cc)
    ? accessToken.xms_cc as Record<string, unknown>
    : {}
  const values = Array.isArray(capabilities.values) ? capabilities.values as ReadonlyArray<unknown> : []
  return JSON.stringify({
    ...request,
    access_token: {
      ...accessToken,
      xms_cc: { ...capabilities, values: values.includes("cp1") ? values : [...values, "cp1"] }
    }
  })
}
