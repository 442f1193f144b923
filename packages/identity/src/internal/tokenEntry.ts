/**
 * From a token response to what the cache keeps and what callers get, and whom the response is for.
 *
 * @internal
 */
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type { AccessToken } from "../AccessToken.js"
import type * as TokenCache from "../TokenCache.js"
import * as TokenEndpoint from "../TokenEndpoint.js"
import type { TokenRequest } from "../TokenRequest.js"

/** @internal */
export const toEntry = (
  response: TokenEndpoint.TokenResponse,
  request: TokenRequest,
  homeAccountId: string
): TokenCache.AccessTokenEntry => ({
  token: response.accessToken,
  tokenType: response.tokenType,
  issuedOn: response.requestedOn,
  expiresOn: response.expiresOn,
  ...(response.refreshOn === undefined ? {} : { refreshOn: response.refreshOn }),
  scopes: request.scopeKey.split(" "),
  tenantId: request.tenantId,
  homeAccountId,
  cae: request.cae
})

/** @internal */
export const toAccessToken = (entry: TokenCache.AccessTokenEntry): AccessToken =>
  entry.refreshOn === undefined
    ? { token: entry.token, expiresOnTimestamp: entry.expiresOn, tokenType: entry.tokenType }
    : {
      token: entry.token,
      expiresOnTimestamp: entry.expiresOn,
      refreshAfterTimestamp: entry.refreshOn,
      tokenType: entry.tokenType
    }

/** @internal */
export interface Identity {
  readonly homeAccountId?: string | undefined
  readonly tenantId?: string | undefined
  readonly username?: string | undefined
  readonly name?: string | undefined
}

/** Who the response is for: `client_info` first (MSAL's home account id), else the ID token's `oid`/`tid`. */
export const identify = (response: TokenEndpoint.TokenResponse): Identity => {
  const claims = response.idToken === undefined ? undefined : decodeJwtPayload(Redacted.value(response.idToken))
  const username = stringClaim(claims, "preferred_username") ?? stringClaim(claims, "upn")
  const name = stringClaim(claims, "name")
  const fromClientInfo = TokenEndpoint.homeAccountIdFromClientInfo(response.clientInfo)
  if (Option.isSome(fromClientInfo)) return { ...fromClientInfo.value, username, name }
  const oid = stringClaim(claims, "oid")
  const tid = stringClaim(claims, "tid")
  if (oid !== undefined && tid !== undefined) return { homeAccountId: `${oid}.${tid}`, tenantId: tid, username, name }
  return { username, name }
}

// The ID token came straight from the token endpoint over TLS, so its claims are read without a signature check
// (OpenID Connect Core §3.1.3.7); they only name the account.
const decodeJwtPayload = (jwt: string): Record<string, unknown> | undefined => {
  const payload = jwt.split(".")[1]
  if (payload === undefined) return undefined
  try {
    const parsed = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as unknown
    return typeof parsed === "object" && parsed !== null ? parsed as Record<string, unknown> : undefined
  } catch {
    return undefined
  }
}

const stringClaim = (claims: Record<string, unknown> | undefined, name: string): string | undefined => {
  const value = claims?.[name]
  return typeof value === "string" && value !== "" ? value : undefined
}
