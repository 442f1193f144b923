/**
 * `GET|POST /{tenant}/v2.0/adminconsent`: an administrator grants an app's permissions for every user of their
 * tenant, so that those users are never asked (nor refused with AADSTS65001 on silent paths).
 *
 * The client and redirect URI are checked first (an error page, never a redirect, when either cannot be trusted);
 * then the sign-in page, a check that the user administers the tenant (AADSTS90094 otherwise), and the consent page.
 * Accept redirects with `admin_consent=True`, `tenant` and `scope`; Cancel with `error=permission_denied`.
 *
 * @since 0.1.0
 */
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Effect from "effect/Effect"
import { matchesRedirectUri } from "./AuthorizeEndpoint.js"
import type { App, User } from "./EmulatorConfig.js"
import type { EmulatorContext, TenantResolution } from "./EmulatorState.js"
import { findApp, findUser, homeTenantId, isMemberOf, resolveTenant } from "./EmulatorState.js"
import type { EntraError } from "./EntraErrors.js"
import * as EntraErrors from "./EntraErrors.js"
import * as Consent from "./internal/consent.js"
import type { LogInfo, Outcome, RequestInfo } from "./internal/endpoint.js"
import { html, param } from "./internal/endpoint.js"
import * as Scopes from "./Scopes.js"
import * as SignInPage from "./SignInPage.js"

interface AdminConsentRequest {
  readonly ctx: EmulatorContext
  readonly info: RequestInfo
  readonly app: App
  readonly tenant: Exclude<TenantResolution, { readonly _tag: "Unknown" }>
  readonly redirectUri: string
  readonly scopes: ReadonlyArray<string>
  readonly logBase: LogInfo
}

const redirect = (req: AdminConsentRequest, fields: ReadonlyArray<readonly [string, string]>): Outcome => {
  const state = param(req.info.params, "state")
  const target = new URL(req.redirectUri)
  for (const [k, v] of [...fields, ...(state === undefined ? [] : [["state", state] as const])]) {
    target.searchParams.append(k, v)
  }
  return {
    response: HttpServerResponse.empty({ status: 302, headers: { location: target.toString() } }),
    log: req.logBase
  }
}

// The tenant consented for: the one in the URL, or (for `organizations`/`common`) the administrator's own.
const tenantOf = (req: AdminConsentRequest, user: User): string =>
  req.tenant._tag === "Tenant" ? req.tenant.tenant.id : homeTenantId(req.ctx.config, user)

// Administrators act for their home tenant only (a guest administers nothing in the host tenant).
const administers = (req: AdminConsentRequest, user: User, tid: string): boolean =>
  user.admin === true && homeTenantId(req.ctx.config, user).toLowerCase() === tid.toLowerCase()

const refusal = (req: AdminConsentRequest, user: User): EntraError | undefined => {
  const tid = tenantOf(req, user)
  if (!isMemberOf(req.ctx.config, user, tid)) {
    return EntraErrors.Errors.userNotInTenant(
      user.username,
      homeTenantId(req.ctx.config, user),
      tid,
      req.app.clientId,
      req.app.displayName
    )
  }
  return administers(req, user, tid) ? undefined : EntraErrors.Errors.adminConsentRequired()
}

const pages = (req: AdminConsentRequest): Outcome => {
  const { app, ctx, info, logBase, scopes } = req
  const p = info.params
  const pageContext: SignInPage.PageContext = { action: info.path, params: p, app }
  const show = (body: string): Outcome => ({ response: html(body), log: logBase })
  const signIn = (loginHint?: string, e?: EntraError) =>
    show(SignInPage.signIn(pageContext, ctx.config.users, {
      loginHint,
      error: e === undefined ? undefined : `AADSTS${e.code}: ${e.text}`
    }))
  const step = param(p, "emu_step")
  if (info.method !== "POST" || (step !== "signin" && step !== "consent")) return signIn()
  const username = step === "consent" ? param(p, "emu_user") : param(p, "emu_pick") ?? param(p, "username")
  const user = findUser(ctx.config, username ?? "")
  if (user === undefined) return signIn(username, EntraErrors.Errors.unknownUser(username ?? ""))
  // Checked again on Accept: the form's user field is the client's to change.
  const refused = refusal(req, user)
  if (refused !== undefined) return signIn(user.username, refused)
  const tid = tenantOf(req, user)
  if (step === "signin") {
    const tenantName = ctx.config.tenants.find((t) => t.id.toLowerCase() === tid.toLowerCase())?.displayName ?? tid
    return show(SignInPage.consent(pageContext, user, scopes, { forOrganization: tenantName }))
  }
  if (param(p, "emu_action") !== "accept") {
    const declined = EntraErrors.Errors.consentDeclined()
    return redirect(req, [
      ["error", "permission_denied"],
      ["error_description", EntraErrors.description(declined, info.trace)],
      ["admin_consent", "False"],
      ["tenant", tid]
    ])
  }
  Consent.grantForTenant(ctx, app, tid, scopes)
  return redirect(req, [["admin_consent", "True"], ["tenant", tid], ["scope", scopes.join(" ")]])
}

/**
 * Handles one admin-consent request.
 *
 * @since 0.1.0
 * @category handlers
 */
export const handle = (ctx: EmulatorContext, info: RequestInfo): Effect.Effect<Outcome> =>
  Effect.sync(() => {
    const p = info.params
    const segment = info.tenant ?? "organizations"
    const clientId = param(p, "client_id")
    const scope = param(p, "scope")
    const logBase: LogInfo = { tenant: segment, clientId, scope }
    const page = (e: EntraError): Outcome => ({
      response: html(EntraErrors.errorPage(e, info.trace, SignInPage.styles), e.status),
      log: { ...logBase, error: e.error, errorCode: e.code }
    })
    const tenant = resolveTenant(ctx.config, segment)
    if (tenant._tag === "Unknown") return page(EntraErrors.Errors.unknownTenant(segment))
    if (clientId === undefined) return page(EntraErrors.Errors.missingParameter("client_id"))
    const app = findApp(ctx.config, clientId, tenant._tag === "Tenant" ? tenant.tenant : undefined)
    if (app === undefined) return page(EntraErrors.Errors.unknownClient(clientId, segment))
    const redirectUri = param(p, "redirect_uri")
    if (redirectUri === undefined) return page(EntraErrors.Errors.missingParameter("redirect_uri"))
    if (!matchesRedirectUri(app.redirectUris, redirectUri)) {
      return page(EntraErrors.Errors.redirectMismatch(redirectUri, app.clientId))
    }
    const req = { ctx, info, app, tenant, redirectUri, scopes: [], logBase }
    const fail = (e: EntraError): Outcome =>
      redirect(req, [["error", e.error], ["error_description", EntraErrors.description(e, info.trace)]])
    if (scope === undefined) return fail(EntraErrors.Errors.missingParameter("scope"))
    const scopes = Scopes.split(scope)
    const parsed = Scopes.parse(ctx.config, scopes)
    if (parsed._tag === "Unknown") return fail(EntraErrors.Errors.invalidScope(parsed.scope))
    if (parsed._tag === "UnknownResource") return fail(EntraErrors.Errors.unknownResource(parsed.resource, segment))
    return pages({ ...req, scopes })
  })
