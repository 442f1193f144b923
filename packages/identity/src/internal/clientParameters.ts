/**
 * What every token request of a credential's client sends for one `TokenRequest`, whatever its grant.
 */
import type { ClientParameters } from "../TokenEndpoint.js"
import type * as TokenRequest from "../TokenRequest.js"

/** The client (authority, id, secret) and the request's tenant, scopes and claims. */
export const clientParameters = (
  client: TokenRequest.Client,
  request: TokenRequest.TokenRequest
): ClientParameters => ({
  authority: client.authority,
  tenantId: request.tenantId,
  clientId: client.clientId,
  clientSecret: client.clientSecret,
  scopes: request.scopes,
  claims: request.claims
})
