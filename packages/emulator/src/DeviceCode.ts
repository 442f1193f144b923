/**
 * The device authorization grant (RFC 8628) as Entra runs it: `POST /{tenant}/oauth2/v2.0/devicecode` hands out a
 * device code and a user code, the user enters the code at `/devicelogin`, signs in and accepts (or declines),
 * and the client polls the token endpoint with `urn:ietf:params:oauth:grant-type:device_code`, getting
 * `authorization_pending`, `slow_down`, `authorization_declined` or `expired_token` until then.
 *
 * Page hooks for browser automation: `form#devicecode`, `#otc`, `button#next`, `#error`, then the sign-in and
 * consent pages of the authorize flow, then `#device-done` (`data-result="approved|declined"`).
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Crypto from "node:crypto"
import type { EmulatorContext } from "./EmulatorState.js"
import { findApp, findUser, homeTenantId, isMemberOf, randomToken, resolveTenant } from "./EmulatorState.js"
import { Errors, escapeHtml } from "./EntraErrors.js"
import * as Consent from "./internal/consent.js"
import type { Outcome, RequestInfo } from "./internal/endpoint.js"
import { html, json, jsonError, param } from "./internal/endpoint.js"
import { GrantErrors } from "./internal/grantErrors.js"
import type { TokenRequest } from "./internal/tokenRequest.js"
import { mintUserTokens, scopeError } from "./internal/tokenRequest.js"
import * as Scopes from "./Scopes.js"
import * as SignInPage from "./SignInPage.js"

/**
 * @since 0.1.0
 * @category constants
 */
export const grantType = "urn:ietf:params:oauth:grant-type:device_code"

// Entra's user codes: upper-case letters and digits, without look-alikes.
const userCodeAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
const newUserCode = () =>
  Array.from(Crypto.randomBytes(9), (b) => userCodeAlphabet[b % userCodeAlphabet.length]).join("")

/**
 * `POST /{tenant}/oauth2/v2.0/devicecode`.
 *
 * @since 0.1.0
 * @category handlers
 */
export const authorize = (ctx: EmulatorContext, info: RequestInfo): Effect.Effect<Outcome> =>
  Effect.sync(() => {
    const segment = info.tenant ?? "common"
    const p = info.params
    const clientId = param(p, "client_id")
    const scope = param(p, "scope")
    const log = { tenant: segment, clientId, scope }
    const fail = (e: Parameters<typeof jsonError>[0]) => jsonError(e, info.trace, log)
    if (info.method !== "POST") return fail(Errors.postOnly())
    const tenant = resolveTenant(ctx.config, segment)
    if (tenant._tag === "Unknown") return fail(Errors.unknownTenant(segment))
    if (clientId === undefined) return fail(Errors.missingParameter("client_id"))
    const app = findApp(ctx.config, clientId, tenant._tag === "Tenant" ? tenant.tenant : undefined)
    if (app === undefined) return fail(Errors.unknownClient(clientId, segment))
    if (scope === undefined) return fail(Errors.missingParameter("scope"))
    const invalid = scopeError(ctx, Scopes.split(scope), segment)
    if (invalid !== undefined) return fail(invalid)
    const { deviceCodeInterval: interval, deviceCodeLifetime: lifetime } = ctx.config
    const deviceCode = randomToken("DAQABIQEAAA", 120)
    const userCode = newUserCode()
    ctx.state.deviceCodes.set(deviceCode, {
      clientId: app.clientId,
      tenantSegment: segment.toLowerCase(),
      scopes: Scopes.split(scope),
      userCode,
      issuedAt: info.trace.now,
      expiresAt: info.trace.now + lifetime * 1000,
      interval,
      lastPollAt: undefined,
      status: "pending",
      user: undefined
    })
    const verificationUri = `${ctx.authority}/devicelogin`
    return {
      response: json({
        user_code: userCode,
        device_code: deviceCode,
        verification_uri: verificationUri,
        expires_in: lifetime,
        interval,
        message: `To sign in, use a web browser to open the page ${verificationUri} and enter the code ${userCode} ` +
          "to authenticate."
      }),
      log
    }
  })

/**
 * The token request of the device-code grant (the client's poll).
 *
 * @since 0.1.0
 * @category grants
 */
export const redeem = (req: TokenRequest): Outcome => {
  const { ctx, fail, now } = req
  // `device_code` per RFC 8628; older clients send `code`.
  const code = param(req.params, "device_code") ?? param(req.params, "code")
  if (code === undefined) return fail(Errors.missingParameter("device_code"))
  const grant = ctx.state.deviceCodes.get(code)
  if (grant === undefined || grant.clientId !== req.app.clientId) return fail(GrantErrors.badDeviceCode())
  if (grant.status === "redeemed") return fail(Errors.codeRedeemed())
  if (now >= grant.expiresAt) return fail(GrantErrors.deviceCodeExpired())
  if (grant.status === "declined") return fail(GrantErrors.authorizationDeclined())
  const last = grant.lastPollAt
  grant.lastPollAt = now
  if (grant.status === "pending" || grant.user === undefined) {
    // Half the interval of slack: clients sleep the interval between polls, plus their own latency.
    return last !== undefined && now - last < grant.interval * 500 ?
      fail(GrantErrors.slowDown(grant.interval)) :
      fail(GrantErrors.authorizationPending())
  }
  const tenant = resolveTenant(ctx.config, grant.tenantSegment)
  const tid = tenant._tag === "Tenant" ? tenant.tenant.id : homeTenantId(ctx.config, grant.user)
  const outcome = mintUserTokens(req, grant.user, tid, grant.scopes, undefined, undefined)
  if (outcome.response.status === 200) grant.status = "redeemed"
  return outcome
}

const page = (title: string, body: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>` +
  `<meta name="viewport" content="width=device-width, initial-scale=1"><style>${SignInPage.styles}</style>` +
  `</head><body><main class="card">${body}</main></body></html>`

const enterCode = (error?: string) =>
  page(
    "Enter code",
    `<div class="brand">Entra ID emulator</div><h1>Enter code</h1>` +
      `<p class="muted">Enter the code displayed on your app or device.</p>` +
      `<form id="devicecode" method="post" action="/devicelogin"><input type="hidden" name="emu_step" value="code">` +
      `<input type="text" id="otc" name="otc" autocomplete="off" placeholder="Code">` +
      (error === undefined ? "" : `<p class="error" id="error" role="alert">${escapeHtml(error)}</p>`) +
      `<div class="actions"><button type="submit" class="primary" id="next">Next</button></div></form>`
  )

const done = (result: "approved" | "declined", appName: string) =>
  page(
    result === "approved" ? "Signed in" : "Sign-in declined",
    `<div class="brand">Entra ID emulator</div><h1 id="device-done" data-result="${result}">` +
      (result === "approved" ?
        `You have signed in to ${escapeHtml(appName)} on your device.</h1>` :
        `You declined to sign in to ${escapeHtml(appName)}.</h1>`) +
      `<p class="muted">You may now close this window.</p>`
  )

/**
 * `GET|POST /devicelogin`: enter the user code, sign in, accept or decline.
 *
 * @since 0.1.0
 * @category handlers
 */
export const loginPage = (ctx: EmulatorContext, info: RequestInfo): Effect.Effect<Outcome> =>
  Effect.sync(() => {
    const p = info.params
    const show = (body: string): Outcome => ({ response: html(body), log: {} })
    if (info.method !== "POST") return show(enterCode())
    const otc = (param(p, "otc") ?? "").trim().toUpperCase()
    const entry = [...ctx.state.deviceCodes.values()].find((g) => g.userCode === otc)
    if (entry === undefined || entry.status !== "pending" || info.trace.now >= entry.expiresAt) {
      return show(enterCode("That code didn't work. Check the code and try again."))
    }
    const app = ctx.config.apps.find((a) => a.clientId === entry.clientId)!
    const pc: SignInPage.PageContext = { action: "/devicelogin", params: new URLSearchParams({ otc }), app }
    const step = param(p, "emu_step")
    if (step === "signin") {
      const user = findUser(ctx.config, param(p, "emu_pick") ?? param(p, "username") ?? "")
      if (user === undefined) return show(SignInPage.signIn(pc, ctx.config.users, { error: "Unknown account." }))
      return show(SignInPage.consent(pc, user, entry.scopes))
    }
    if (step === "consent") {
      const user = findUser(ctx.config, param(p, "emu_user") ?? "")
      if (user === undefined) return show(SignInPage.signIn(pc, ctx.config.users))
      if (param(p, "emu_action") !== "accept") {
        entry.status = "declined"
        return show(done("declined", app.displayName))
      }
      const tenant = resolveTenant(ctx.config, entry.tenantSegment)
      if (tenant._tag === "Tenant" && !isMemberOf(ctx.config, user, tenant.tenant.id)) {
        const e = Errors.userNotInTenant(
          user.username,
          homeTenantId(ctx.config, user),
          tenant.tenant.id,
          app.clientId,
          app.displayName
        )
        return show(SignInPage.signIn(pc, ctx.config.users, { error: `AADSTS${e.code}: ${e.text}` }))
      }
      Consent.grant(
        ctx,
        app,
        user,
        tenant._tag === "Tenant" ? tenant.tenant.id : homeTenantId(ctx.config, user),
        entry.scopes
      )
      entry.status = "approved"
      entry.user = user
      return show(done("approved", app.displayName))
    }
    return show(SignInPage.signIn(pc, ctx.config.users))
  })
