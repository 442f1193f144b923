/**
 * Certificate credentials: a `client_assertion` JWT signed with a key whose certificate the app registered
 * (RFC 7523 §3; Entra's rules: RS256 or PS256, `x5t` or `x5t#S256`, `aud` = the token endpoint,
 * `iss` = `sub` = client id, a lifetime, a `jti`).
 *
 * @internal
 */
import * as Crypto from "node:crypto"
import type { App } from "../EmulatorConfig.js"
import type { EmulatorContext } from "../EmulatorState.js"
import type { EntraError } from "./entraError.js"
import { GrantErrors } from "./grantErrors.js"

/** @internal */
export const assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// Entra accepts assertions issued up to five minutes ahead of its clock.
const skewSeconds = 300

const decodePart = (part: string): Record<string, unknown> | undefined => {
  try {
    const value = JSON.parse(Buffer.from(part, "base64url").toString("utf8")) as unknown
    return typeof value === "object" && value !== null && !Array.isArray(value) ?
      value as Record<string, unknown> :
      undefined
  } catch {
    return undefined
  }
}

const certificateFor = (app: App, header: Record<string, unknown>) => {
  const sha256 = header["x5t#S256"]
  const sha1 = header["x5t"]
  const wanted = typeof sha256 === "string" ?
    { alg: "sha256", value: sha256 } :
    typeof sha1 === "string" ?
    { alg: "sha1", value: sha1 } :
    undefined
  if (wanted === undefined) return { thumbprint: "", certificate: undefined }
  const thumbprint = Buffer.from(wanted.value, "base64url").toString("hex").toUpperCase()
  const certificate = app.certificates
    .map((pem) => new Crypto.X509Certificate(pem))
    .find((c) => Crypto.createHash(wanted.alg).update(c.raw).digest("base64url") === wanted.value)
  return { thumbprint, certificate }
}

const verifySignature = (alg: string, key: Crypto.KeyObject, data: string, signature: string) =>
  Crypto.verify(
    "sha256",
    Buffer.from(data),
    alg === "PS256" ?
      { key, padding: Crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: Crypto.constants.RSA_PSS_SALTLEN_AUTO } :
      key,
    Buffer.from(signature, "base64url")
  )

const iso = (seconds: number) => new Date(seconds * 1000).toISOString()

/**
 * Checks one assertion for `app` at the token endpoint `audiences` (the URLs that name it). Returns the failure, or
 * `undefined` when the assertion authenticates the client.
 *
 * @internal
 */
export const validate = (
  ctx: EmulatorContext,
  app: App,
  assertion: string,
  audiences: ReadonlyArray<string>,
  now: number
): EntraError | undefined => {
  const parts = assertion.split(".")
  if (parts.length !== 3) return GrantErrors.assertionMalformed("The assertion is not a JWT.")
  const [h, p, s] = parts as [string, string, string]
  const header = decodePart(h)
  const claims = decodePart(p)
  if (header === undefined || claims === undefined) return GrantErrors.assertionMalformed("The JWT is not JSON.")
  const alg = header["alg"]
  if (alg !== "RS256" && alg !== "PS256") {
    return GrantErrors.assertionMalformed(`The signature algorithm '${String(alg)}' is not supported.`)
  }
  const { certificate, thumbprint } = certificateFor(app, header)
  if (certificate === undefined) return GrantErrors.assertionNoCertificate(thumbprint, app.clientId)
  if (!verifySignature(alg, certificate.publicKey, `${h}.${p}`, s)) return GrantErrors.assertionBadSignature(thumbprint)
  const aud = claims["aud"]
  if (typeof aud !== "string" || !audiences.some((a) => a.toLowerCase() === aud.toLowerCase())) {
    return GrantErrors.assertionWrongAudience()
  }
  if (claims["iss"] !== app.clientId || claims["sub"] !== app.clientId) return GrantErrors.assertionIssuer()
  const nowSec = Math.floor(now / 1000)
  const exp = claims["exp"]
  const nbf = typeof claims["nbf"] === "number" ? claims["nbf"] : 0
  if (typeof exp !== "number" || exp <= nowSec || nbf > nowSec + skewSeconds) {
    return GrantErrors.assertionLifetime(iso(nowSec), iso(nbf), iso(typeof exp === "number" ? exp : 0))
  }
  const jti = claims["jti"]
  if (typeof jti !== "string" || jti.length === 0) return GrantErrors.assertionMalformed("The JWT has no 'jti'.")
  return checkReplay(ctx, app.clientId, jti, exp, nowSec)
}

// MSAL reuses one assertion (same jti) for up to ten minutes, so a replay is refused only when configured.
const checkReplay = (ctx: EmulatorContext, clientId: string, jti: string, exp: number, nowSec: number) => {
  const seen = ctx.state.assertionIds
  for (const [key, until] of seen) if (until <= nowSec) seen.delete(key)
  const key = `${clientId.toLowerCase()}:${jti}`
  if (seen.has(key) && ctx.config.clientAssertionReplay === "reject") return GrantErrors.assertionReplay()
  seen.set(key, exp)
  return undefined
}
