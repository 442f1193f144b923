/**
 * The Promise facade: `AuthorizationCodeCredential` for code that does not use Effect, shaped like
 * `@azure/identity`'s, so it is an `@azure/core-auth` `TokenCredential` for every Azure SDK client.
 *
 * ```ts
 * import { AuthorizationCodeCredential } from "@effect-entra/identity/promise"
 *
 * const credential = new AuthorizationCodeCredential(tenantId, clientId, code, redirectUri, { clientSecret })
 * const { token, expiresOnTimestamp } = await credential.getToken("https://graph.microsoft.com/.default")
 * await credential.close()
 * ```
 *
 * A cached token is answered synchronously from the cache (no fiber is started); everything else runs the
 * Effect credential on Effect's default runtime. The HTTP connection pool is the process's, one per set of trusted
 * CAs, shared by every credential and kept for a short grace period after the last one closes (its idle
 * connections never keep the process alive).
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import {
  AuthenticationError,
  InvalidOptionError,
  isAuthenticationError,
  isInvalidOptionError
} from "./AuthenticationError.js"
import type * as Credential from "./AuthorizationCodeCredential.js"
import { toAzureAccessToken } from "./internal/facadeOptions.js"
import * as FacadeRuntime from "./internal/facadeRuntime.js"
import { facadeSettings } from "./internal/facadeSettings.js"
import { AzureTokenMemo, toAccessTokenInfo } from "./internal/facadeTokens.js"
import * as TokenCache from "./TokenCache.js"

export {
  /**
   * The same class as the root module's `AuthenticationError.AuthenticationError`: match either.
   *
   * @since 0.1.0
   */
  AuthenticationError,
  /**
   * @since 0.1.0
   */
  InvalidOptionError,
  /**
   * @since 0.1.0
   */
  isAuthenticationError,
  /**
   * @since 0.1.0
   */
  isInvalidOptionError
}

/**
 * Options, with `@azure/identity`'s names where it has one.
 *
 * @since 0.1.0
 * @category models
 */
export interface AuthorizationCodeCredentialOptions {
  /** For confidential (web) apps. At most one of `clientSecret`, `clientCertificate` and `clientAssertion`. */
  readonly clientSecret?: string | undefined
  /**
   * A PEM certificate and its private key (`certificate` text or `certificatePath`, with `certificatePassword` for
   * an encrypted key), signing a `client_assertion` for every token request; `sendCertificateChain` sends `x5c`
   * (subject-name/issuer authentication); `algorithm` `RS256` (default) or `PS256`.
   */
  readonly clientCertificate?: {
    readonly certificate?: string | undefined
    readonly certificatePath?: string | undefined
    readonly certificatePassword?: string | undefined
    readonly sendCertificateChain?: boolean | undefined
    readonly algorithm?: "RS256" | "PS256" | undefined
  } | undefined
  /** A federated credential: returns a Promise of the JWT to send, called for every token request. */
  readonly clientAssertion?: (() => Promise<string>) | undefined
  /** The nonce of the authorize request: the ID token must carry it. */
  readonly nonce?: string | undefined
  /**
   * Validate the ID token of the code's redemption (signature with the tenant's published keys, issuer,
   * audience, lifetime, tenant, nonce). Default `true`; `false` only for an endpoint that issues no signed ID
   * tokens (a test double).
   */
  readonly validateIdToken?: boolean | undefined
  /** A host or https URL. Default: `AZURE_AUTHORITY_HOST`, else the public cloud. */
  readonly authority?: string | undefined
  /** `@azure/identity`'s name for {@link AuthorizationCodeCredentialOptions.authority}. */
  readonly authorityHost?: string | undefined
  readonly additionallyAllowedTenants?: ReadonlyArray<string> | undefined
  /** The PKCE verifier of the authorize request. */
  readonly codeVerifier?: string | undefined
  /**
   * Ignore the `tenantId` of `getToken` calls (always use the credential's tenant). Default:
   * `AZURE_IDENTITY_DISABLE_MULTITENANTAUTH` (`1`, `true`, `yes` or `on`, any case).
   */
  readonly disableMultiTenantAuth?: boolean | undefined
  /** Accepted for drop-in compatibility; this credential never calls instance discovery. */
  readonly disableInstanceDiscovery?: boolean | undefined
  readonly retryOptions?: {
    /** Retries after the first attempt: 0 to 9. Default 3. */
    readonly maxRetries?: number | undefined
    /** The first backoff delay: 0 to 60 000 ms. Default 800 ms. */
    readonly retryDelayInMs?: number | undefined
    /** The largest backoff delay: 0 to 600 000 ms. Default 30 000 ms. */
    readonly maxRetryDelayInMs?: number | undefined
  } | undefined
  /** Time-out of one attempt of a token request, body included. Default 30 000 ms; 1 to 600 000. */
  readonly requestTimeoutInMs?: number | undefined
  /**
   * Extra CA certificates (PEM text, not a file path) to trust besides Node's roots, e.g. a TLS-inspecting
   * proxy's or an emulator's.
   */
  readonly ca?: string | Buffer | ReadonlyArray<string | Buffer> | undefined
  /** A cache shared with other credentials (see {@link createTokenCache}); default: one of its own. */
  readonly tokenCache?: TokenCache.Service | undefined
  /** Advanced: an Effect `HttpClient` to send token requests with, instead of the built-in undici pool. */
  readonly httpClient?: HttpClient.HttpClient | undefined
}

/**
 * `@azure/core-auth`'s `GetTokenOptions`, as far as this credential uses them.
 *
 * @since 0.1.0
 * @category models
 */
export interface GetTokenOptions {
  // No `| undefined` on these: under `exactOptionalPropertyTypes` it would stop the credential from being assignable
  // to `@azure/core-auth`'s `TokenCredential`, whose options are declared without it.
  readonly claims?: string
  readonly tenantId?: string
  readonly enableCae?: boolean
  /** Cancels the HTTP request; the call rejects with an `AbortError`. */
  readonly abortSignal?: AbortSignal
  readonly [key: string]: unknown
}

/**
 * `@azure/core-auth`'s `AccessToken`: millisecond timestamps.
 *
 * @since 0.1.0
 * @category models
 */
export interface AccessToken {
  readonly token: string
  readonly expiresOnTimestamp: number
  readonly refreshAfterTimestamp?: number
  readonly tokenType: "Bearer" | "pop"
}

/**
 * Python's `AccessTokenInfo`: second timestamps.
 *
 * @since 0.1.0
 * @category models
 */
export interface AccessTokenInfo {
  readonly token: string
  readonly expiresOn: number
  readonly refreshOn?: number
  readonly tokenType: string
}

/**
 * A token cache to share among several credentials (several users): tokens stay partitioned by authority, app,
 * account, tenant and scopes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const createTokenCache = (): TokenCache.Service => Effect.runSync(TokenCache.makeMemory)

const inspectSymbol = Symbol.for("nodejs.util.inspect.custom")

/**
 * @since 0.1.0
 * @category credentials
 */
export class AuthorizationCodeCredential {
  readonly #settings: Credential.Settings
  readonly #services: FacadeRuntime.FacadeServices
  readonly #describe: { readonly tenantId: string; readonly clientId: string; readonly authority: string }
  #built: FacadeRuntime.Built | undefined
  #closed = false

  /**
   * `new AuthorizationCodeCredential(tenantId, clientId, authorizationCode, redirectUri, options?)`, or
   * `@azure/identity`'s other form with the client secret third:
   * `new AuthorizationCodeCredential(tenantId, clientId, clientSecret, authorizationCode, redirectUri, options?)`.
   *
   * Throws an {@link InvalidOptionError} naming the field when a setting is wrong; nothing is sent yet.
   */
  constructor(
    tenantId: string,
    clientId: string,
    authorizationCode: string,
    redirectUri: string,
    options?: AuthorizationCodeCredentialOptions
  )
  constructor(
    tenantId: string,
    clientId: string,
    clientSecret: string,
    authorizationCode: string,
    redirectUri: string,
    options?: AuthorizationCodeCredentialOptions
  )
  constructor(
    tenantId: string,
    clientId: string,
    third: string,
    fourth: string,
    fifth?: string | AuthorizationCodeCredentialOptions,
    sixth?: AuthorizationCodeCredentialOptions
  ) {
    const read = facadeSettings(tenantId, clientId, third, fourth, fifth, sixth)
    if (Either.isLeft(read)) throw read.left
    const { settings, services } = read.right
    this.#describe = { tenantId: settings.tenantId, clientId: settings.clientId, authority: settings.authority }
    this.#settings = settings
    this.#services = services
  }

  /**
   * An access token for the scopes. Rejects with the {@link AuthenticationError} itself (or an
   * {@link InvalidOptionError}, or an `AbortError` when `abortSignal` fires).
   */
  getToken(scopes: string | ReadonlyArray<string>, options?: GetTokenOptions): Promise<AccessToken> {
    const built = this.#closed ? undefined : this.#built
    if (built !== undefined && options?.abortSignal?.aborted !== true) {
      const cached = built.service.unsafeCachedToken(scopes, options)
      if (cached !== undefined) return this.#azureTokens.resolved(scopes, cached)
    }
    return this.#run((credential) => credential.getToken(scopes, options), options?.abortSignal).then(
      toAzureAccessToken
    )
  }

  readonly #azureTokens = new AzureTokenMemo()

  /** Like {@link getToken}, with timestamps in epoch seconds (Python's `AccessTokenInfo`). */
  getTokenInfo(scopes: string | ReadonlyArray<string>, options?: GetTokenOptions): Promise<AccessTokenInfo> {
    return this.getToken(scopes, options).then(toAccessTokenInfo)
  }

  /** The signed-in account, once the code has been redeemed. */
  async getAccount(): Promise<Credential.AccountInfo | undefined> {
    return Option.getOrUndefined(await this.#run((credential) => credential.account, undefined))
  }

  /**
   * Stops the credential's background work and releases its share of the HTTP connection pool. The pool (one per
   * set of trusted CAs, shared by every credential, so a new sign-in needs no new TLS handshake) closes 30 s after
   * the last credential using it; its idle connections never keep the process alive. Later calls reject.
   */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    const built = this.#built
    this.#built = undefined
    if (built !== undefined) await FacadeRuntime.dispose(built)
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  toString(): string {
    return `AuthorizationCodeCredential(tenantId=${this.#describe.tenantId}, clientId=${this.#describe.clientId})`
  }

  toJSON(): unknown {
    return { type: "AuthorizationCodeCredential", ...this.#describe }
  }

  [inspectSymbol](): string {
    return this.toString()
  }

  async #run<A>(
    f: (credential: Credential.Service) => Effect.Effect<A, AuthenticationError | InvalidOptionError>,
    signal: AbortSignal | undefined
  ): Promise<A> {
    if (this.#closed) throw new Error("This AuthorizationCodeCredential has been closed")
    if (signal?.aborted === true) throw FacadeRuntime.abortError()
    // Built on the first call that needs it, so a credential that is never used holds nothing.
    this.#built ??= FacadeRuntime.build(this.#settings, this.#services)
    return FacadeRuntime.run(f(this.#built.service), signal)
  }
}
