/**
 * The front-channel half of the authorization-code flow: PKCE, `state` and `nonce`, the authorize URL, and the
 * parsing of the redirect that comes back to a loopback receiver.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import { createHash, randomBytes, timingSafeEqual } from "node:crypto"

/**
 * A PKCE pair (RFC 7636): the verifier stays in the process, only the S256 challenge goes to `/authorize`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Pkce {
  readonly codeVerifier: Redacted.Redacted<string>
  readonly codeChallenge: string
  readonly codeChallengeMethod: "S256"
}

/**
 * The S256 challenge of a verifier: BASE64URL(SHA256(ASCII(verifier))) without padding (RFC 7636 §4.2).
 *
 * @since 0.1.0
 * @category constructors
 */
export const codeChallengeS256 = (codeVerifier: string): string =>
  createHash("sha256").update(codeVerifier, "ascii").digest("base64url")

/**
 * A fresh PKCE pair: 32 random bytes as base64url give a 43-character verifier from the unreserved set
 * (RFC 7636 §4.1). `bytes` (32 to 96) makes it longer.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makePkce = (bytes = 32): Pkce => {
  const size = Math.min(96, Math.max(32, Math.floor(bytes)))
  const verifier = randomBytes(size).toString("base64url")
  return {
    codeVerifier: Redacted.make(verifier),
    codeChallenge: codeChallengeS256(verifier),
    codeChallengeMethod: "S256"
  }
}

/**
 * A one-time random value for `state` (CSRF defence) or `nonce`: 128 bits, base64url.
 *
 * @since 0.1.0
 * @category constructors
 */
export const randomValue = (): string => randomBytes(16).toString("base64url")

/**
 * @since 0.1.0
 * @category models
 */
export interface AuthorizeUrlOptions {
  /** The authority host, e.g. `https://login.microsoftonline.com`. */
  readonly authority: string
  /** A tenant GUID or domain, or `common` / `organizations` / `consumers`. */
  readonly tenantId: string
  readonly clientId: string
  /** Sent byte for byte; the same string must be used when the code is redeemed. */
  readonly redirectUri: string
  readonly scopes: ReadonlyArray<string>
  readonly state: string
  readonly nonce: string
  readonly codeChallenge: string
  readonly prompt?: "login" | "none" | "consent" | "select_account" | undefined
  readonly loginHint?: string | undefined
  readonly responseMode?: "query" | "form_post" | "fragment" | undefined
  /** A claims request (JSON), e.g. from a 50076/50079 error or a CAE challenge, so the sign-in satisfies it. */
  readonly claims?: string | undefined
}

/**
 * The `/authorize` URL for a code request with PKCE S256, `client_info=1` (MSAL's extension, so the redirect
 * names the home account) and the given `state` and `nonce`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const authorizeUrl = (options: AuthorizeUrlOptions): URL => {
  const base = options.authority.replace(/\/+$/, "")
  const url = new URL(`${base}/${encodeURIComponent(options.tenantId)}/oauth2/v2.0/authorize`)
  const params = url.searchParams
  params.set("client_id", options.clientId)
  params.set("response_type", "code")
  params.set("redirect_uri", options.redirectUri)
  params.set("scope", options.scopes.join(" "))
  params.set("state", options.state)
  params.set("nonce", options.nonce)
  params.set("code_challenge", options.codeChallenge)
  params.set("code_challenge_method", "S256")
  params.set("client_info", "1")
  if (options.responseMode !== undefined) params.set("response_mode", options.responseMode)
  if (options.prompt !== undefined) params.set("prompt", options.prompt)
  if (options.loginHint !== undefined) params.set("login_hint", options.loginHint)
  if (options.claims !== undefined && options.claims !== "") params.set("claims", options.claims)
  return url
}

/**
 * A redirect that carries a code for this transaction.
 *
 * @since 0.1.0
 * @category models
 */
export interface AuthorizationRedirect {
  readonly code: Redacted.Redacted<string>
  readonly state: string
  /** base64url JSON `{uid, utid}`, present when `client_info=1` was sent. */
  readonly clientInfo?: string | undefined
}

/**
 * Why a redirect was not accepted. `StateMismatch` covers a missing `state` too; `ErrorResponse` is an
 * `error=...` redirect from the authorization server (RFC 6749 §4.1.2.1). Never holds the code.
 *
 * @since 0.1.0
 * @category errors
 */
export class AuthorizationRedirectError extends Data.TaggedError("AuthorizationRedirectError")<{
  readonly reason: "StateMismatch" | "MissingCode" | "ErrorResponse"
  readonly error?: string | undefined
  readonly errorDescription?: string | undefined
}> {
  override get message(): string {
    switch (this.reason) {
      case "StateMismatch":
        return "the redirect's state does not match this sign-in (ignored)"
      case "MissingCode":
        return "the redirect carries no authorization code"
      case "ErrorResponse": {
        const description = this.errorDescription?.split(/\r?\n/)[0]?.trim()
        return `sign-in failed: ${this.error ?? "unknown_error"}${
          description !== undefined && description.length > 0 ? ` (${description})` : ""
        }`
      }
    }
  }
}

const sameValue = (a: string, b: string): boolean => {
  const left = Buffer.from(a)
  const right = Buffer.from(b)
  return left.length === right.length && timingSafeEqual(left, right)
}

/**
 * Parses the redirect a loopback receiver got. `state` is checked first, so an error redirect with a foreign
 * or missing `state` is a `StateMismatch` (a forged request must not end the sign-in).
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseRedirect = (
  url: URL | string,
  expectedState: string
): Either.Either<AuthorizationRedirect, AuthorizationRedirectError> => {
  // An address that does not parse has no state to check: like a missing state, it is not this sign-in's.
  if (typeof url === "string" && !URL.canParse(url, "http://127.0.0.1")) {
    return Either.left(new AuthorizationRedirectError({ reason: "StateMismatch" }))
  }
  const parsed = typeof url === "string" ? new URL(url, "http://127.0.0.1") : url
  const params = parsed.searchParams
  const state = params.get("state")
  if (state === null || !sameValue(state, expectedState)) {
    return Either.left(new AuthorizationRedirectError({ reason: "StateMismatch" }))
  }
  const error = params.get("error")
  if (error !== null) {
    return Either.left(
      new AuthorizationRedirectError({
        reason: "ErrorResponse",
        error,
        errorDescription: params.get("error_description") ?? undefined
      })
    )
  }
  const code = params.get("code")
  if (code === null || code.length === 0) {
    return Either.left(new AuthorizationRedirectError({ reason: "MissingCode" }))
  }
  const clientInfo = params.get("client_info")
  return Either.right({
    code: Redacted.make(code),
    state,
    ...(clientInfo !== null ? { clientInfo } : {})
  })
}
