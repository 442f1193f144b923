/**
 * One token request after the common checks (tenant, client, client authentication, claims, scopes), as each
 * grant sees it, and the user-token minting every user grant shares.
 *
 * @internal
 */
import type { App, User } from "../EmulatorConfig.js"
import type { EmulatorContext, TenantResolution } from "../EmulatorState.js"
import { homeTenantId } from "../EmulatorState.js"
import * as Scopes from "../Scopes.js"
import type { AuthMethod } from "../TokenIssuer.js"
import { issue } from "../TokenIssuer.js"
import * as Consent from "./consent.js"
import type { Outcome } from "./endpoint.js"
import { param } from "./endpoint.js"
import type { EntraError } from "./entraError.js"
import { Errors } from "./errorCatalog.js"

/** @internal */
export interface TokenRequest {
  readonly ctx: EmulatorContext
  readonly app: App
  readonly params: URLSearchParams
  /** The tenant path segment as sent. */
  readonly segment: string
  readonly tenant: Exclude<TenantResolution, { readonly _tag: "Unknown" }>
  readonly now: number
  readonly grantType: string
  readonly authMethod: AuthMethod
  /** The request's `scope`, split; `undefined` when absent. Already known to parse. */
  readonly requested: ReadonlyArray<string> | undefined
  readonly claims: string | undefined
  readonly fail: (e: EntraError) => Outcome
  /** A 200 JSON answer; `scope` goes to the request log. */
  readonly succeed: (body: Record<string, unknown>) => Outcome
}

/** The tenant id a path segment names, if it names one (not `common` / `organizations`). @internal */
export const tenantIdOf = (req: TokenRequest): string | undefined =>
  req.tenant._tag === "Tenant" ? req.tenant.tenant.id : undefined

/** AADSTS50020 for this request's app. @internal */
export const notInTenant = (req: TokenRequest, user: User, tid: string): EntraError =>
  Errors.userNotInTenant(user.username, homeTenantId(req.ctx.config, user), tid, req.app.clientId, req.app.displayName)

/** The scope check every grant shares: 70011 for an unknown permission, 500011 for an unknown resource. @internal */
export const scopeError = (
  ctx: EmulatorContext,
  scopes: ReadonlyArray<string>,
  segment: string
): EntraError | undefined => {
  const parsed = Scopes.parse(ctx.config, scopes)
  if (parsed._tag === "Unknown") return Errors.invalidScope(parsed.scope)
  if (parsed._tag === "UnknownResource") return Errors.unknownResource(parsed.resource, segment)
  return undefined
}

/**
 * Mints a user's tokens: for the request's scopes if given (one resource), else those of the grant.
 *
 * @internal
 */
export const mintUserTokens = (
  req: TokenRequest,
  user: User,
  tid: string,
  grantScopes: ReadonlyArray<string>,
  nonce: string | undefined,
  grantClaims: string | undefined
): Outcome => {
  const scopes = req.requested ?? grantScopes
  const parsed = Scopes.parse(req.ctx.config, scopes)
  if (parsed._tag !== "Ok") return req.fail(scopeError(req.ctx, scopes, req.segment)!)
  if (req.requested !== undefined && parsed.scopes.resources.length > 1 && req.grantType === "authorization_code") {
    return req.fail(Errors.multipleResources())
  }
  if (Consent.missing(req.ctx, req.app, user, tid, scopes).length > 0) {
    return req.fail(Errors.consentRequired(req.app.clientId, req.app.displayName))
  }
  // offline_access is part of the consented grant, whether or not this request repeats it.
  const isOffline = (s: string) => s.toLowerCase() === "offline_access"
  const withOffline = grantScopes.some(isOffline) || scopes.some(isOffline) ?
    [...scopes.filter((s) => !isOffline(s)), "offline_access"] :
    scopes
  const issued = issue(req.ctx, {
    now: req.now,
    app: req.app,
    user,
    tid,
    grantScopes: req.requested === undefined ?
      withOffline :
      [...withOffline, ...grantScopes.filter((s) => s === "openid")],
    parsed: parsed.scopes,
    claims: req.claims ?? grantClaims,
    nonce,
    clientInfo: param(req.params, "client_info") === "1",
    authMethod: req.authMethod
  })
  return req.succeed(issued.body)
}
