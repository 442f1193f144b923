/**
 * Interop with the Azure SDK for JavaScript, both ways.
 *
 * - Azure → Effect: {@link make} / {@link layer} wrap any Azure `TokenCredential` (`@azure/identity`'s
 *   `DefaultAzureCredential`, `ManagedIdentityCredential`, `ClientSecretCredential`, ... or one of your own) as this
 *   package's Effect `TokenCredential` service. Tokens become `Redacted` the moment they arrive; failures become
 *   {@link AuthenticationError}s with Entra's fields and without a secret.
 * - Effect → Azure: {@link toAzure} / {@link fromService} turn any Effect `TokenCredential` service into an object an
 *   Azure SDK client accepts as its `credential` (the Promise facade in `@effect-entra/identity/promise` already is
 *   one).
 *
 * ```ts
 * import { DefaultAzureCredential } from "@azure/identity"
 * import { AzureTokenCredential, TokenCredential } from "@effect-entra/identity"
 *
 * const program = TokenCredential.getToken("https://vault.azure.net/.default").pipe(
 *   Effect.provide(AzureTokenCredential.layer(new DefaultAzureCredential()))
 * )
 * ```
 *
 * The Azure types are declared structurally here, so `@azure/core-auth` is not a dependency of this package.
 *
 * @since 0.1.0
 */
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Runtime from "effect/Runtime"
import type * as Scope from "effect/Scope"
import type { AuthenticationError } from "./AuthenticationError.js"
import { unsafeMake } from "./internal/azureCredentialService.js"
import { effectBackedCredential } from "./internal/azureEffectBacked.js"
import * as AzureErrors from "./internal/azureErrors.js"
import * as TokenCredential from "./TokenCredential.js"

// The optional properties below deliberately omit `| undefined`: under `exactOptionalPropertyTypes` that keeps
// them assignable to and from `@azure/core-auth`'s own declarations, so real Azure credentials fit `make` and the
// result of `toAzure` fits every Azure SDK client.

/**
 * `@azure/core-auth`'s `AccessToken`, structurally.
 *
 * @since 0.1.0
 * @category models
 */
export interface AzureAccessToken {
  readonly token: string
  /** Epoch milliseconds. */
  readonly expiresOnTimestamp: number
  /** Epoch milliseconds. */
  readonly refreshAfterTimestamp?: number
  readonly tokenType?: "Bearer" | "pop"
}

/**
 * `@azure/core-auth`'s `GetTokenOptions`, as far as this module passes or reads them.
 *
 * @since 0.1.0
 * @category models
 */
export interface AzureGetTokenOptions {
  readonly abortSignal?: AbortSignal
  /** A claims request (JSON text, decoded from a CAE challenge). */
  readonly claims?: string
  readonly tenantId?: string
  readonly enableCae?: boolean
  /** Other core-auth options (`tracingOptions`, `requestOptions`, ...): accepted, not forwarded. */
  readonly [key: string]: unknown
}

/**
 * `@azure/core-auth`'s `TokenCredential`, structurally: every `@azure/identity` credential fits.
 *
 * @since 0.1.0
 * @category models
 */
export interface AzureTokenCredential {
  getToken(scopes: string | Array<string>, options?: AzureGetTokenOptions): Promise<AzureAccessToken | null>
}

/**
 * What {@link toAzure} returns: an Azure `TokenCredential` that never resolves to `null`.
 *
 * @since 0.1.0
 * @category models
 */
export interface EffectBackedCredential extends AzureTokenCredential {
  getToken(scopes: string | Array<string>, options?: AzureGetTokenOptions): Promise<AzureAccessToken>
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /**
   * Bounds each `getToken` call: when it passes, the Azure credential's call is aborted and the Effect fails with
   * an `AuthenticationError` of reason `Timeout`. Default: none (the Azure credential's own time-outs apply).
   */
  readonly timeout?: Duration.DurationInput | undefined
  /** Names the credential in spans and messages. Default: its class name, e.g. `ClientSecretCredential`. */
  readonly name?: string | undefined
}

// --- Azure → Effect --------------------------------------------------------------------------------------------

/**
 * Wraps an Azure `TokenCredential` as an Effect `TokenCredential` service.
 *
 * - `claims`, `tenantId` and `enableCae` are passed through to the Azure credential's `GetTokenOptions`, with an
 *   `abortSignal` that fires when the fiber is interrupted (or the {@link Options.timeout} passes).
 * - The token is wrapped in `Redacted` before anything else sees it.
 * - A `null` answer, an unusable token or a thrown error fail with an {@link AuthenticationError} (see
 *   {@link fromAzureError}); empty scopes fail with an `InvalidOptionError` before the Azure credential is called.
 * - Each call is a span `AzureTokenCredential.getToken` with the scopes, tenant and credential name.
 *
 * Caching is left to the Azure credential (every `@azure/identity` credential caches in MSAL).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  credential: AzureTokenCredential,
  options: Options = {}
): Effect.Effect<TokenCredential.Service> => Effect.sync(() => unsafeMake(credential, options))

/**
 * A layer providing the Effect `TokenCredential` backed by an Azure credential.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  credential: AzureTokenCredential,
  options?: Options
): Layer.Layer<TokenCredential.TokenCredential> =>
  Layer.effect(TokenCredential.TokenCredential, make(credential, options))

/**
 * Like {@link layer}, for an Azure credential that is built by an Effect (from `Config`, or scoped so that a
 * finalizer can release it).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerEffect = <E, R>(
  acquire: Effect.Effect<AzureTokenCredential, E, R>,
  options?: Options
): Layer.Layer<TokenCredential.TokenCredential, E, Exclude<R, Scope.Scope>> =>
  Layer.scoped(TokenCredential.TokenCredential, Effect.flatMap(acquire, (credential) => make(credential, options)))

// --- error mapping ---------------------------------------------------------------------------------------------

/**
 * Maps whatever an Azure credential threw to an {@link AuthenticationError}, keeping Entra's fields and the Azure
 * error's name and message, but never the raw error object (a `RestError` holds the HTTP request, whose form body
 * carries the client secret, the code or the refresh token).
 *
 * | thrown                                                       | `reason`                   | `errorResponse.error`    |
 * |--------------------------------------------------------------|----------------------------|--------------------------|
 * | `AuthenticationError` (`statusCode` + `errorResponse`)       | `ErrorResponse`            | Entra's `error`          |
 * | MSAL `ServerError`, alone or as `AuthenticationRequiredError.cause` | `ErrorResponse`     | Entra's `error`          |
 * | `AuthenticationRequiredError` without a server cause         | `ReauthenticationRequired` | `interaction_required`   |
 * | `CredentialUnavailableError`                                 | `Transport`                | `credential_unavailable` |
 * | `AggregateAuthenticationError` with an Entra error inside    | as that inner error        | as that inner error      |
 * | `AggregateAuthenticationError` otherwise                     | `ReauthenticationRequired` if a source needs interaction, else `Transport` / `credential_unavailable` | |
 * | `AbortError` / `TimeoutError` (not caused by interruption)   | `Timeout`                  | `timeout`                |
 * | `RestError` with a `statusCode`                              | `ErrorResponse`            | `http_error`             |
 * | `RestError` without one, Node socket errors (`ECONN...`)     | `Transport`                | `transport_error`        |
 * | anything else                                                | `Transport`                | `unknown_error`          |
 *
 * `cause` holds a sanitised copy: an `Error` with the Azure error's `name`, its message scrubbed of token-like
 * values, its stack frames, and the same for its own `cause` (two levels).
 *
 * @since 0.1.0
 * @category errors
 */
export const fromAzureError: (
  error: unknown,
  context?: { readonly credentialName?: string | undefined }
) => AuthenticationError = AzureErrors.fromAzureError

// --- Effect → Azure ---------------------------------------------------------------------------------------------

/**
 * Turns an Effect `TokenCredential` service into an Azure `TokenCredential`, run on the given runtime (default:
 * the default runtime; {@link toAzure} captures the current one, so spans and services carry over).
 *
 * `getToken` resolves with core-auth's `AccessToken` (the token unwrapped, millisecond timestamps), rejects with
 * the `AuthenticationError` / `InvalidOptionError` itself (never a `FiberFailure`), and rejects with an
 * `AbortError` when `abortSignal` fires, which interrupts the Effect.
 *
 * @since 0.1.0
 * @category conversions
 */
export const fromService = (
  service: TokenCredential.Service,
  runtime: Runtime.Runtime<never> = Runtime.defaultRuntime
): EffectBackedCredential => effectBackedCredential(service, runtime)

/**
 * The `TokenCredential` in the context as an Azure `TokenCredential`, running on the current runtime.
 *
 * ```ts
 * const credential = yield* AzureTokenCredential.toAzure
 * const client = new SecretClient(vaultUrl, credential)
 * ```
 *
 * @since 0.1.0
 * @category conversions
 */
export const toAzure: Effect.Effect<EffectBackedCredential, never, TokenCredential.TokenCredential> = Effect.gen(
  function*() {
    const service = yield* TokenCredential.TokenCredential
    const runtime = yield* Effect.runtime<never>()
    return fromService(service, runtime)
  }
)
