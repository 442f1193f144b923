/**
 * Mints Entra v2.0 tokens: the access token and ID token JWTs (ENTRA-PROTOCOL §11) and the token response body
 * (§5.1), on the emulator clock.
 *
 * @since 0.1.0
 */
import * as Crypto from "node:crypto"
import type { App, User } from "./EmulatorConfig.js"
import type { EmulatorContext } from "./EmulatorState.js"
import { guid, homeTenantId, randomToken } from "./EmulatorState.js"
import type { ParsedScopes } from "./Scopes.js"
import { graphResource } from "./Scopes.js"
import { sign } from "./SigningKeys.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface IssueRequest {
  readonly now: number
  readonly app: App
  readonly user: User
  readonly tid: string
  /** Every scope of the grant (OIDC scopes included). */
  readonly grantScopes: ReadonlyArray<string>
  readonly parsed: ParsedScopes
  readonly claims: string | undefined
  readonly nonce: string | undefined
  readonly clientInfo: boolean
  /** `azpacr`: "0" public client, "1" client secret. */
  readonly authMethod: "0" | "1"
}

/**
 * `client_info`: base64url (no padding) of `{"uid": oid, "utid": home tenant}`.
 *
 * @since 0.1.0
 * @category tokens
 */
export const clientInfo = (ctx: EmulatorContext, user: User): string =>
  Buffer.from(JSON.stringify({ uid: user.oid, utid: homeTenantId(ctx.config, user) })).toString("base64url")

/**
 * Whether a claims request asks for the `cp1` client capability (`access_token.xms_cc.values`).
 *
 * @since 0.1.0
 * @category tokens
 */
export const requestsCp1 = (claims: string | undefined): boolean => {
  if (claims === undefined || claims.length === 0) return false
  try {
    const parsed = JSON.parse(claims) as { access_token?: { xms_cc?: { values?: unknown } } }
    const values = parsed?.access_token?.xms_cc?.values
    return Array.isArray(values) && values.some((v) => typeof v === "string" && v.toLowerCase() === "cp1")
  } catch {
    return false
  }
}

/**
 * Whether `claims` is a JSON object (Entra rejects malformed claims requests).
 *
 * @since 0.1.0
 * @category tokens
 */
export const isValidClaims = (claims: string | undefined): boolean => {
  if (claims === undefined || claims.length === 0) return true
  try {
    const parsed = JSON.parse(claims) as unknown
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
  } catch {
    return false
  }
}

// Pairwise `sub`: stable per user and app, as Entra.
const pairwiseSub = (oid: string, clientId: string) =>
  Crypto.createHash("sha256").update(`${oid}:${clientId}`).digest("base64url").slice(0, 43)

const uti = () => Crypto.randomBytes(16).toString("base64url").slice(0, 22)

/**
 * Mints the tokens and builds the success body. Records the access token's `uti` with its issue sequence.
 *
 * @since 0.1.0
 * @category tokens
 */
export const issue = (ctx: EmulatorContext, req: IssueRequest): {
  readonly body: Record<string, unknown>
  readonly refreshToken: string | undefined
} => {
  const { config, state } = ctx
  const iat = Math.floor(req.now / 1000)
  const lifetime = config.accessTokenLifetime
  const iss = `${ctx.authority}/${req.tid}/v2.0`
  const resource = req.parsed.resources[0]
  const oidc = req.parsed.oidc.filter((s) => s !== "offline_access")
  const scp = resource === undefined ? oidc : resource.scp
  const aud = resource === undefined ? graphResource : resource.resource
  const cp1 = requestsCp1(req.claims)
  const accessUti = uti()
  state.issueSeq += 1
  state.tokenSeq.set(accessUti, state.issueSeq)
  const profile = {
    name: req.user.name,
    oid: req.user.oid,
    preferred_username: req.user.username
  }
  const accessToken = sign(ctx.signingKey, {
    aud,
    iss,
    iat,
    nbf: iat,
    exp: iat + lifetime,
    aio: randomToken("", 24),
    azp: req.app.clientId,
    azpacr: req.authMethod,
    ...profile,
    rh: `0.${randomToken("", 18)}.`,
    scp: scp.join(" "),
    sub: pairwiseSub(req.user.oid, req.app.clientId),
    tid: req.tid,
    uti: accessUti,
    ver: "2.0",
    ...(cp1 ? { xms_cc: ["cp1"] } : {})
  })
  const wantsIdToken = req.grantScopes.some((s) => s.toLowerCase() === "openid")
  const idToken = wantsIdToken ?
    sign(ctx.signingKey, {
      aud: req.app.clientId,
      iss,
      iat,
      nbf: iat,
      exp: iat + lifetime,
      ...profile,
      ...(req.grantScopes.some((s) => s.toLowerCase() === "email") ? { email: req.user.username } : {}),
      ...(req.nonce === undefined ? {} : { nonce: req.nonce }),
      rh: `0.${randomToken("", 18)}.`,
      sid: guid(),
      sub: pairwiseSub(req.user.oid, req.app.clientId),
      tid: req.tid,
      uti: uti(),
      ver: "2.0"
    }) :
    undefined
  const offline = req.grantScopes.some((s) => s.toLowerCase() === "offline_access")
  const refreshToken = offline ? randomToken("1.A", 180) : undefined
  if (refreshToken !== undefined) {
    state.refreshTokens.set(refreshToken, {
      clientId: req.app.clientId,
      tid: req.tid,
      user: req.user,
      scopes: req.grantScopes,
      issuedAt: req.now,
      revoked: false,
      used: false
    })
  }
  // Entra sends refresh_in only for long-lived tokens (>= 2 h), at half the lifetime (§5.1).
  const refreshIn = config.refreshIn ?? (lifetime >= 7200 ? Math.floor(lifetime / 2) : undefined)
  // Entra's `scope` lists the resource's scopes and usually leaves out the OIDC ones (§5.1).
  const scopeField = resource === undefined ? oidc : resource.scopes
  return {
    refreshToken,
    body: {
      token_type: "Bearer",
      scope: scopeField.join(" "),
      expires_in: lifetime,
      ext_expires_in: lifetime,
      ...(refreshIn === undefined ? {} : { refresh_in: refreshIn }),
      access_token: accessToken,
      ...(refreshToken === undefined ? {} : { refresh_token: refreshToken }),
      ...(idToken === undefined ? {} : { id_token: idToken }),
      ...(req.clientInfo ? { client_info: clientInfo(ctx, req.user) } : {})
    }
  }
}
