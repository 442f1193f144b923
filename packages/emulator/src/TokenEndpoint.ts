/**
 * `POST /{tenant}/oauth2/v2.0/token`: the `authorization_code` and `refresh_token` grants with Entra's checks, in
 * Entra's order (ENTRA-PROTOCOL §4–§7): tenant, body, client, client authentication, grant, scopes.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Crypto from "node:crypto"
import type { App, User } from "./EmulatorConfig.js"
import type { EmulatorContext } from "./EmulatorState.js"
import { findApp, resolveTenant } from "./EmulatorState.js"
import type { EntraError } from "./EntraErrors.js"
import { Errors } from "./EntraErrors.js"
import type { LogInfo, Outcome, RequestInfo } from "./internal/endpoint.js"
import { json, jsonError, param } from "./internal/endpoint.js"
import * as Scopes from "./Scopes.js"
import { issue, isValidClaims } from "./TokenIssuer.js"

const timingSafeEqual = (a: string, b: string) => {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && Crypto.timingSafeEqual(x, y)
}

const basicCredentials = (header: unknown): { id: string; secret: string } | undefined => {
  if (typeof header !== "string" || !/^basic\s/i.test(header)) return undefined
  const decoded = Buffer.from(header.slice(6).trim(), "base64").toString("utf8")
  const i = decoded.indexOf(":")
  if (i < 0) return undefined
  // RFC 6749 §2.3.1: both parts are form-urlencoded before base64.
  const unescape = (s: string) => decodeURIComponent(s.replace(/\+/g, " "))
  try {
    return { id: unescape(decoded.slice(0, i)), secret: unescape(decoded.slice(i + 1)) }
  } catch {
    return undefined
  }
}

const formatDuration = (ms: number) => {
  const s = Math.floor(ms / 1000)
  const pad = (n: number) => String(n).padStart(2, "0")
  return `${Math.floor(s / 86400)}.${pad(Math.floor(s / 3600) % 24)}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`
}

/**
 * Handles one token request.
 *
 * @since 0.1.0
 * @category handlers
 */
export const handle = (ctx: EmulatorContext, info: RequestInfo): Effect.Effect<Outcome> =>
  Effect.sync(() => {
    const { config, state } = ctx
    const trace = info.trace
    const now = trace.now
    const segment = info.tenant ?? "common"
    // Parameters must be in a form body (§4); the query string does not count.
    const p = info.form
    const basic = basicCredentials(info.headers["authorization"])
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

    const secret = param(p, "client_secret") ?? basic?.secret
    if (app.type === "web") {
      if (secret === undefined && param(p, "client_assertion") === undefined) return fail(Errors.missingSecret())
      if (secret === undefined || !app.secrets.some((s) => timingSafeEqual(s, secret))) {
        return fail(Errors.invalidSecret(app.clientId))
      }
    } else if (secret !== undefined || param(p, "client_assertion") !== undefined) {
      return fail(Errors.publicClientSecret())
    }
    const authMethod = app.type === "web" ? "1" : "0"

    const claims = param(p, "claims")
    if (!isValidClaims(claims)) return fail(Errors.malformedClaims())
    const requestScope = param(p, "scope")
    const requested = requestScope === undefined ? undefined : Scopes.split(requestScope)
    if (requested !== undefined) {
      const parsed = Scopes.parse(config, requested)
      if (parsed._tag === "Unknown") return fail(Errors.invalidScope(parsed.scope))
    }

    const mint = (
      user: User,
      tid: string,
      grantScopes: ReadonlyArray<string>,
      nonce: string | undefined,
      grantClaims: string | undefined
    ): Outcome => {
      // The token covers the request's scopes if given (one resource), else those of the grant (§4.1, §4.2).
      const scopes = requested ?? grantScopes
      const parsed = Scopes.parse(config, scopes)
      if (parsed._tag === "Unknown") return fail(Errors.invalidScope(parsed.scope))
      if (requested !== undefined && parsed.scopes.resources.length > 1 && grantType === "authorization_code") {
        return fail(Errors.multipleResources())
      }
      // offline_access is part of the consented grant, whether or not this request repeats it.
      const withOffline = grantScopes.some((s) => s.toLowerCase() === "offline_access") ||
          scopes.some((s) => s.toLowerCase() === "offline_access") ?
        [...scopes.filter((s) => s.toLowerCase() !== "offline_access"), "offline_access"] :
        scopes
      const issued = issue(ctx, {
        now,
        app,
        user,
        tid,
        grantScopes: requested === undefined
          ? withOffline
          : [...withOffline, ...grantScopes.filter((s) => s === "openid")],
        parsed: parsed.scopes,
        claims: claims ?? grantClaims,
        nonce,
        clientInfo: param(p, "client_info") === "1",
        authMethod
      })
      log = { ...log, scope: String(issued.body["scope"] ?? "") }
      return { response: json(issued.body), log }
    }

    if (grantType === "authorization_code") return redeemCode(ctx, app, p, segment, now, fail, mint)
    if (grantType === "refresh_token") {
      const token = param(p, "refresh_token")
      if (token === undefined) return fail(Errors.missingParameter("refresh_token"))
      const grant = state.refreshTokens.get(token)
      if (grant === undefined) return fail(Errors.malformedGrant())
      if (grant.clientId !== app.clientId) return fail(Errors.grantClientMismatch())
      if (grant.revoked) return fail(Errors.revokedGrant())
      if (now - grant.issuedAt > config.refreshTokenLifetime * 1000) {
        return fail(
          Errors.refreshTokenInactive(new Date(grant.issuedAt).toISOString(), formatDuration(now - grant.issuedAt))
        )
      }
      if (grant.used && config.refreshTokenRotation === "strict") return fail(Errors.expiredGrant())
      const tid = tenant._tag === "Tenant" ? tenant.tenant.id : grant.tid
      const member = [grant.user.tenantId, ...(grant.user.guestOf ?? [])]
        .some((id) => id !== undefined && id.toLowerCase() === tid.toLowerCase())
      if (!member) return fail(Errors.userNotInTenant(grant.user.username, tid))
      grant.used = true
      return mint(grant.user, tid, grant.scopes, undefined, undefined)
    }
    return fail(Errors.unsupportedGrantType(grantType))
  })

const redeemCode = (
  ctx: EmulatorContext,
  app: App,
  p: URLSearchParams,
  segment: string,
  now: number,
  fail: (e: EntraError) => Outcome,
  mint: (
    user: User,
    tid: string,
    grantScopes: ReadonlyArray<string>,
    nonce: string | undefined,
    claims: string | undefined
  ) => Outcome
): Outcome => {
  const code = param(p, "code")
  if (code === undefined) return fail(Errors.missingParameter("code"))
  const grant = ctx.state.codes.get(code)
  if (grant === undefined || grant.clientId !== app.clientId) return fail(Errors.malformedGrant())
  if (grant.used) return fail(Errors.codeRedeemed())
  if (now - grant.issuedAt > ctx.config.authorizationCodeLifetime * 1000) return fail(Errors.expiredGrant())
  if (grant.tenantSegment !== segment.toLowerCase()) return fail(Errors.wrongTenant())
  const redirectUri = param(p, "redirect_uri")
  if (redirectUri === undefined) return fail(Errors.missingParameter("redirect_uri"))
  if (redirectUri !== grant.redirectUri) return fail(Errors.replyAddressMismatch(redirectUri, grant.redirectUri))
  const verifier = param(p, "code_verifier")
  if (grant.codeChallenge === undefined) {
    // PKCE downgrade defence: a verifier for a code issued without a challenge is refused (RFC 9700 §4.8.2).
    if (verifier !== undefined) return fail(Errors.pkceMissingVerifier())
  } else {
    if (verifier === undefined) return fail(Errors.pkceMissingVerifier())
    const computed = grant.codeChallengeMethod === "S256" ?
      Crypto.createHash("sha256").update(verifier).digest("base64url") :
      verifier
    if (computed !== grant.codeChallenge) return fail(Errors.pkceMismatch())
  }
  const outcome = mint(grant.user, grant.tid, grant.scopes, grant.nonce, grant.claims)
  if (outcome.response.status === 200) grant.used = true
  return outcome
}
