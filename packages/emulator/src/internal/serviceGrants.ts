/**
 * The grants of services: `client_credentials` (RFC 6749 §4.4, Entra's `/.default` rule) and on-behalf-of
 * (`urn:ietf:params:oauth:grant-type:jwt-bearer` with `requested_token_use=on_behalf_of`).
 *
 * @internal
 */
import { findUser, homeTenantId, isMemberOf } from "../EmulatorState.js"
import * as Scopes from "../Scopes.js"
import { verify } from "../SigningKeys.js"
import { issueAppToken } from "../TokenIssuer.js"
import type { Outcome } from "./endpoint.js"
import { param } from "./endpoint.js"
import { Errors } from "./errorCatalog.js"
import { GrantErrors } from "./grantErrors.js"
import type { TokenRequest } from "./tokenRequest.js"
import { mintUserTokens, notInTenant, tenantIdOf } from "./tokenRequest.js"

/** @internal */
export const jwtBearerGrant = "urn:ietf:params:oauth:grant-type:jwt-bearer"

/**
 * Client credentials: a confidential client, exactly one `{resource}/.default` scope. On `common` or
 * `organizations` the token is issued in the app's home tenant.
 *
 * @internal
 */
export const clientCredentials = (req: TokenRequest): Outcome => {
  const { ctx, fail } = req
  if (req.authMethod === "0") return fail(GrantErrors.confidentialOnly())
  const requested = req.requested
  if (requested === undefined) return fail(Errors.missingParameter("scope"))
  const single = requested.length === 1 ? requested[0]! : undefined
  if (single === undefined || !single.endsWith("/.default")) {
    return fail(GrantErrors.clientCredentialsScope(requested.join(" ")))
  }
  const parsed = Scopes.parse(ctx.config, requested)
  const resource = parsed._tag === "Ok" ? parsed.scopes.resources[0] : undefined
  if (resource === undefined) return fail(GrantErrors.clientCredentialsScope(single))
  const tid = tenantIdOf(req) ?? req.app.tenantId ?? ctx.config.tenants[0]!.id
  return req.succeed(issueAppToken(ctx, { now: req.now, app: req.app, tid, resource, authMethod: req.authMethod }))
}

/**
 * On-behalf-of: a confidential client exchanges a user's access token issued for its own API (`aud` = its client
 * id or App ID URI) for a token to another resource, in the same user's name.
 *
 * @internal
 */
export const onBehalfOf = (req: TokenRequest): Outcome => {
  const { app, ctx, fail } = req
  if (req.authMethod === "0") return fail(GrantErrors.confidentialOnly())
  const tokenUse = param(req.params, "requested_token_use")
  if (tokenUse === undefined) return fail(Errors.missingParameter("requested_token_use"))
  if (tokenUse !== "on_behalf_of") return fail(GrantErrors.unsupportedTokenUse(tokenUse))
  const assertion = param(req.params, "assertion")
  if (assertion === undefined) return fail(Errors.missingParameter("assertion"))
  if (req.requested === undefined) return fail(Errors.missingParameter("scope"))
  const verified = verify(ctx.signingKey, assertion)
  if (verified._tag === "Invalid") return fail(GrantErrors.assertionSignature())
  const c = verified.claims
  const aud = typeof c["aud"] === "string" ? c["aud"] : ""
  if (aud.toLowerCase() !== app.clientId.toLowerCase() && aud.toLowerCase() !== `api://${app.clientId}`.toLowerCase()) {
    return fail(GrantErrors.assertionAudience(aud, app.clientId))
  }
  const nowSec = Math.floor(req.now / 1000)
  if (typeof c["exp"] !== "number" || c["exp"] <= nowSec) return fail(GrantErrors.assertionExpired())
  const username = typeof c["preferred_username"] === "string" ? c["preferred_username"] : ""
  const user = findUser(ctx.config, username)
  // An app-only token has no user to act for.
  if (user === undefined || c["idtyp"] === "app") return fail(GrantErrors.assertionNoUser())
  const tid = typeof c["tid"] === "string" ? c["tid"] : homeTenantId(ctx.config, user)
  const target = tenantIdOf(req) ?? tid
  if (!isMemberOf(ctx.config, user, target)) return fail(notInTenant(req, user, target))
  return mintUserTokens(req, user, target, req.requested, undefined, undefined)
}
