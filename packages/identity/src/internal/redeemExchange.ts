/**
 * The redemption itself, once the single flight and the fleet lease have let it through: the code goes to the
 * token endpoint, the answer names the account (from validated claims when the ID token is validated), and the
 * account, the first access token and the redemption record are written to the cache.
 *
 * @internal
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { AuthenticationError } from "../AuthenticationError.js"
import * as IdTokenValidator from "../IdTokenValidator.js"
import type { AccountInfo, Dependencies, RedeemClient, RedeemRequest, Redemption } from "../RedeemCode.js"
import type * as TokenEndpoint from "../TokenEndpoint.js"
import * as TokenRequest from "../TokenRequest.js"
import { clientParameters } from "./clientParameters.js"
import { spanned } from "./liveServices.js"
import { identify, type Identity, toEntry } from "./tokenEntry.js"

// A redeemed-code record outlives the code (Entra: about 10 minutes), so no process of the fleet retries it.
const redemptionTtl = Duration.minutes(15)

/** Whether the client's ID token is validated: when asked, or by default when a validator is at hand. */
const validatesFor = (validator: Option.Option<IdTokenValidator.Service>) => (client: RedeemClient) =>
  client.validateIdToken === true || (client.validateIdToken === undefined && Option.isSome(validator))

// The validated claims name the account; without validation, client_info and the decoded ID token do.
const identifyWith = (validator: Option.Option<IdTokenValidator.Service>) => {
  const validates = validatesFor(validator)
  return (
    input: RedeemRequest,
    response: TokenEndpoint.TokenResponse
  ): Effect.Effect<Identity, AuthenticationError> => {
    const { client, request } = input
    if (!validates(client) || Option.isNone(validator)) return Effect.succeed(identify(response))
    if (response.idToken === undefined) return Effect.fail(IdTokenValidator.missingIdToken())
    return Effect.map(
      validator.value.validate({
        idToken: response.idToken,
        authority: client.authority,
        tenantId: request.tenantId,
        clientId: client.clientId,
        nonce: client.nonce
      }),
      (claims) => IdTokenValidator.identityOf(claims, response.clientInfo)
    )
  }
}

const accountOf = (identity: Identity, request: TokenRequest.TokenRequest): AccountInfo => ({
  homeAccountId: identity.homeAccountId ?? `local-${crypto.randomUUID()}`,
  tenantId: identity.tenantId ?? request.tenantId,
  ...(identity.username === undefined ? {} : { username: identity.username }),
  ...(identity.name === undefined ? {} : { name: identity.name })
})

/** Sends the code and records what came back; `codeKey` (when the sign-in has a verifier) records the redemption. */
export const makeRedeemNow = ({ cache, clock, endpoint, validator }: Dependencies) => {
  const validates = validatesFor(validator)
  const identifyResponse = identifyWith(validator)
  return (input: RedeemRequest, codeKey: Option.Option<string>): Effect.Effect<Redemption, AuthenticationError> =>
    Effect.gen(function*() {
      const { client, request } = input
      // Checked before the code is sent: a sign-in that cannot be validated must not spend it.
      if (validates(client) && Option.isNone(validator)) return yield* IdTokenValidator.missingValidator()
      const response = yield* endpoint.redeemCode({
        ...clientParameters(client, request),
        code: input.code,
        redirectUri: client.redirectUri,
        codeVerifier: input.codeVerifier
      })
      const account = accountOf(yield* identifyResponse(input, response), request)
      const accountKey = TokenRequest.accountKey(client, account.homeAccountId)
      const previous = yield* cache.getAccount(accountKey)
      yield* cache.setAccount(accountKey, {
        homeAccountId: account.homeAccountId,
        authority: client.authority,
        clientId: client.clientId,
        tenantId: account.tenantId,
        ...(account.username === undefined ? {} : { username: account.username }),
        ...(account.name === undefined ? {} : { name: account.name }),
        ...(response.refreshToken === undefined ? {} : { refreshToken: response.refreshToken }),
        version: Option.match(previous, { onNone: () => 1, onSome: (entry) => entry.version + 1 }),
        updatedOn: clock.unsafeCurrentTimeMillis()
      })
      const key = TokenRequest.accessTokenKey(client, account.homeAccountId, request)
      const entry = toEntry(response, request, account.homeAccountId)
      yield* cache.setAccessToken(key, entry)
      if (Option.isSome(codeKey)) yield* cache.setRedemption(codeKey.value, account.homeAccountId, redemptionTtl)
      return { account, issued: { key, entry } } satisfies Redemption
    }).pipe(spanned("RedeemCode", () => ({
      // A span's stack trace is an Error per redemption; the span's name says where it comes from.
      captureStackTrace: false,
      attributes: {
        "entra.tenant_id": input.request.tenantId,
        "entra.scopes": input.request.scopeKey,
        "entra.grant_type": "authorization_code"
      }
    })))
}
