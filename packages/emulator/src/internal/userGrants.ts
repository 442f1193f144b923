/**
 * The `authorization_code` and `refresh_token` grants (RFC 6749 §4.1.3, §6) with Entra's checks and errors.
 *
 * @internal
 */
import * as Crypto from "node:crypto"
import { isMemberOf } from "../EmulatorState.js"
import type { Outcome } from "./endpoint.js"
import { param } from "./endpoint.js"
import { Errors } from "./errorCatalog.js"
import type { TokenRequest } from "./tokenRequest.js"
import { mintUserTokens, notInTenant, tenantIdOf } from "./tokenRequest.js"

const formatDuration = (ms: number) => {
  const s = Math.floor(ms / 1000)
  const pad = (n: number) => String(n).padStart(2, "0")
  return `${Math.floor(s / 86400)}.${pad(Math.floor(s / 3600) % 24)}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`
}

/** @internal */
export const redeemCode = (req: TokenRequest): Outcome => {
  const { ctx, fail, now, params: p } = req
  const code = param(p, "code")
  if (code === undefined) return fail(Errors.missingParameter("code"))
  const grant = ctx.state.codes.get(code)
  if (grant === undefined || grant.clientId !== req.app.clientId) return fail(Errors.malformedGrant())
  if (grant.used) return fail(Errors.codeRedeemed())
  if (now - grant.issuedAt > ctx.config.authorizationCodeLifetime * 1000) return fail(Errors.expiredGrant())
  if (grant.tenantSegment !== req.segment.toLowerCase()) return fail(Errors.wrongTenant())
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
  const outcome = mintUserTokens(req, grant.user, grant.tid, grant.scopes, grant.nonce, grant.claims)
  if (outcome.response.status === 200) grant.used = true
  return outcome
}

/** @internal */
export const redeemRefreshToken = (req: TokenRequest): Outcome => {
  const { ctx, fail, now } = req
  const token = param(req.params, "refresh_token")
  if (token === undefined) return fail(Errors.missingParameter("refresh_token"))
  const grant = ctx.state.refreshTokens.get(token)
  if (grant === undefined) return fail(Errors.malformedGrant())
  if (grant.clientId !== req.app.clientId) return fail(Errors.grantClientMismatch())
  if (grant.revoked) return fail(Errors.revokedGrant())
  if (now - grant.issuedAt > ctx.config.refreshTokenLifetime * 1000) {
    return fail(
      Errors.refreshTokenInactive(new Date(grant.issuedAt).toISOString(), formatDuration(now - grant.issuedAt))
    )
  }
  if (grant.used && ctx.config.refreshTokenRotation === "strict") return fail(Errors.expiredGrant())
  const tid = tenantIdOf(req) ?? grant.tid
  if (!isMemberOf(ctx.config, grant.user, tid)) return fail(notInTenant(req, grant.user, tid))
  grant.used = true
  return mintUserTokens(req, grant.user, tid, grant.scopes, undefined, undefined)
}
