/**
 * An `HttpClient` that signs its requests: `Authorization: Bearer <token>` from the `TokenCredential`, for the
 * configured scopes, fetched on every request (the credential caches).
 *
 * - **Host safety.** The token goes only to the allowed hosts (by default the hosts named by the scopes), only over
 *   https (plain http only to loopback), and never across a redirect to another origin. A request to any other
 *   host fails with {@link AuthenticatedHttpClientError} before a token is fetched or a byte is sent.
 * - **Claims challenges (CAE).** A `401` with `error="insufficient_claims"` is answered once: the claims are
 *   decoded, a token with them is fetched, the request is sent again. A second `401` is returned as it is.
 * - **No secret escapes.** The token stays `Redacted` until the header is built; responses and errors handed back
 *   carry the request without the `Authorization` header.
 *
 * ```ts
 * const program = Effect.gen(function*() {
 *   const graph = yield* AuthenticatedHttpClient.AuthenticatedHttpClient
 *   const me = yield* graph.get("https://graph.microsoft.com/v1.0/me")
 *   return yield* me.json
 * }).pipe(Effect.provide(AuthenticatedHttpClient.layer({ scopes: ["https://graph.microsoft.com/User.Read"] })))
 * ```
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { dual } from "effect/Function"
import * as Layer from "effect/Layer"
import type { InvalidOptionError, TokenError } from "./AuthenticationError.js"
import * as ClaimsChallenges from "./internal/claimsChallenge.js"
import { makeSignedClient } from "./internal/signedClient.js"
import { AuthenticatedHttpClientError } from "./internal/signingError.js"
import { validateSigningOptions } from "./internal/signingOptions.js"
import * as SigningTarget from "./internal/signingTarget.js"
import { TokenCredential } from "./TokenCredential.js"
import type { Service as TokenCredentialService } from "./TokenCredential.js"

// --- models ------------------------------------------------------------------------------------------------------

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The scopes of the token, e.g. `["https://graph.microsoft.com/User.Read"]`. At least one. */
  readonly scopes: string | ReadonlyArray<string>
  /**
   * The hosts the token may be sent to: `host`, `host:port`, `*.domain` (any subdomain, not the domain itself) or
   * an origin such as `https://host:8443`. Without a port an entry allows the scheme's default port only.
   * Default: the hosts of the scopes' resource URIs (`https://graph.microsoft.com/.default` → `graph.microsoft.com`);
   * required when a scope names no https resource (`api://...`, a GUID, a bare `User.Read`).
   */
  readonly allowedHosts?: ReadonlyArray<string> | undefined
  /** Ask for CAE tokens (client capability `cp1`). Default `true`: this client answers claims challenges. */
  readonly enableCae?: boolean | undefined
  /** The tenant to ask tokens for; default: the credential's. */
  readonly tenantId?: string | undefined
  /** How many redirects to follow (the token never crosses to another origin). Default 10; 0 returns the 3xx. */
  readonly maxRedirects?: number | undefined
}

/**
 * A host the token may be sent to, after validation.
 *
 * @since 0.1.0
 * @category models
 */
export interface HostPattern {
  /** Lower-case, as `URL.hostname` writes it (IPv6 in brackets). */
  readonly hostname: string
  /** `undefined`: the default port of the request's scheme. */
  readonly port: number | undefined
  /** `*.hostname`: any subdomain of `hostname`, not `hostname` itself. */
  readonly subdomains: boolean
}

/**
 * The options after validation.
 *
 * @since 0.1.0
 * @category models
 */
export interface Settings {
  readonly scopes: ReadonlyArray<string>
  readonly allowedHosts: ReadonlyArray<HostPattern>
  readonly enableCae: boolean
  readonly tenantId: string | undefined
  readonly maxRedirects: number
}

/**
 * Why a request was refused before anything was sent.
 *
 * - `InvalidUrl`: not an absolute http(s) URL (apply `prependUrl` to the signed client, not to the wrapped one).
 * - `HostNotAllowed`: the host (and port) is not in `allowedHosts`.
 * - `InsecureTransport`: plain http to a host that is not loopback (`localhost`, `127.0.0.0/8`, `[::1]`).
 *
 * @since 0.1.0
 * @category models
 */
export type Reason = "InvalidUrl" | "HostNotAllowed" | "InsecureTransport"

export {
  /**
   * @since 0.1.0
   * @category errors
   */
  AuthenticatedHttpClientError
}

/**
 * What a signed request can fail with: the wrapped client's errors, a refusal, or the credential's error (an
 * `AuthenticationError` whose `isInteractionRequired` says when the user must sign in again).
 *
 * @since 0.1.0
 * @category errors
 */
export type ClientError = HttpClientError.HttpClientError | SigningError

/**
 * The errors a signed client adds to the wrapped client's.
 *
 * @since 0.1.0
 * @category errors
 */
export type SigningError = AuthenticatedHttpClientError | TokenError

/**
 * @since 0.1.0
 * @category tags
 */
export class AuthenticatedHttpClient extends Context.Tag("@effect-entra/identity/AuthenticatedHttpClient")<
  AuthenticatedHttpClient,
  HttpClient.HttpClient.With<ClientError>
>() {}

// --- validation --------------------------------------------------------------------------------------------------

/**
 * Validates options synchronously; nothing here touches the network.
 *
 * @since 0.1.0
 * @category validation
 */
export const validateOptions: (options: Options) => Either.Either<Settings, InvalidOptionError> = validateSigningOptions

// --- host rules --------------------------------------------------------------------------------------------------

/**
 * Loopback per RFC 8252 §8.3 and RFC 6761: `localhost`, `127.0.0.0/8`, `[::1]` (on a normalised `URL.hostname`).
 *
 * @since 0.1.0
 * @category host rules
 */
export const isLoopback: (hostname: string) => boolean = SigningTarget.isLoopback

/**
 * Whether the token may be sent to `url` under `settings`' allow-list (scheme rules aside).
 *
 * @since 0.1.0
 * @category host rules
 */
export const isHostAllowed: (allowedHosts: ReadonlyArray<HostPattern>, url: URL) => boolean =
  SigningTarget.isHostAllowed

// --- claims challenges -------------------------------------------------------------------------------------------

/**
 * What a `401`'s `WWW-Authenticate` asks for.
 *
 * - `None`: no `Bearer` challenge with `error="insufficient_claims"`; an ordinary 401.
 * - `Invalid`: such a challenge, but `claims` is missing or not base64 of a JSON object.
 * - `Claims`: the decoded claims request, and the tenant `authorization_uri` names (not common/organizations/
 *   consumers), if any.
 *
 * @since 0.1.0
 * @category models
 */
export type ClaimsChallenge =
  | { readonly _tag: "None" }
  | { readonly _tag: "Invalid" }
  | { readonly _tag: "Claims"; readonly claims: string; readonly tenantId: string | undefined }

/**
 * Reads a CAE / conditional-access claims challenge from `WWW-Authenticate` (RFC 7235 challenges; several may
 * share the header).
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseClaimsChallenge: (header: string | undefined) => ClaimsChallenge =
  ClaimsChallenges.parseClaimsChallenge

// --- the client --------------------------------------------------------------------------------------------------

/**
 * Signs `client`'s requests with tokens from `credential`, from validated settings.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromSettings: <E, R>(
  client: HttpClient.HttpClient.With<E, R>,
  credential: TokenCredentialService,
  settings: Settings
) => HttpClient.HttpClient.With<E | AuthenticatedHttpClientError | TokenError, R> = makeSignedClient

/**
 * Signs `client`'s requests with tokens from `credential`. Pure: the options are validated here, and when they are
 * invalid every request fails with the `InvalidOptionError` (use {@link make} to fail at construction instead).
 *
 * Apply URL combinators (`prependUrl`), retries and time-outs to the returned client; the wrapped client must send
 * requests as they are (no `followRedirects`, no URL rewriting), because the checks run before it. Redirects the
 * wrapped client returns (undici, node:http) are followed here; `FetchHttpClient` follows them inside `fetch`, which
 * drops `Authorization` on a redirect to another origin (Fetch standard, "HTTP-redirect fetch").
 *
 * @since 0.1.0
 * @category combinators
 */
export const authenticate: {
  (
    credential: TokenCredentialService,
    options: Options
  ): <E, R>(client: HttpClient.HttpClient.With<E, R>) => HttpClient.HttpClient.With<E | SigningError, R>
  <E, R>(
    client: HttpClient.HttpClient.With<E, R>,
    credential: TokenCredentialService,
    options: Options
  ): HttpClient.HttpClient.With<E | SigningError, R>
} = dual(3, <E, R>(
  client: HttpClient.HttpClient.With<E, R>,
  credential: TokenCredentialService,
  options: Options
): HttpClient.HttpClient.With<E | SigningError, R> =>
  Either.match(validateOptions(options), {
    onLeft: (error) =>
      HttpClient.makeWith(
        (request) => Effect.zipRight(request, Effect.fail(error)),
        Effect.succeed as HttpClient.HttpClient.Preprocess<never, never>
      ),
    onRight: (settings) => fromSettings(client, credential, settings)
  }))

/**
 * The signed client over the `HttpClient` and `TokenCredential` in the context. Invalid options fail here, before
 * any request.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: Options
): Effect.Effect<
  HttpClient.HttpClient.With<ClientError>,
  InvalidOptionError,
  HttpClient.HttpClient | TokenCredential
> =>
  Effect.gen(function*() {
    const settings = yield* validateOptions(options)
    const client = yield* HttpClient.HttpClient
    const credential = yield* TokenCredential
    return fromSettings(client, credential, settings)
  })

/**
 * The signed client under its own tag, so a program can hold it next to the plain `HttpClient`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options
): Layer.Layer<AuthenticatedHttpClient, InvalidOptionError, HttpClient.HttpClient | TokenCredential> =>
  Layer.effect(AuthenticatedHttpClient, make(options))
