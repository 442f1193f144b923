/**
 * Headless sign-in through the real authorize endpoint (`prompt=none&login_hint=...`) over TLS.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Https from "node:https"
import type { Defaults, SignInOptions } from "../Emulator.js"
import { EmulatorError } from "./emulatorError.js"

/** @internal */
export const make = (authority: string, ca: string, defaults: Defaults) =>
  Effect.fn("Emulator.signIn")(function*(o: SignInOptions = {}) {
    const url = new URL(`${authority}/${o.tenantId ?? defaults.tenantId}/oauth2/v2.0/authorize`)
    const q = url.searchParams
    q.set("client_id", o.clientId ?? defaults.clientId)
    q.set("response_type", "code")
    q.set("redirect_uri", o.redirectUri ?? defaults.redirectUri)
    q.set("scope", (o.scopes ?? ["openid", "profile", "offline_access", defaults.scope]).join(" "))
    q.set("prompt", "none")
    q.set("login_hint", o.username ?? defaults.users[0]?.username ?? "")
    q.set("client_info", "1")
    if (o.state !== undefined) q.set("state", o.state)
    if (o.nonce !== undefined) q.set("nonce", o.nonce)
    if (o.claims !== undefined) q.set("claims", o.claims)
    if (o.codeChallenge !== undefined) {
      q.set("code_challenge", o.codeChallenge)
      q.set("code_challenge_method", o.codeChallengeMethod ?? "S256")
    }
    const location = yield* httpsGetLocation(url, ca)
    const back = new URL(location)
    const fields = back.hash.length > 1 && back.search.length === 0 ?
      new URLSearchParams(back.hash.slice(1)) :
      back.searchParams
    const code = fields.get("code")
    const clientInfo = fields.get("client_info")
    if (code === null || clientInfo === null) {
      const description = (fields.get("error_description") ?? "").split("\r\n")[0]
      return yield* new EmulatorError({
        reason: `sign-in failed: ${fields.get("error") ?? "no code in the redirect"}${
          description.length > 0 ? ` (${description})` : ""
        }`
      })
    }
    const info = JSON.parse(Buffer.from(clientInfo, "base64url").toString("utf8")) as { uid: string; utid: string }
    return { code, clientInfo, state: fields.get("state") ?? undefined, homeAccountId: `${info.uid}.${info.utid}` }
  })

// One GET without following redirects; the answer must be a 302 with a Location.
const httpsGetLocation = (url: URL, ca: string) =>
  Effect.async<string, EmulatorError>((resume) => {
    const req = Https.get(url, { ca, agent: false }, (res) => {
      res.resume()
      const location = res.headers.location
      if (res.statusCode === 302 && typeof location === "string") {
        resume(Effect.succeed(location))
      } else {
        resume(Effect.fail(
          new EmulatorError({
            reason: `sign-in failed: the authorize endpoint answered ${res.statusCode} without a redirect ` +
              "(unknown client or unregistered redirect URI?)"
          })
        ))
      }
    })
    req.on("error", (cause) =>
      resume(Effect.fail(new EmulatorError({ reason: `sign-in failed: ${cause.message}`, cause }))))
    return Effect.sync(() =>
      req.destroy()
    )
  })
