/**
 * `GET|POST /{tenant}/oauth2/v2.0/authorize` (ENTRA-PROTOCOL §2, §3).
 *
 * The client and redirect URI are checked first; when either cannot be trusted the answer is an error page, never a
 * redirect. Other errors go back to the redirect URI (`query`, `fragment` or `form_post`) with `error`,
 * `error_description`, `error_uri` and `state`. `prompt=none` signs `login_hint` (or the session cookie's user) in
 * without a page; otherwise the sign-in and consent pages run.
 *
 * @since 0.1.0
 */
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Effect from "effect/Effect"
import type { User } from "./EmulatorConfig.js"
import type { EmulatorContext } from "./EmulatorState.js"
import { findApp, findUser, guid, homeTenantId, isMemberOf, randomToken, resolveTenant } from "./EmulatorState.js"
import type { EntraError, Trace } from "./EntraErrors.js"
import * as EntraErrors from "./EntraErrors.js"
import * as Consent from "./internal/consent.js"
import type { Outcome, RequestInfo } from "./internal/endpoint.js"
import { html, param } from "./internal/endpoint.js"
import * as Scopes from "./Scopes.js"
import * as SignInPage from "./SignInPage.js"
import { clientInfo, isValidClaims } from "./TokenIssuer.js"

const loopbackHosts = new Set(["localhost", "127.0.0.1"])

/**
 * Entra's redirect URI matching: exact string comparison, except that the port of an `http` loopback URI
 * (`localhost`, `127.0.0.1`; not `[::1]`) is ignored (RFC 8252 §7.3). Paths stay exact and case-sensitive; a
 * registered URI without a path matches `/`.
 *
 * @since 0.1.0
 * @category redirect URIs
 */
export const matchesRedirectUri = (registered: ReadonlyArray<string>, requested: string): boolean => {
  if (registered.includes(requested)) return true
  let url: URL
  try {
    url = new URL(requested)
  } catch {
    return false
  }
  if (url.protocol !== "http:" || !loopbackHosts.has(url.hostname) || url.hash !== "" || url.username !== "") {
    return false
  }
  return registered.some((r) => {
    try {
      const reg = new URL(r)
      return reg.protocol === "http:" && reg.hostname === url.hostname && reg.pathname === url.pathname &&
        reg.search === url.search
    } catch {
      return false
    }
  })
}

// "Redirect URIs registered without a path come back with a trailing slash" (ENTRA-PROTOCOL §3.1).
const withPath = (uri: string) => /^[a-z][a-z0-9+.-]*:\/\/[^/?#]+$/i.test(uri) ? `${uri}/` : uri

// Entra encodes with lower-case hex and "+" for spaces (§3.2).
const encodeFields = (fields: ReadonlyArray<readonly [string, string]>) =>
  new URLSearchParams(fields.map(([k, v]) => [k, v])).toString().replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase())

type ResponseMode = "query" | "fragment" | "form_post"

const respond = (
  redirectUri: string,
  mode: ResponseMode,
  fields: ReadonlyArray<readonly [string, string]>,
  headers: Record<string, string> = {}
): HttpServerResponse.HttpServerResponse => {
  const target = withPath(redirectUri)
  if (mode === "form_post") return html(SignInPage.formPost(target, fields), 200, headers)
  // Every redirect from the login endpoint ends with an empty fragment (§2, breaking change 2020-02).
  const location = mode === "fragment" ?
    `${target}#${encodeFields(fields)}` :
    `${target}${target.includes("?") ? "&" : "?"}${encodeFields(fields)}#`
  return HttpServerResponse.empty({
    status: 302,
    headers: { location, "cache-control": "no-store, no-cache", ...headers }
  })
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

/**
 * Handles one authorize request.
 *
 * @since 0.1.0
 * @category handlers
 */
export const handle = (ctx: EmulatorContext, info: RequestInfo): Effect.Effect<Outcome> =>
  Effect.sync(() => {
    const { config, state } = ctx
    const p = info.params
    const trace: Trace = info.trace
    const segment = info.tenant ?? "common"
    const clientId = param(p, "client_id")
    const scope = param(p, "scope")
    const logBase = { tenant: segment, clientId, scope }
    const page = (e: EntraError): Outcome => ({
      response: html(EntraErrors.errorPage(e, trace, SignInPage.styles), e.status),
      log: { ...logBase, error: e.error, errorCode: e.code }
    })

    const tenant = resolveTenant(config, segment)
    if (tenant._tag === "Unknown") return page(EntraErrors.Errors.unknownTenant(segment))
    if (clientId === undefined) return page(EntraErrors.Errors.missingParameter("client_id"))
    const app = findApp(config, clientId, tenant._tag === "Tenant" ? tenant.tenant : undefined)
    if (app === undefined) return page(EntraErrors.Errors.unknownClient(clientId, segment))
    const redirectUri = param(p, "redirect_uri")
    if (redirectUri === undefined) return page(EntraErrors.Errors.missingParameter("redirect_uri"))
    if (!matchesRedirectUri(app.redirectUris, redirectUri)) {
      return page(EntraErrors.Errors.redirectMismatch(redirectUri, app.clientId))
    }

    // From here on the redirect URI is trusted: errors go back to it.
    const requestedMode = param(p, "response_mode")
    const mode: ResponseMode = requestedMode === "form_post" || requestedMode === "fragment" ? requestedMode : "query"
    const stateParam = param(p, "state")
    const fail = (e: EntraError, extra: ReadonlyArray<readonly [string, string]> = []): Outcome => ({
      response: respond(redirectUri, mode, [
        ["error", e.error],
        ["error_description", EntraErrors.description(e, trace)],
        ["error_uri", `https://login.microsoftonline.com/error?code=${e.code}`],
        ...(stateParam === undefined ? [] : [["state", stateParam] as const]),
        ...extra
      ]),
      log: { ...logBase, error: e.error, errorCode: e.code }
    })

    if (requestedMode !== undefined && requestedMode !== mode) return fail(EntraErrors.Errors.invalidResponseMode())
    const responseType = param(p, "response_type")
    if (responseType === undefined) return fail(EntraErrors.Errors.missingParameter("response_type"))
    if (responseType !== "code") return fail(EntraErrors.Errors.unsupportedResponseType())
    if (scope === undefined) return fail(EntraErrors.Errors.missingParameter("scope"))
    const parsed = Scopes.parse(config, Scopes.split(scope))
    if (parsed._tag === "Unknown") return fail(EntraErrors.Errors.invalidScope(parsed.scope))
    if (parsed._tag === "UnknownResource") return fail(EntraErrors.Errors.unknownResource(parsed.resource, segment))
    const challenge = param(p, "code_challenge")
    const rawMethod = param(p, "code_challenge_method")
    // A challenge without a method means `plain` (RFC 7636 §4.3).
    const method = challenge === undefined ? undefined : rawMethod ?? "plain"
    if (method !== undefined && method !== "S256" && method !== "plain") {
      return fail(EntraErrors.Errors.invalidChallengeMethod())
    }
    const claims = param(p, "claims")
    if (!isValidClaims(claims)) return fail(EntraErrors.Errors.malformedClaims())

    const tidFor = (user: User) => tenant._tag === "Tenant" ? tenant.tenant.id : homeTenantId(config, user)
    const issueCode = (user: User): Outcome => {
      const code = randomToken("0.A", 300)
      state.codes.set(code, {
        clientId: app.clientId,
        tenantSegment: segment.toLowerCase(),
        tid: tidFor(user),
        user,
        redirectUri,
        scopes: Scopes.split(scope),
        codeChallenge: challenge,
        codeChallengeMethod: method as "S256" | "plain" | undefined,
        nonce: param(p, "nonce"),
        claims,
        issuedAt: trace.now,
        used: false
      })
      const cookie = `${sessionCookie}=${Buffer.from(user.username).toString("base64url")}; Path=/; Secure; ` +
        "HttpOnly; SameSite=None"
      return {
        response: respond(redirectUri, mode, [
          ["code", code],
          ["client_info", clientInfo(ctx, user)],
          ...(stateParam === undefined ? [] : [["state", stateParam] as const]),
          ["session_state", guid()]
        ], { "set-cookie": cookie }),
        log: logBase
      }
    }

    // Entra issues tokens for a tenant only to its members and guests (AADSTS50020), checked at sign-in.
    const notInTenant = (user: User): EntraError | undefined =>
      tenant._tag === "Tenant" && !isMemberOf(config, user, tenant.tenant.id) ?
        EntraErrors.Errors.userNotInTenant(
          user.username,
          homeTenantId(config, user),
          tenant.tenant.id,
          app.clientId,
          app.displayName
        ) :
        undefined
    const pageContext: SignInPage.PageContext = { action: info.path, params: p, app }
    const refusedPage = (e: EntraError, loginHint: string) =>
      showPage(SignInPage.signIn(pageContext, config.users, { loginHint, error: `AADSTS${e.code}: ${e.text}` }))
    const showPage = (body: string): Outcome => ({ response: html(body), log: logBase })
    const step = param(p, "emu_step")
    const prompt = param(p, "prompt")
    const loginHint = param(p, "login_hint")

    if (step === "consent" && info.method === "POST") {
      const user = findUser(config, param(p, "emu_user") ?? "")
      if (user === undefined) return showPage(SignInPage.signIn(pageContext, config.users))
      if (param(p, "emu_action") !== "accept") {
        return fail(EntraErrors.Errors.consentDeclined(), [["error_subcode", "cancel"]])
      }
      const refused = notInTenant(user)
      if (refused !== undefined) return refusedPage(refused, user.username)
      Consent.grant(ctx, app, user, tidFor(user), Scopes.split(scope))
      return issueCode(user)
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
      const refused = notInTenant(user)
      if (refused !== undefined) return refusedPage(refused, username)
      return showPage(SignInPage.consent(pageContext, user, Scopes.split(scope)))
    }
    if (prompt === "none") {
      const user = loginHint === undefined ? cookieUser(ctx, info.headers["cookie"]) : findUser(config, loginHint)
      if (user === undefined) return fail(EntraErrors.Errors.loginRequired())
      const refused = notInTenant(user)
      if (refused !== undefined) return fail(refused)
      // Silent sign-in cannot ask for consent: an ungranted permission is consent_required.
      if (Consent.missing(ctx, app, user, tidFor(user), Scopes.split(scope)).length > 0) {
        return fail(EntraErrors.Errors.consentRequired(app.clientId, app.displayName, "consent_required"))
      }
      return issueCode(user)
    }
    return showPage(SignInPage.signIn(pageContext, config.users, { loginHint }))
  })
