/**
 * `GET /_resource/me`: a protected API that validates bearer tokens as a real resource would, and can issue CAE
 * claims challenges.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type { EmulatorContext } from "./EmulatorState.js"
import type { Outcome, RequestInfo } from "./internal/endpoint.js"
import { json } from "./internal/endpoint.js"
import { verify } from "./SigningKeys.js"

const unauthorized = (description: string): Outcome => ({
  response: json({ error: "invalid_token", error_description: description }, 401, {
    "www-authenticate": `Bearer error="invalid_token", error_description="${description}"`
  }),
  log: { error: "invalid_token" }
})

/**
 * Validates the bearer token (signature, `aud`, `exp`/`nbf` on the emulator clock, the required scope) and any
 * pending claims challenge, then answers with the caller's identity.
 *
 * @since 0.1.0
 * @category handlers
 */
export const me = (ctx: EmulatorContext, info: RequestInfo): Effect.Effect<Outcome> =>
  Effect.sync(() => {
    const auth = info.headers["authorization"]
    const token = typeof auth === "string" && /^bearer\s+/i.test(auth) ? auth.replace(/^bearer\s+/i, "").trim() : ""
    if (token.length === 0) {
      return {
        response: json({ error: "invalid_request", error_description: "no bearer token" }, 401, {
          "www-authenticate": `Bearer realm="", authorization_uri="${ctx.authority}/common/oauth2/v2.0/authorize"`
        }),
        log: { error: "invalid_request" }
      }
    }
    const verified = verify(ctx.signingKey, token)
    if (verified._tag === "Invalid") return unauthorized(verified.reason)
    const c = verified.claims
    const nowSec = Math.floor(info.trace.now / 1000)
    // An API accepts its App ID URI (v1 tokens) and its client id (v2 tokens) alike.
    const accepted = [ctx.config.resourceAudience, ctx.config.resourceAudience.replace(/^api:\/\//, "")]
    if (typeof c["aud"] !== "string" || !accepted.includes(c["aud"])) return unauthorized("the audience is invalid")
    if (typeof c["exp"] !== "number" || c["exp"] <= nowSec) return unauthorized("the token is expired")
    if (typeof c["nbf"] === "number" && c["nbf"] > nowSec + 300) return unauthorized("the token is not yet valid")
    const scp = typeof c["scp"] === "string" ? c["scp"].split(" ") : []
    if (!scp.includes(ctx.config.resourceScope)) {
      return {
        response: json({ error: "insufficient_scope" }, 403, {
          "www-authenticate": `Bearer error="insufficient_scope", scope="${ctx.config.resourceScope}"`
        }),
        log: { error: "insufficient_scope" }
      }
    }
    const challenge = ctx.state.challenge
    const seq = typeof c["uti"] === "string" ? ctx.state.tokenSeq.get(c["uti"]) : undefined
    if (challenge !== undefined && (seq === undefined || seq <= challenge.beforeSeq)) {
      const tid = typeof c["tid"] === "string" ? c["tid"] : "common"
      const header = `Bearer realm="", authorization_uri="${ctx.authority}/${tid}/oauth2/v2.0/authorize", ` +
        `error="insufficient_claims", claims="${Buffer.from(challenge.claims).toString("base64")}"`
      return {
        response: json({ error: "insufficient_claims" }, 401, { "www-authenticate": header }),
        log: { error: "insufficient_claims" }
      }
    }
    return {
      response: json({
        oid: c["oid"],
        name: c["name"],
        preferred_username: c["preferred_username"],
        tid: c["tid"],
        scp: c["scp"],
        ...(c["xms_cc"] === undefined ? {} : { xms_cc: c["xms_cc"] })
      }),
      log: { clientId: typeof c["azp"] === "string" ? c["azp"] : undefined }
    }
  })
