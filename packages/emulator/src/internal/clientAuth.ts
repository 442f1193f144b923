/**
 * Client authentication at the token endpoint: a secret (body or HTTP Basic), a certificate assertion, or none for
 * a public client, with Entra's errors for each mismatch.
 *
 * @internal
 */
import * as Crypto from "node:crypto"
import type { App } from "../EmulatorConfig.js"
import type { EmulatorContext } from "../EmulatorState.js"
import type { AuthMethod } from "../TokenIssuer.js"
import * as ClientAssertion from "./clientAssertion.js"
import { param } from "./endpoint.js"
import type { EntraError } from "./entraError.js"
import { Errors } from "./errorCatalog.js"

const timingSafeEqual = (a: string, b: string) => {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && Crypto.timingSafeEqual(x, y)
}

/** @internal */
export const basicCredentials = (header: unknown): { id: string; secret: string } | undefined => {
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

/** @internal */
export type ClientAuthentication =
  | { readonly _tag: "Ok"; readonly method: AuthMethod }
  | { readonly _tag: "Fail"; readonly error: EntraError }

const fail = (error: EntraError): ClientAuthentication => ({ _tag: "Fail", error })

/**
 * Authenticates the client of a token request. `audiences` are the token endpoint URLs a client assertion may
 * name in `aud`.
 *
 * @internal
 */
export const authenticate = (
  ctx: EmulatorContext,
  app: App,
  p: URLSearchParams,
  basicSecret: string | undefined,
  audiences: ReadonlyArray<string>,
  now: number
): ClientAuthentication => {
  const secret = param(p, "client_secret") ?? basicSecret
  const assertion = param(p, "client_assertion")
  if (app.type !== "web") {
    return secret !== undefined || assertion !== undefined ?
      fail(Errors.publicClientSecret()) :
      { _tag: "Ok", method: "0" }
  }
  if (secret === undefined && assertion === undefined) return fail(Errors.missingSecret())
  if (secret !== undefined) {
    return app.secrets.some((s) => timingSafeEqual(s, secret)) ?
      { _tag: "Ok", method: "1" } :
      fail(Errors.invalidSecret(app.clientId))
  }
  if (param(p, "client_assertion_type") !== ClientAssertion.assertionType) {
    return fail(Errors.missingParameter("client_assertion_type"))
  }
  const invalid = ClientAssertion.validate(ctx, app, assertion!, audiences, now)
  return invalid === undefined ? { _tag: "Ok", method: "2" } : fail(invalid)
}
