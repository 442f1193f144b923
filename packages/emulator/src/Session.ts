/**
 * The session endpoints the discovery document names: `end_session_endpoint`
 * (`/{tenant}/oauth2/v2.0/logout`, ends the emulator's sign-in session) and `userinfo_endpoint` (`/oidc/userinfo`,
 * Microsoft Graph's OIDC UserInfo, answered here so OIDC clients stay on the machine).
 *
 * @since 0.1.0
 */
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Effect from "effect/Effect"
import { matchesRedirectUri } from "./AuthorizeEndpoint.js"
import type { EmulatorContext } from "./EmulatorState.js"
import { findUser } from "./EmulatorState.js"
import { escapeHtml } from "./EntraErrors.js"
import type { Outcome, RequestInfo } from "./internal/endpoint.js"
import { html, json, param } from "./internal/endpoint.js"
import { graphResource } from "./Scopes.js"
import { verify } from "./SigningKeys.js"
import * as SignInPage from "./SignInPage.js"

const clearCookie = "emu_session=; Path=/; Secure; HttpOnly; SameSite=None; Max-Age=0"

const idTokenAudience = (token: string | undefined): string | undefined => {
  try {
    const payload = JSON.parse(Buffer.from(token?.split(".")[1] ?? "", "base64url").toString("utf8")) as unknown
    const aud = (payload as { aud?: unknown } | null)?.aud
    return typeof aud === "string" ? aud : undefined
  } catch {
    return undefined
  }
}

/**
 * `GET|POST /{tenant}/oauth2/v2.0/logout`: clears the session cookie, then redirects to
 * `post_logout_redirect_uri` (with `state`) when it is registered for the app named by `client_id` or
 * `id_token_hint`; otherwise shows Entra's "You signed out" page.
 *
 * @since 0.1.0
 * @category handlers
 */
export const logout = (ctx: EmulatorContext, info: RequestInfo): Effect.Effect<Outcome> =>
  Effect.sync(() => {
    const p = info.params
    const target = param(p, "post_logout_redirect_uri")
    const clientId = param(p, "client_id") ?? idTokenAudience(param(p, "id_token_hint"))
    const app = ctx.config.apps.find((a) => a.clientId.toLowerCase() === clientId?.toLowerCase())
    const log = { tenant: info.tenant, clientId }
    if (target !== undefined && app !== undefined && matchesRedirectUri(app.redirectUris, target)) {
      const state = param(p, "state")
      const location = state === undefined ?
        target :
        `${target}${target.includes("?") ? "&" : "?"}state=${encodeURIComponent(state)}`
      return {
        response: HttpServerResponse.empty({ status: 302, headers: { location, "set-cookie": clearCookie } }),
        log
      }
    }
    const body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign out</title>` +
      `<style>${SignInPage.styles}</style></head><body><main class="card" id="signed-out">` +
      `<div class="brand">Entra ID emulator</div><h1>You signed out of your account</h1>` +
      `<p class="muted">It's a good idea to close all browser windows.</p>` +
      (target === undefined ? "" : `<p class="muted" id="unregistered">${escapeHtml(target)} is not registered.</p>`) +
      `</main></body></html>`
    return { response: html(body, 200, { "set-cookie": clearCookie }), log }
  })

const graphAudiences = new Set([graphResource, `${graphResource}/`, "00000003-0000-0000-c000-000000000000"])

/**
 * `GET|POST /oidc/userinfo`: the signed-in user's `sub`, `name`, `email` (and Graph's `family_name`,
 * `given_name`) for a valid Microsoft Graph access token with `openid`, as Graph's endpoint.
 *
 * @since 0.1.0
 * @category handlers
 */
export const userinfo = (ctx: EmulatorContext, info: RequestInfo): Effect.Effect<Outcome> =>
  Effect.sync(() => {
    const auth = info.headers["authorization"]
    const token = typeof auth === "string" ? auth.replace(/^bearer\s+/i, "").trim() : ""
    const unauthorized = (description: string): Outcome => ({
      response: json({ error: { code: "InvalidAuthenticationToken", message: description } }, 401, {
        "www-authenticate": `Bearer error="invalid_token", error_description="${description}"`
      }),
      log: { error: "invalid_token" }
    })
    const verified = verify(ctx.signingKey, token)
    if (verified._tag === "Invalid") return unauthorized(verified.reason)
    const c = verified.claims
    if (typeof c["aud"] !== "string" || !graphAudiences.has(c["aud"])) return unauthorized("the audience is invalid")
    if (typeof c["exp"] !== "number" || c["exp"] <= Math.floor(info.trace.now / 1000)) {
      return unauthorized("the token is expired")
    }
    const user = findUser(ctx.config, typeof c["preferred_username"] === "string" ? c["preferred_username"] : "")
    if (user === undefined) return unauthorized("the token has no user")
    const [given, ...family] = user.name.split(" ")
    return {
      response: json({
        sub: c["sub"],
        name: user.name,
        family_name: family.join(" "),
        given_name: given ?? "",
        email: user.username
      }),
      log: { clientId: typeof c["azp"] === "string" ? c["azp"] : undefined }
    }
  })
