/**
 * Validates the ID token a code's redemption returns, so that the account a credential reports is the one Entra
 * signed for this client and this sign-in: the signature against the tenant's published keys, `iss` (Entra's
 * `{tenantid}` template for `common` and `organizations`, matched against `tid`), `aud` = the client, `exp`,
 * `nbf` and `iat` within a clock skew, and the `nonce` of the authorize request when the caller gives one.
 *
 * Discovery (`/{tenant}/v2.0/.well-known/openid-configuration`) and the keys (`jwks_uri`) are fetched once per
 * authority and tenant and kept (a bounded number of tenants); a token signed with a key not among them fetches
 * the keys again (Entra rolls its keys), at most once per `keysRefreshInterval`. Access tokens are not validated:
 * they are for the resource, and opaque to clients.
 *
 * ```ts
 * // The credential builds one on its HttpClient; provide your own to share its key cache or change settings.
 * Layer.provide(AuthorizationCodeCredential.layer({ ...options, nonce }), IdTokenValidator.layer({ clockSkew: "1 minute" }))
 * ```
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { AuthenticationError, InvalidOptionError } from "./AuthenticationError.js"
import { checkClaims, checkHeader, checkSignature, parse } from "./internal/idTokenChecks.js"
import { spanned } from "./internal/liveServices.js"
import * as OpenIdKeys from "./internal/openIdKeys.js"
import { homeAccountIdFromClientInfo } from "./TokenEndpoint.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** How far `exp`, `nbf` and `iat` may be off the local clock. Default 5 minutes. */
  readonly clockSkew?: Duration.DurationInput | undefined
  /** The least time between two fetches of a tenant's keys for an unknown `kid`. Default 1 minute. */
  readonly keysRefreshInterval?: Duration.DurationInput | undefined
  /** How many authority and tenant pairs keep their keys. Default 64. */
  readonly maxTenants?: number | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface ValidateRequest {
  readonly idToken: Redacted.Redacted<string>
  /** Normalised authority (`https://host`). */
  readonly authority: string
  /** The tenant the code was redeemed at: a GUID, a domain, or common/organizations/consumers. */
  readonly tenantId: string
  readonly clientId: string
  /** The nonce of the authorize request; when given, the token must carry it. */
  readonly nonce?: string | undefined
}

/**
 * The validated claims (the token's payload).
 *
 * @since 0.1.0
 * @category models
 */
export interface IdTokenClaims {
  readonly tid: string
  readonly [claim: string]: unknown
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  readonly validate: (request: ValidateRequest) => Effect.Effect<IdTokenClaims, AuthenticationError>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class IdTokenValidator extends Context.Tag("@effect-entra/identity/IdTokenValidator")<
  IdTokenValidator,
  Service
>() {}

/**
 * A redemption without an ID token, when one must be validated (`openid` is always asked for).
 *
 * @since 0.1.0
 * @category errors
 */
export const missingIdToken = (): AuthenticationError => invalid("the answer holds no ID token to validate")

/**
 * Validation was asked for, but no validator was provided: the sign-in fails closed, before the code is sent.
 *
 * @since 0.1.0
 * @category errors
 */
export const missingValidator = (): AuthenticationError =>
  invalid(
    "the ID token must be validated, but no IdTokenValidator was provided, so the code was not sent: provide " +
      "IdTokenValidator.layer(), or set validateIdToken: false"
  )

const claim = (claims: IdTokenClaims, name: string) =>
  typeof claims[name] === "string" && claims[name] !== "" ? claims[name] as string : undefined

/**
 * Who signed in, by the validated claims: the home account id from `client_info` (MSAL's `{uid}.{utid}`) when
 * Entra sent it, else `{oid}.{tid}`; the tenant is the token's `tid`.
 *
 * @since 0.1.0
 * @category accessors
 */
export const identityOf = (
  claims: IdTokenClaims,
  clientInfo: string | undefined
): {
  readonly homeAccountId?: string | undefined
  readonly tenantId: string
  readonly username?: string | undefined
  readonly name?: string | undefined
} => {
  const home = homeAccountIdFromClientInfo(clientInfo)
  const oid = claim(claims, "oid")
  return {
    homeAccountId: Option.isSome(home)
      ? home.value.homeAccountId
      : oid === undefined
      ? undefined
      : `${oid}.${claims.tid}`,
    tenantId: claims.tid,
    username: claim(claims, "preferred_username") ?? claim(claims, "upn"),
    name: claim(claims, "name")
  }
}

function invalid(description: string, cause?: unknown): AuthenticationError {
  return new AuthenticationError({
    reason: "InvalidIdToken",
    statusCode: 0,
    grantType: "authorization_code",
    errorResponse: { error: "invalid_id_token", errorDescription: description },
    ...(cause === undefined ? {} : { cause })
  })
}

const validateSpan = () => ({ captureStackTrace: false })

const duration = (field: string, input: Duration.DurationInput) =>
  Option.match(Duration.decodeUnknown(input), {
    onNone: () => Effect.fail(new InvalidOptionError({ field, reason: "not a duration" })),
    onSome: (value) => Effect.succeed(Duration.toMillis(value))
  })

/**
 * Builds a validator on the `HttpClient` in the context (discovery and keys are fetched with it).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options = {}): Effect.Effect<Service, InvalidOptionError, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const skewMs = yield* duration("clockSkew", options.clockSkew ?? "5 minutes")
    const refreshIntervalMs = yield* duration("keysRefreshInterval", options.keysRefreshInterval ?? "1 minute")
    const maxTenants = options.maxTenants ?? 64
    if (!Number.isInteger(maxTenants) || maxTenants < 1) {
      return yield* new InvalidOptionError({ field: "maxTenants", reason: "must be a whole number of at least 1" })
    }
    const client = (yield* HttpClient.HttpClient).pipe(HttpClient.withTracerPropagation(false))
    const keys = OpenIdKeys.make(client, { refreshIntervalMs, maxTenants })

    const validate = (request: ValidateRequest) =>
      Effect.gen(function*() {
        const parsed = parse(Redacted.value(request.idToken))
        if (parsed === undefined) return yield* invalid("the ID token is not a signed JWT")
        const header = checkHeader(parsed)
        if (header !== undefined) return yield* invalid(header)
        const kid = parsed.header.kid as string
        const tenant = yield* keys.keysFor(request.authority, request.tenantId, kid).pipe(
          Effect.mapError((error) => invalid(`the tenant's signing keys could not be fetched: ${error.message}`, error))
        )
        const signature = checkSignature(parsed, tenant.keys.get(kid))
        if (signature !== undefined) return yield* invalid(signature)
        const claims = checkClaims(parsed.claims, {
          issuer: tenant.issuer,
          clientId: request.clientId,
          nonce: request.nonce,
          nowMs: yield* Clock.currentTimeMillis,
          skewMs
        })
        if (claims !== undefined) return yield* invalid(claims)
        return parsed.claims as IdTokenClaims
      }).pipe(spanned("IdTokenValidator.validate", validateSpan))

    return IdTokenValidator.of({ validate })
  })

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options = {}
): Layer.Layer<IdTokenValidator, InvalidOptionError, HttpClient.HttpClient> =>
  Layer.effect(IdTokenValidator, make(options))
