/**
 * `POST /{tenant}/oauth2/v2.0/token`: the `authorization_code`, `refresh_token`, `client_credentials`,
 * on-behalf-of (`jwt-bearer`) and device-code grants with Entra's checks, in Entra's order: tenant, body, client,
 * client authentication, grant, scopes.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as DeviceCode from "./DeviceCode.js"
import type { EmulatorContext } from "./EmulatorState.js"
import { findApp, resolveTenant } from "./EmulatorState.js"
import type { EntraError } from "./EntraErrors.js"
import { Errors } from "./EntraErrors.js"
import * as ClientAuth from "./internal/clientAuth.js"
import type { LogInfo, Outcome, RequestInfo } from "./internal/endpoint.js"
import { json, jsonError, param } from "./internal/endpoint.js"
import { clientCredentials, jwtBearerGrant, onBehalfOf } from "./internal/serviceGrants.js"
import type { TokenRequest } from "./internal/tokenRequest.js"
import { scopeError } from "./internal/tokenRequest.js"
import { redeemCode, redeemRefreshToken } from "./internal/userGrants.js"
import * as Scopes from "./Scopes.js"
import { isValidClaims } from "./TokenIssuer.js"

const grants: Record<string, (req: TokenRequest) => Outcome> = {
  authorization_code: redeemCode,
  refresh_token: redeemRefreshToken,
  client_credentials: clientCredentials,
  [jwtBearerGrant]: onBehalfOf,
  [DeviceCode.grantType]: DeviceCode.redeem,
  // MSAL sends the short form, which Entra accepts too.
  device_code: DeviceCode.redeem
}

/**
 * Handles one token request.
 *
 * @since 0.1.0
 * @category handlers
 */
export const handle = (ctx: EmulatorContext, info: RequestInfo): Effect.Effect<Outcome> =>
  Effect.sync(() => {
    const { config } = ctx
    const trace = info.trace
    const segment = info.tenant ?? "common"
    // Parameters must be in a form body; the query string does not count.
    const p = info.form
    const basic = ClientAuth.basicCredentials(info.headers["authorization"])
    const clientId = param(p, "client_id") ?? basic?.id
    const grantType = param(p, "grant_type")
    let log: LogInfo = { tenant: segment, clientId, grantType, scope: param(p, "scope") }
    const fail = (e: EntraError) => jsonError(e, trace, log)

    if (info.method !== "POST") return fail(Errors.postOnly())
    const tenant = resolveTenant(config, segment)
    if (tenant._tag === "Unknown") return fail(Errors.unknownTenant(segment))
    if (grantType === undefined) return fail(Errors.missingParameter("grant_type"))
    if (clientId === undefined) return fail(Errors.missingParameter("client_id"))
    const app = findApp(config, clientId, tenant._tag === "Tenant" ? tenant.tenant : undefined)
    if (app === undefined) return fail(Errors.unknownClient(clientId, segment))
    // v1's `resource` has no meaning on the v2 endpoint, and Entra says so rather than ignoring it.
    if (param(p, "resource") !== undefined) return fail(Errors.resourceParameter())

    // A client assertion may name the endpoint by the path it was sent to or by the tenant id.
    const audiences = [`${ctx.authority}${info.path}`, `${ctx.authority}/${segment}/oauth2/v2.0/token`]
    if (tenant._tag === "Tenant") audiences.push(`${ctx.authority}/${tenant.tenant.id}/oauth2/v2.0/token`)
    const auth = ClientAuth.authenticate(ctx, app, p, basic?.secret, audiences, trace.now)
    if (auth._tag === "Fail") return fail(auth.error)

    const claims = param(p, "claims")
    if (!isValidClaims(claims)) return fail(Errors.malformedClaims())
    const requestScope = param(p, "scope")
    const requested = requestScope === undefined ? undefined : Scopes.split(requestScope)
    if (requested !== undefined) {
      const invalid = scopeError(ctx, requested, segment)
      if (invalid !== undefined) return fail(invalid)
    }
    const grant = grants[grantType]
    if (grant === undefined) return fail(Errors.unsupportedGrantType(grantType))
    return grant({
      ctx,
      app,
      params: p,
      segment,
      tenant,
      now: trace.now,
      grantType,
      authMethod: auth.method,
      requested,
      claims,
      fail,
      succeed: (body) => {
        log = { ...log, scope: typeof body["scope"] === "string" ? body["scope"] : log.scope }
        return { response: json(body), log }
      }
    })
  })
