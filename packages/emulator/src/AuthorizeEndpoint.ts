/**
 * `GET|POST /{tenant}/oauth2/v2.0/authorize`.
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
import type { EmulatorContext } from "./EmulatorState.js"
import { findApp, resolveTenant } from "./EmulatorState.js"
import type { EntraError, Trace } from "./EntraErrors.js"
import * as EntraErrors from "./EntraErrors.js"
import type { Outcome, RequestInfo } from "./internal/endpoint.js"
import { html, param } from "./internal/endpoint.js"
import * as SignInSteps from "./internal/signInSteps.js"
import * as Scopes from "./Scopes.js"
import * as SignInPage from "./SignInPage.js"
import { isValidClaims } from "./TokenIssuer.js"

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

// "Redirect URIs registered without a path come back with a trailing slash".
const withPath = (uri: string) => /^[a-z][a-z0-9+.-]*:\/\/[^/?#]+$/i.test(uri) ? `${uri}/` : uri

// Entra encodes with lower-case hex and "+" for spaces.
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
  // Every redirect from the login endpoint ends with an empty fragment (a 2020-02 change).
  const location = mode === "fragment" ?
    `${target}#${encodeFields(fields)}` :
    `${target}${target.includes("?") ? "&" : "?"}${encodeFields(fields)}#`
  return HttpServerResponse.empty({
    status: 302,
    headers: { location, "cache-control": "no-store, no-cache", ...headers }
  })
}

/**
 * Handles one authorize request.
 *
 * @since 0.1.0
 * @category handlers
 */
export const handle = (ctx: EmulatorContext, info: RequestInfo): Effect.Effect<Outcome> =>
  Effect.sync(() => {
    const { config } = ctx
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

    return SignInSteps.run({
      ctx,
      info,
      app,
      tenant,
      segment,
      redirectUri,
      scope,
      challenge,
      method: method as "S256" | "plain" | undefined,
      claims,
      stateParam,
      logBase,
      fail,
      redirect: (fields, headers) => respond(redirectUri, mode, fields, headers)
    })
  })
