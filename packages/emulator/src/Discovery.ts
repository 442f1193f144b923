/**
 * The discovery documents: OpenID configuration, JWKS and MSAL's instance
 * discovery.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type { EmulatorContext } from "./EmulatorState.js"
import { resolveTenant } from "./EmulatorState.js"
import { Errors } from "./EntraErrors.js"
import type { Outcome, RequestInfo } from "./internal/endpoint.js"
import { json, jsonError, param } from "./internal/endpoint.js"

const discoveryHeaders = {
  "cache-control": "max-age=86400, private",
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "GET, OPTIONS"
}

/**
 * `GET /{tenant}/v2.0/.well-known/openid-configuration`. Multi-tenant aliases get Entra's `{tenantid}` issuer
 * template and endpoints under the alias.
 *
 * @since 0.1.0
 * @category handlers
 */
export const openIdConfiguration = (ctx: EmulatorContext, info: RequestInfo): Effect.Effect<Outcome> =>
  Effect.sync(() => {
    const segment = info.tenant ?? "common"
    const tenant = resolveTenant(ctx.config, segment)
    if (tenant._tag === "Unknown") {
      return jsonError(Errors.unknownTenant(segment, "invalid_tenant"), info.trace, { tenant: segment })
    }
    const a = ctx.authority
    const path = tenant._tag === "Tenant" ? tenant.tenant.id : tenant.segment
    const issuerTenant = tenant._tag === "Tenant" ? tenant.tenant.id : "{tenantid}"
    const host = new URL(a).host
    return {
      response: json(
        {
          token_endpoint: `${a}/${path}/oauth2/v2.0/token`,
          token_endpoint_auth_methods_supported: ["client_secret_post", "private_key_jwt", "client_secret_basic"],
          jwks_uri: `${a}/${path}/discovery/v2.0/keys`,
          response_modes_supported: ["query", "fragment", "form_post"],
          subject_types_supported: ["pairwise"],
          id_token_signing_alg_values_supported: ["RS256"],
          response_types_supported: ["code", "id_token", "code id_token", "id_token token"],
          scopes_supported: ["openid", "profile", "email", "offline_access"],
          issuer: `${a}/${issuerTenant}/v2.0`,
          request_uri_parameter_supported: false,
          // Graph's URL in Entra; here the emulator's own, so OIDC clients never leave the machine.
          userinfo_endpoint: `${a}/oidc/userinfo`,
          authorization_endpoint: `${a}/${path}/oauth2/v2.0/authorize`,
          device_authorization_endpoint: `${a}/${path}/oauth2/v2.0/devicecode`,
          http_logout_supported: true,
          frontchannel_logout_supported: true,
          end_session_endpoint: `${a}/${path}/oauth2/v2.0/logout`,
          claims_supported: [
            "sub",
            "iss",
            "cloud_instance_name",
            "cloud_instance_host_name",
            "cloud_graph_host_name",
            "msgraph_host",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "acr",
            "nonce",
            "preferred_username",
            "name",
            "tid",
            "ver",
            "at_hash",
            "c_hash",
            "email"
          ],
          kerberos_endpoint: `${a}/${path}/kerberos`,
          tenant_region_scope: "WW",
          cloud_instance_name: host,
          cloud_graph_host_name: "graph.windows.net",
          msgraph_host: "graph.microsoft.com",
          rbac_url: "https://pas.windows.net"
        },
        200,
        discoveryHeaders
      ),
      log: { tenant: segment }
    }
  })

/**
 * `GET /{tenant}/discovery/v2.0/keys`.
 *
 * @since 0.1.0
 * @category handlers
 */
export const keys = (ctx: EmulatorContext, info: RequestInfo): Effect.Effect<Outcome> =>
  Effect.sync(() => {
    const segment = info.tenant ?? "common"
    if (resolveTenant(ctx.config, segment)._tag === "Unknown") {
      return jsonError(Errors.unknownTenant(segment, "invalid_tenant"), info.trace, { tenant: segment })
    }
    return {
      response: json({ keys: [ctx.signingKey.jwk(ctx.authority)] }, 200, discoveryHeaders),
      log: { tenant: segment }
    }
  })

/**
 * `GET /common/discovery/instance`: the emulator is its own single cloud, so every alias is its host.
 *
 * @since 0.1.0
 * @category handlers
 */
export const instance = (ctx: EmulatorContext, info: RequestInfo): Effect.Effect<Outcome> =>
  Effect.sync(() => {
    const host = new URL(ctx.authority).host
    let tenant = "common"
    const endpoint = param(info.query, "authorization_endpoint")
    if (endpoint !== undefined) {
      try {
        tenant = new URL(endpoint).pathname.split("/").filter((s) => s.length > 0)[0] ?? "common"
      } catch {
        // keep "common"
      }
    }
    return {
      response: json(
        {
          tenant_discovery_endpoint: `${ctx.authority}/${tenant}/v2.0/.well-known/openid-configuration`,
          "api-version": "1.1",
          metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }]
        },
        200,
        discoveryHeaders
      ),
      log: { tenant }
    }
  })
