/**
 * Mints Entra v2.0 tokens: the access token and ID token JWTs and the token response body,
 * on the emulator clock.
 *
 * @since 0.1.0
 */
import * as Crypto from "node:crypto"
import type { App, User } from "./EmulatorConfig.js"
import type { EmulatorContext } from "./EmulatorState.js"
import { guid, homeTenantId, objectIdIn, randomToken } from "./EmulatorState.js"
import type { ParsedScopes, ResourceScopes } from "./Scopes.js"
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
  /** `azpacr`: "0" public client, "1" client secret, "2" certificate. */
  readonly authMethod: AuthMethod
}

/**
 * How the client authenticated (`azpacr`): "0" public client, "1" client secret, "2" certificate.
 *
 * @since 0.1.0
 * @category models
 */
export type AuthMethod = "0" | "1" | "2"

/**
 * The access token's `aud` for a resource: Graph's URI, or for an emulated API the client id GUID (v2 tokens) or
 * its App ID URI (v1), following the API app's `accessTokenAcceptedVersion`.
 *
 * @since 0.1.0
 * @category tokens
 */
export const audienceOf = (resource: ResourceScopes | undefined): string => {
  const app = resource?.app
  if (resource === undefined || app === undefined) return graphResource
  return app.accessTokenAcceptedVersion === 1 ? `api://${app.clientId}` : app.clientId
}

// v1 tokens name the client `appid`/`appidacr` and come from the v1 issuer; v2 `azp`/`azpacr`.
const versionClaims = (
  ctx: EmulatorContext,
  resource: ResourceScopes | undefined,
  tid: string,
  clientId: string,
  authMethod: AuthMethod
) =>
  resource?.app?.accessTokenAcceptedVersion === 1 ?
    { iss: `https://sts.windows.net/${tid}/`, ver: "1.0", appid: clientId, appidacr: authMethod } :
    { iss: `${ctx.authority}/${tid}/v2.0`, ver: "2.0", azp: clientId, azpacr: authMethod }

// Entra answers Graph requests with the short permission names followed by the OIDC scopes of the grant.
const scopeFieldOf = (resource: ResourceScopes | undefined, oidc: ReadonlyArray<string>) => {
  if (resource === undefined) return oidc
  if (resource.app !== undefined) return resource.scopes
  return [...resource.scopes, ...["profile", "openid", "email"].filter((s) => oidc.includes(s))]
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

// Pairwise `sub`: stable per user, app and tenant, as Entra.
const pairwiseSub = (oid: string, clientId: string, tid: string) =>
  Crypto.createHash("sha256").update(`${oid}:${clientId}:${tid.toLowerCase()}`).digest("base64url").slice(0, 43)

const uti = () => Crypto.randomBytes(16).toString("base64url").slice(0, 22)

interface Profile {
  readonly idp?: string
  readonly name: string
  readonly oid: string
  readonly preferred_username: string
}

const mintIdToken = (
  ctx: EmulatorContext,
  req: IssueRequest,
  { guest, iat, profile, sub }: {
    readonly iat: number
    readonly profile: Profile
    readonly sub: string
    readonly guest: boolean
  }
): string =>
  sign(ctx.signingKey, {
    aud: req.app.clientId,
    iss: `${ctx.authority}/${req.tid}/v2.0`,
    iat,
    nbf: iat,
    exp: iat + ctx.config.accessTokenLifetime,
    ...profile,
    // Guests get `email` whether or not it was asked for.
    ...(guest || req.grantScopes.some((s) => s.toLowerCase() === "email") ? { email: req.user.username } : {}),
    ...(req.nonce === undefined ? {} : { nonce: req.nonce }),
    rh: `0.${randomToken("", 18)}.`,
    sid: guid(),
    sub,
    tid: req.tid,
    uti: uti(),
    ver: "2.0"
  })

// A refresh token when `offline_access` was granted, remembered with what it may mint.
const recordRefreshToken = (ctx: EmulatorContext, req: IssueRequest): string | undefined => {
  if (!req.grantScopes.some((s) => s.toLowerCase() === "offline_access")) return undefined
  const refreshToken = randomToken("1.A", 180)
  ctx.state.refreshTokens.set(refreshToken, {
    clientId: req.app.clientId,
    tid: req.tid,
    user: req.user,
    scopes: req.grantScopes,
    issuedAt: req.now,
    revoked: false,
    used: false
  })
  return refreshToken
}

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
  const resource = req.parsed.resources[0]
  const oidc = req.parsed.oidc.filter((s) => s !== "offline_access")
  const scp = resource === undefined ? oidc : resource.scp
  const aud = audienceOf(resource)
  const cp1 = requestsCp1(req.claims)
  const accessUti = uti()
  state.issueSeq += 1
  state.tokenSeq.set(accessUti, state.issueSeq)
  const home = homeTenantId(ctx.config, req.user)
  const guest = home.toLowerCase() !== req.tid.toLowerCase()
  const oid = objectIdIn(ctx.config, req.user, req.tid)
  const sub = pairwiseSub(oid, req.app.clientId, req.tid)
  // A guest's tokens name the home tenant's issuer as `idp`, and carry the guest account's own `oid`.
  const profile: Profile = {
    ...(guest ? { idp: `https://sts.windows.net/${home}/` } : {}),
    name: req.user.name,
    oid,
    preferred_username: req.user.username
  }
  const accessToken = sign(ctx.signingKey, {
    aud,
    iat,
    nbf: iat,
    exp: iat + lifetime,
    aio: randomToken("", 24),
    ...versionClaims(ctx, resource, req.tid, req.app.clientId, req.authMethod),
    ...profile,
    rh: `0.${randomToken("", 18)}.`,
    scp: scp.join(" "),
    sub,
    tid: req.tid,
    uti: accessUti,
    ...(cp1 ? { xms_cc: ["cp1"] } : {})
  })
  const wantsIdToken = req.grantScopes.some((s) => s.toLowerCase() === "openid")
  const idToken = wantsIdToken ? mintIdToken(ctx, req, { iat, profile, sub, guest }) : undefined
  const refreshToken = recordRefreshToken(ctx, req)
  // Entra sends refresh_in only for long-lived tokens (>= 2 h), at half the lifetime.
  const refreshIn = config.refreshIn ?? (lifetime >= 7200 ? Math.floor(lifetime / 2) : undefined)
  const scopeField = scopeFieldOf(resource, oidc)
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

/**
 * Mints an app-only access token (client credentials): no user, `idtyp: "app"`, the service principal as `oid` and
 * `sub`, no `scp`. The body has no `scope`, refresh token or ID token, as Entra's.
 *
 * @since 0.1.0
 * @category tokens
 */
export const issueAppToken = (
  ctx: EmulatorContext,
  req: {
    readonly now: number
    readonly app: App
    readonly tid: string
    readonly resource: ResourceScopes
    readonly authMethod: AuthMethod
  }
): Record<string, unknown> => {
  const iat = Math.floor(req.now / 1000)
  const lifetime = ctx.config.accessTokenLifetime
  const accessUti = uti()
  ctx.state.issueSeq += 1
  ctx.state.tokenSeq.set(accessUti, ctx.state.issueSeq)
  const principal = servicePrincipalId(req.app.clientId, req.tid)
  const accessToken = sign(ctx.signingKey, {
    aud: audienceOf(req.resource),
    iat,
    nbf: iat,
    exp: iat + lifetime,
    aio: randomToken("", 24),
    ...versionClaims(ctx, req.resource, req.tid, req.app.clientId, req.authMethod),
    idtyp: "app",
    oid: principal,
    rh: `0.${randomToken("", 18)}.`,
    sub: principal,
    tid: req.tid,
    uti: accessUti
  })
  return { token_type: "Bearer", expires_in: lifetime, ext_expires_in: lifetime, access_token: accessToken }
}

/**
 * The object id of an app's service principal in a tenant: stable, and different per tenant, as in Entra.
 *
 * @since 0.1.0
 * @category tokens
 */
export const servicePrincipalId = (clientId: string, tid: string): string => {
  const h = Crypto.createHash("sha256").update(`sp:${clientId.toLowerCase()}:${tid.toLowerCase()}`).digest("hex")
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`
}
