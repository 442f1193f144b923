/**
 * The checks of an ID token (OpenID Connect Core §3.1.3.7), each returning why it fails or `undefined`.
 *
 * @internal
 */
import * as Crypto from "node:crypto"

/** @internal */
export interface Parsed {
  readonly header: Record<string, unknown>
  readonly claims: Record<string, unknown>
  readonly signingInput: string
  readonly signature: Buffer
}

const decodePart = (part: string): Record<string, unknown> | undefined => {
  try {
    const value = JSON.parse(Buffer.from(part, "base64url").toString("utf8")) as unknown
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? value as Record<string, unknown>
      : undefined
  } catch {
    return undefined
  }
}

/** Splits a compact JWS; `undefined` when it is not one. */
export const parse = (jwt: string): Parsed | undefined => {
  const parts = jwt.split(".")
  if (parts.length !== 3) return undefined
  const [h, p, s] = parts as [string, string, string]
  const header = decodePart(h)
  const claims = decodePart(p)
  if (header === undefined || claims === undefined || s === "") return undefined
  return { header, claims, signingInput: `${h}.${p}`, signature: Buffer.from(s, "base64url") }
}

/** Entra signs ID tokens with RS256 only; `none` and HMAC are refused before any key is looked at. */
export const checkHeader = (parsed: Parsed): string | undefined => {
  if (parsed.header.alg !== "RS256") return `the ID token's alg is not RS256`
  if (typeof parsed.header.kid !== "string" || parsed.header.kid === "") return "the ID token names no signing key"
  return undefined
}

/** @internal */
export const checkSignature = (parsed: Parsed, key: Crypto.KeyObject | undefined): string | undefined => {
  if (key === undefined) return "the ID token is signed with a key the tenant does not publish"
  const ok = Crypto.verify("sha256", Buffer.from(parsed.signingInput), key, parsed.signature)
  return ok ? undefined : "the ID token's signature is invalid"
}

/** @internal */
export interface Expected {
  /** The discovery document's issuer: `{tenantid}` is replaced with the token's `tid`. */
  readonly issuer: string
  readonly clientId: string
  readonly nonce: string | undefined
  readonly nowMs: number
  readonly skewMs: number
}

const str = (claims: Record<string, unknown>, name: string) =>
  typeof claims[name] === "string" && claims[name] !== "" ? claims[name] as string : undefined

const num = (claims: Record<string, unknown>, name: string) =>
  typeof claims[name] === "number" && Number.isFinite(claims[name]) ? claims[name] as number : undefined

const checkAudience = (claims: Record<string, unknown>, clientId: string): string | undefined => {
  const aud = claims.aud
  if (aud === clientId) return undefined
  if (Array.isArray(aud) && aud.includes(clientId)) {
    // Several audiences: the authorized party must be this client (OIDC Core §3.1.3.7, steps 4 and 5).
    return claims.azp === undefined || claims.azp === clientId ? undefined : "the ID token's azp is not this client"
  }
  return "the ID token's audience is not this client"
}

const checkLifetime = (claims: Record<string, unknown>, nowMs: number, skewMs: number): string | undefined => {
  const exp = num(claims, "exp")
  if (exp === undefined) return "the ID token has no exp"
  if (exp * 1000 + skewMs <= nowMs) return "the ID token has expired"
  const nbf = num(claims, "nbf")
  if (nbf !== undefined && nbf * 1000 - skewMs > nowMs) return "the ID token is not valid yet (nbf)"
  const iat = num(claims, "iat")
  if (iat === undefined) return "the ID token has no iat"
  if (iat * 1000 - skewMs > nowMs) return "the ID token was issued in the future (iat)"
  return undefined
}

/** `iss`, `tid`, `aud`, `exp`/`nbf`/`iat` with the skew, and `nonce` when one is expected. */
export const checkClaims = (claims: Record<string, unknown>, expected: Expected): string | undefined => {
  const tid = str(claims, "tid")
  if (tid === undefined) return "the ID token has no tid"
  // Entra's multi-tenant metadata publishes https://login.microsoftonline.com/{tenantid}/v2.0.
  const issuer = expected.issuer.replace("{tenantid}", tid)
  if (claims.iss !== issuer) return "the ID token's issuer is not the tenant's"
  if (!issuer.includes(`/${tid}/`)) return "the ID token's tid is not its issuer's tenant"
  const audience = checkAudience(claims, expected.clientId)
  if (audience !== undefined) return audience
  const lifetime = checkLifetime(claims, expected.nowMs, expected.skewMs)
  if (lifetime !== undefined) return lifetime
  if (expected.nonce !== undefined && claims.nonce !== expected.nonce) {
    return "the ID token's nonce is not the sign-in's"
  }
  return undefined
}
