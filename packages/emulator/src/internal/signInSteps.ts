/**
 * The authorize endpoint once the client, redirect URI and parameters are valid: `prompt=none`, or the sign-in and
 * consent pages, with the tenant-membership and consent checks, ending in a code or an error redirect.
 *
 * @internal
 */
import type * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import type { App, User } from "../EmulatorConfig.js"
import type { EmulatorContext, TenantResolution } from "../EmulatorState.js"
import { findUser, guid, homeTenantId, isMemberOf, randomToken } from "../EmulatorState.js"
import type { EntraError } from "../EntraErrors.js"
import * as EntraErrors from "../EntraErrors.js"
import * as Scopes from "../Scopes.js"
import * as SignInPage from "../SignInPage.js"
import { clientInfo } from "../TokenIssuer.js"
import * as Consent from "./consent.js"
import type { LogInfo, Outcome, RequestInfo } from "./endpoint.js"
import { html, param } from "./endpoint.js"

/** A validated authorize request. @internal */
export interface AuthorizeRequest {
  readonly ctx: EmulatorContext
  readonly info: RequestInfo
  readonly app: App
  readonly tenant: Exclude<TenantResolution, { readonly _tag: "Unknown" }>
  readonly segment: string
  readonly redirectUri: string
  readonly scope: string
  readonly challenge: string | undefined
  readonly method: "S256" | "plain" | undefined
  readonly claims: string | undefined
  readonly stateParam: string | undefined
  readonly logBase: LogInfo
  /** An error redirect to the client. */
  readonly fail: (e: EntraError, extra?: ReadonlyArray<readonly [string, string]>) => Outcome
  /** A redirect to the client in the request's response mode. */
  readonly redirect: (
    fields: ReadonlyArray<readonly [string, string]>,
    headers: Record<string, string>
  ) => HttpServerResponse.HttpServerResponse
}

const sessionCookie = "emu_session"

const cookieUser = (ctx: EmulatorContext, cookieHeader: unknown): User | undefined => {
  if (typeof cookieHeader !== "string") return undefined
  const match = cookieHeader.split(";").map((c) => c.trim()).find((c) => c.startsWith(`${sessionCookie}=`))
  if (match === undefined) return undefined
  try {
    return findUser(ctx.config, Buffer.from(match.slice(sessionCookie.length + 1), "base64url").toString("utf8"))
  } catch {
    return undefined
  }
}

const tidFor = (req: AuthorizeRequest, user: User) =>
  req.tenant._tag === "Tenant" ? req.tenant.tenant.id : homeTenantId(req.ctx.config, user)

const issueCode = (req: AuthorizeRequest, user: User): Outcome => {
  const code = randomToken("0.A", 300)
  req.ctx.state.codes.set(code, {
    clientId: req.app.clientId,
    tenantSegment: req.segment.toLowerCase(),
    tid: tidFor(req, user),
    user,
    redirectUri: req.redirectUri,
    scopes: Scopes.split(req.scope),
    codeChallenge: req.challenge,
    codeChallengeMethod: req.method,
    nonce: param(req.info.params, "nonce"),
    claims: req.claims,
    issuedAt: req.info.trace.now,
    used: false
  })
  const cookie = `${sessionCookie}=${Buffer.from(user.username).toString("base64url")}; Path=/; Secure; ` +
    "HttpOnly; SameSite=None"
  return {
    response: req.redirect([
      ["code", code],
      ["client_info", clientInfo(req.ctx, user)],
      ...(req.stateParam === undefined ? [] : [["state", req.stateParam] as const]),
      ["session_state", guid()]
    ], { "set-cookie": cookie }),
    log: req.logBase
  }
}

// Entra issues tokens for a tenant only to its members and guests (AADSTS50020), checked at sign-in.
const notInTenant = ({ app, ctx, tenant }: AuthorizeRequest, user: User): EntraError | undefined =>
  tenant._tag === "Tenant" && !isMemberOf(ctx.config, user, tenant.tenant.id) ?
    EntraErrors.Errors.userNotInTenant(
      user.username,
      homeTenantId(ctx.config, user),
      tenant.tenant.id,
      app.clientId,
      app.displayName
    ) :
    undefined

// `prompt=none`: the hinted (or cookie's) user, without a page; anything needing the user is an error redirect.
const silent = (req: AuthorizeRequest): Outcome => {
  const { app, ctx, fail, info } = req
  const loginHint = param(info.params, "login_hint")
  const user = loginHint === undefined ? cookieUser(ctx, info.headers["cookie"]) : findUser(ctx.config, loginHint)
  if (user === undefined) return fail(EntraErrors.Errors.loginRequired())
  const refused = notInTenant(req, user)
  if (refused !== undefined) return fail(refused)
  // Silent sign-in cannot ask for consent: an ungranted permission is consent_required.
  if (Consent.missing(ctx, app, user, tidFor(req, user), Scopes.split(req.scope)).length > 0) {
    return fail(EntraErrors.Errors.consentRequired(app.clientId, app.displayName, "consent_required"))
  }
  return issueCode(req, user)
}

/** @internal */
export const run = (req: AuthorizeRequest): Outcome => {
  const { app, ctx, fail, info, logBase, scope } = req
  const { config } = ctx
  const p = info.params
  const pageContext: SignInPage.PageContext = { action: info.path, params: p, app }
  const showPage = (body: string): Outcome => ({ response: html(body), log: logBase })
  const refusedPage = (e: EntraError, loginHint: string) =>
    showPage(SignInPage.signIn(pageContext, config.users, { loginHint, error: `AADSTS${e.code}: ${e.text}` }))
  const step = param(p, "emu_step")

  if (step === "consent" && info.method === "POST") {
    const user = findUser(config, param(p, "emu_user") ?? "")
    if (user === undefined) return showPage(SignInPage.signIn(pageContext, config.users))
    if (param(p, "emu_action") !== "accept") {
      return fail(EntraErrors.Errors.consentDeclined(), [["error_subcode", "cancel"]])
    }
    const refused = notInTenant(req, user)
    if (refused !== undefined) return refusedPage(refused, user.username)
    Consent.grant(ctx, app, user, tidFor(req, user), Scopes.split(scope))
    return issueCode(req, user)
  }
  if (step === "signin" && info.method === "POST") {
    const username = param(p, "emu_pick") ?? param(p, "username") ?? ""
    const user = findUser(config, username)
    if (user === undefined) {
      return showPage(SignInPage.signIn(pageContext, config.users, {
        loginHint: username,
        error: username.length === 0 ?
          "Enter a valid email address, phone number, or Skype name." :
          "This username may be incorrect. Make sure you typed it correctly. Otherwise, contact your admin."
      }))
    }
    const refused = notInTenant(req, user)
    if (refused !== undefined) return refusedPage(refused, username)
    return showPage(SignInPage.consent(pageContext, user, Scopes.split(scope)))
  }
  if (param(p, "prompt") === "none") return silent(req)
  return showPage(SignInPage.signIn(pageContext, config.users, { loginHint: param(p, "login_hint") }))
}
