/**
 * Decoding of a 200 token response (RFC 6749 §5.1): the schema, and the checks of its numbers and lengths that
 * run before anything is cached.
 */
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type { TokenResponse } from "../TokenEndpoint.js"

// v1 endpoints and some proxies send numbers as strings; MSAL accepts both. Range checks follow below.
const NumberLike = Schema.Union(Schema.Number, Schema.NumberFromString)

const SuccessBody = Schema.Struct({
  access_token: Schema.optional(Schema.Redacted(Schema.String)),
  token_type: Schema.optional(Schema.String),
  expires_in: Schema.optional(NumberLike),
  expires_on: Schema.optional(NumberLike),
  ext_expires_in: Schema.optional(NumberLike),
  refresh_in: Schema.optional(NumberLike),
  refresh_token: Schema.optional(Schema.Redacted(Schema.String)),
  id_token: Schema.optional(Schema.Redacted(Schema.String)),
  scope: Schema.optional(Schema.String),
  client_info: Schema.optional(Schema.String)
})

type SuccessBody = typeof SuccessBody.Type

const decodeSuccess = Schema.decodeUnknownEither(SuccessBody, { errors: "all" })

/** Bounds on what a token response may say; each is documented in docs/errors.md. */
export const responseBounds = {
  /** Longest relative lifetime (`expires_in`, `ext_expires_in`, `refresh_in`): 3 days. Entra issues 60–90 min. */
  maxLifetimeSeconds: 3 * 24 * 3600,
  /**
   * Latest absolute expiry (`expires_on`) after the request: 30 days. Looser than the relative bound because it
   * counts on Entra's clock, which may run ahead of ours.
   */
  maxExpiresOnAheadSeconds: 30 * 24 * 3600,
  /** Longest access, ID or refresh token: 64 KiB. Entra's are a few KB; HTTP servers refuse headers of ~16 KB. */
  maxTokenLength: 64 * 1024
} as const

const isWhole = (value: number, min: number, max: number) => Number.isInteger(value) && value >= min && value <= max

/** The seconds field, checked; `undefined` when absent; a string describing the fault otherwise. */
const seconds = (
  name: string,
  value: number | undefined,
  max: number
): { readonly ok: number | undefined } | { readonly fault: string } =>
  value === undefined
    ? { ok: undefined }
    : isWhole(value, 1, max)
    ? { ok: value }
    : { fault: `${name} is not a whole number of seconds from 1 to ${max}` }

const tokenTypes: Record<string, string> = { bearer: "Bearer", pop: "pop" }

const tooLong = (token: Redacted.Redacted<string> | undefined) =>
  token !== undefined && Redacted.value(token).length > responseBounds.maxTokenLength

/** The expiry in epoch ms, or the reason there is none: `expires_on` wins over `expires_in`, as in MSAL. */
const expiryOf = (body: SuccessBody, requestedOn: number): Either.Either<number, string> => {
  const max = responseBounds.maxLifetimeSeconds
  const expiresIn = seconds("expires_in", body.expires_in, max)
  if ("fault" in expiresIn) return Either.left(expiresIn.fault)
  const extExpiresIn = seconds("ext_expires_in", body.ext_expires_in, max)
  if ("fault" in extExpiresIn) return Either.left(extExpiresIn.fault)
  if (body.expires_on !== undefined) {
    const latest = Math.floor(requestedOn / 1000) + responseBounds.maxExpiresOnAheadSeconds
    if (!isWhole(body.expires_on, 0, Number.MAX_SAFE_INTEGER)) {
      return Either.left("expires_on is not a whole number of epoch seconds")
    }
    if (body.expires_on * 1000 <= requestedOn) return Either.left("the token had expired on arrival (expires_on)")
    if (body.expires_on > latest) {
      return Either.left(`expires_on is more than ${responseBounds.maxExpiresOnAheadSeconds} s ahead`)
    }
    return Either.right(body.expires_on * 1000)
  }
  if (expiresIn.ok !== undefined) return Either.right(requestedOn + expiresIn.ok * 1000)
  return Either.left("neither expires_in nor expires_on")
}

const toTokenResponse = (body: SuccessBody, requestedOn: number): Either.Either<TokenResponse, string> => {
  if (body.access_token === undefined || Redacted.value(body.access_token).length === 0) {
    return Either.left("no access_token")
  }
  const long = [["access_token", body.access_token], ["refresh_token", body.refresh_token], [
    "id_token",
    body.id_token
  ]] as const
  for (const [name, token] of long) {
    if (tooLong(token)) return Either.left(`${name} is longer than ${responseBounds.maxTokenLength} characters`)
  }
  const tokenType = body.token_type === undefined ? "Bearer" : tokenTypes[body.token_type.toLowerCase()]
  if (tokenType === undefined) return Either.left("token_type is neither Bearer nor pop")
  const expiresOn = expiryOf(body, requestedOn)
  if (Either.isLeft(expiresOn)) return Either.left(expiresOn.left)
  const refreshIn = seconds("refresh_in", body.refresh_in, responseBounds.maxLifetimeSeconds)
  if ("fault" in refreshIn) return Either.left(refreshIn.fault)
  const refreshToken = body.refresh_token !== undefined && Redacted.value(body.refresh_token) !== ""
    ? body.refresh_token
    : undefined
  return Either.right({
    accessToken: body.access_token,
    tokenType,
    requestedOn,
    expiresOn: expiresOn.right,
    refreshOn: refreshIn.ok === undefined ? undefined : requestedOn + refreshIn.ok * 1000,
    refreshToken,
    idToken: body.id_token,
    scope: body.scope,
    clientInfo: body.client_info
  })
}

// Only the paths of failing fields: ParseError messages quote the actual values, which may be secrets.
const issuePaths = (error: ParseResult.ParseError): string => {
  const issues = ParseResult.ArrayFormatter.formatErrorSync(error)
  const paths = issues.map((issue) => (issue.path.length === 0 ? "(body)" : issue.path.join(".")))
  return `invalid ${Array.from(new Set(paths)).join(", ")}`
}

/**
 * Decodes and checks a 200 body (already parsed JSON, or `undefined` when it was not JSON). The failure is a
 * sentence that names fields, never their values.
 */
export const decodeTokenResponse = (body: unknown, requestedOn: number): Either.Either<TokenResponse, string> =>
  Either.flatMap(
    Either.mapLeft(decodeSuccess(body), issuePaths),
    (success) => toTokenResponse(success, requestedOn)
  )
