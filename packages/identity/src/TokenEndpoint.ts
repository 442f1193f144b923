/**
 * The HTTP step: redeem an authorization code or a refresh token at Entra's v2.0 token endpoint.
 *
 * Each call is one span. Requests are form-encoded (RFC 6749 §4.1.3, §6); response bodies are read up to a cap,
 * decoded with Schema and checked (lifetimes, token lengths) before anything trusts them. Transport errors,
 * time-outs, 408, 429 and 5xx (but 501 and 505) are retried on a replaceable `Schedule` (by default jittered
 * exponential backoff, honouring `Retry-After`), all within one deadline; every other answer fails at once with
 * an {@link AuthenticationError} carrying Entra's allow-listed error fields.
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import type { AuthenticationError, GrantType } from "./AuthenticationError.js"
import { InvalidOptionError } from "./AuthenticationError.js"
import { type ResolvedHttpOptions, resolveHttpOptions } from "./internal/httpOptions.js"
import { spanned } from "./internal/liveServices.js"
import { dispatcherOf } from "./internal/poolDispatchers.js"
import { makeExchange } from "./internal/tokenExchange.js"
import { measured } from "./internal/tokenExchangeParts.js"
import { makeRetrySchedule } from "./internal/tokenRetry.js"

export {
  /**
   * Replaces token-like values with `***` and truncates (a deny-list scrub, for texts this package does not
   * parse, such as another library's error messages). Token responses are never kept this way.
   *
   * @since 0.1.0
   * @category internals
   */
  scrubBody
} from "./internal/scrubBody.js"

/**
 * A failed attempt that may be retried: the input of the retry schedule.
 *
 * @since 0.1.0
 * @category models
 */
export interface RetryableFailure {
  readonly grantType: GrantType
  /** The attempt that failed, from 1. */
  readonly attempt: number
  /**
   * No HTTP answer, no complete answer in time, a retryable status (408, 429, 5xx), or (refresh grant only) a 200
   * cut off or unusable (`IncompleteBody`: no token, impossible lifetimes).
   */
  readonly kind: "Transport" | "Timeout" | "Status" | "IncompleteBody"
  readonly status?: number | undefined
  /** The server's `Retry-After` (or `retry-after-ms`), in ms. */
  readonly retryAfterMs?: number | undefined
}

/**
 * When to retry a token request, and after how long. It is fed each {@link RetryableFailure}; its delays are
 * slept on the Effect clock. Failures that cannot succeed on retry (an OAuth error, a rejected certificate, a
 * body over the cap) never reach it, and no wait that would end past the deadline is started.
 *
 * @since 0.1.0
 * @category models
 */
export type RetrySchedule = Schedule.Schedule<unknown, RetryableFailure>

/**
 * Retry, time-out and size settings. Each is checked when the endpoint is built: a value that is not finite,
 * negative or out of bounds is an `InvalidOptionError` (bounds in docs/errors.md).
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Attempts in all, the first included: 1 to 10. Default 4. Ignored when `retrySchedule` is given. */
  readonly maxAttempts?: number | undefined
  /** The first backoff delay; it doubles each retry, with jitter between 50% and 100%. Default 800 ms. */
  readonly baseDelay?: Duration.DurationInput | undefined
  /** The largest backoff delay. Default 30 s. */
  readonly maxDelay?: Duration.DurationInput | undefined
  /** The longest `Retry-After` waited for; a longer one fails at once with the 429/503. Default 60 s. */
  readonly maxRetryAfter?: Duration.DurationInput | undefined
  /** Time-out of one attempt: connect, headers and body. Default 30 s, at most 10 minutes. */
  readonly requestTimeout?: Duration.DurationInput | undefined
  /**
   * One deadline for the whole request: every attempt and every wait. Default 60 s, or `requestTimeout` when
   * that is longer; at most 1 hour. Passing it fails with `DeadlineExceeded`.
   */
  readonly deadline?: Duration.DurationInput | undefined
  /** The largest response body read, in bytes: 1 KiB to 64 MiB. Default 1 MiB. Beyond: `ResponseTooLarge`. */
  readonly maxResponseBytes?: number | undefined
  /** Replaces the default retry policy ({@link defaultRetrySchedule} built from the settings above). */
  readonly retrySchedule?: RetrySchedule | undefined
}

/**
 * What every token request names.
 *
 * @since 0.1.0
 * @category models
 */
export interface ClientParameters {
  readonly authority: string
  readonly tenantId: string
  readonly clientId: string
  readonly clientSecret?: Redacted.Redacted<string> | undefined
  /**
   * Yields a `client_assertion` (a JWT signed with a certificate, or a federated token) for a request to the token
   * endpoint URL it is given; called once per token request. See `ClientCredential`.
   */
  readonly clientAssertion?:
    | ((audience: string) => Effect.Effect<Redacted.Redacted<string>, AuthenticationError>)
    | undefined
  /** The resource scopes; `openid profile offline_access` are added to every request. */
  readonly scopes: ReadonlyArray<string>
  /** A claims request (JSON text), e.g. with the `cp1` capability merged in. */
  readonly claims?: string | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface RedeemCodeRequest extends ClientParameters {
  readonly code: Redacted.Redacted<string>
  readonly redirectUri: string
  readonly codeVerifier?: Redacted.Redacted<string> | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface RefreshRequest extends ClientParameters {
  readonly refreshToken: Redacted.Redacted<string>
}

/**
 * A decoded, checked token response.
 *
 * @since 0.1.0
 * @category models
 */
export interface TokenResponse {
  readonly accessToken: Redacted.Redacted<string>
  /** `Bearer` or `pop`, as Entra sent it (other types are refused). */
  readonly tokenType: string
  /** Epoch ms when the successful attempt was sent; lifetimes count from here. */
  readonly requestedOn: number
  /** Epoch ms. From `expires_on` when present, else `requestedOn + expires_in`. */
  readonly expiresOn: number
  /** Epoch ms from `refresh_in`. */
  readonly refreshOn?: number | undefined
  readonly refreshToken?: Redacted.Redacted<string> | undefined
  readonly idToken?: Redacted.Redacted<string> | undefined
  readonly scope?: string | undefined
  readonly clientInfo?: string | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  readonly redeemCode: (request: RedeemCodeRequest) => Effect.Effect<TokenResponse, AuthenticationError>
  readonly redeemRefreshToken: (request: RefreshRequest) => Effect.Effect<TokenResponse, AuthenticationError>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class TokenEndpoint extends Context.Tag("@effect-entra/identity/TokenEndpoint")<TokenEndpoint, Service>() {}

/** The OIDC scopes MSAL adds to every request: an ID token, `client_info` and a refresh token. */
const oidcScopes = ["openid", "profile", "offline_access"]

/**
 * The default retry policy: up to 4 attempts; before each retry, exactly the server's `Retry-After` when it is at
 * most 60 s (a longer one stops retrying), else 800 ms doubling per retry up to 30 s, times a random factor in
 * [0.5, 1). Compose it (`Schedule.intersect`, `Schedule.whileInput`) or replace it with `retrySchedule`.
 *
 * @since 0.1.0
 * @category retry
 */
export const defaultRetrySchedule: RetrySchedule = makeRetrySchedule({
  maxAttempts: 4,
  baseDelayMs: 800,
  maxDelayMs: 30_000,
  maxRetryAfterMs: 60_000
})

/**
 * Checks the options; the Promise facade and `make` report what this returns.
 *
 * @since 0.1.0
 * @category validation
 */
export const validateOptions = (options: Options | undefined): Either.Either<ResolvedHttpOptions, InvalidOptionError> =>
  Either.flatMap(
    resolveHttpOptions(options),
    (resolved) =>
      options?.retrySchedule !== undefined && !Schedule.isSchedule(options.retrySchedule)
        ? Either.left(new InvalidOptionError({ field: "retrySchedule", reason: "must be a Schedule" }))
        : Either.right(resolved)
  )

const baseForm = (parameters: ClientParameters, grantType: GrantType): Record<string, string> => {
  const form: Record<string, string> = {
    client_id: parameters.clientId,
    grant_type: grantType,
    scope: [...parameters.scopes, ...oidcScopes].join(" "),
    // MSAL's extension: Entra answers with client_info, which identifies the account ({uid}.{utid}).
    client_info: "1"
  }
  if (parameters.clientSecret !== undefined) form.client_secret = Redacted.value(parameters.clientSecret)
  if (parameters.claims !== undefined) form.claims = parameters.claims
  return form
}

const spanOptions = (parameters: ClientParameters, grantType: GrantType) => ({
  captureStackTrace: false,
  attributes: {
    "entra.tenant_id": parameters.tenantId,
    "entra.client_id": parameters.clientId,
    "entra.grant_type": grantType,
    "entra.scopes": parameters.scopes.join(" "),
    "entra.claims": parameters.claims !== undefined
  }
})

/**
 * Builds the token endpoint on the `HttpClient` in the context. Fails with an `InvalidOptionError` when an option
 * is out of bounds; nothing is sent then.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options = {}): Effect.Effect<Service, InvalidOptionError, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const settings = yield* validateOptions(options)
    // Trace context stays inside our process: Entra is a third party.
    const given = yield* HttpClient.HttpClient
    const client = given.pipe(HttpClient.withTracerPropagation(false))
    const schedule = options.retrySchedule ?? makeRetrySchedule(settings)
    const exchange = makeExchange(client, settings, schedule, dispatcherOf(given))

    const redeemCode = (request: RedeemCodeRequest) =>
      Effect.suspend(() => {
        const form = baseForm(request, "authorization_code")
        form.code = Redacted.value(request.code)
        form.redirect_uri = request.redirectUri
        if (request.codeVerifier !== undefined) form.code_verifier = Redacted.value(request.codeVerifier)
        return exchange("authorization_code", request, form).pipe(measured("authorization_code"))
      }).pipe(spanned("TokenEndpoint.redeemCode", () => spanOptions(request, "authorization_code")))

    const redeemRefreshToken = (request: RefreshRequest) =>
      Effect.suspend(() => {
        const form = baseForm(request, "refresh_token")
        form.refresh_token = Redacted.value(request.refreshToken)
        return exchange("refresh_token", request, form).pipe(measured("refresh_token"))
      }).pipe(spanned("TokenEndpoint.redeemRefreshToken", () => spanOptions(request, "refresh_token")))

    return TokenEndpoint.of({ redeemCode, redeemRefreshToken })
  })

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<TokenEndpoint, InvalidOptionError, HttpClient.HttpClient> =>
  Layer.effect(TokenEndpoint, make(options))

/** Parses Entra's `client_info` (base64url JSON `{uid, utid}`) into a home account id `uid.utid`. */
export const homeAccountIdFromClientInfo = (clientInfo: string | undefined): Option.Option<{
  readonly homeAccountId: string
  readonly tenantId: string
}> => {
  if (clientInfo === undefined) return Option.none()
  try {
    const parsed = JSON.parse(Buffer.from(clientInfo, "base64url").toString("utf8")) as unknown
    if (typeof parsed === "object" && parsed !== null) {
      const { uid, utid } = parsed as { readonly uid?: unknown; readonly utid?: unknown }
      if (typeof uid === "string" && typeof utid === "string" && uid !== "" && utid !== "") {
        return Option.some({ homeAccountId: `${uid}.${utid}`, tenantId: utid })
      }
    }
  } catch {
    // fall through: an undecodable client_info identifies nobody
  }
  return Option.none()
}
