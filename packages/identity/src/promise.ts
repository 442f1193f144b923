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
 * Effect credential on a `ManagedRuntime` that holds the HTTP connection pool (shared by the open credentials
 * that trust the same CAs) until `close()`.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientTag from "@effect/platform/HttpClient"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as AccessTokenModule from "./AccessToken.js"
import { AuthenticationError, InvalidOptionError } from "./AuthenticationError.js"
import * as Credential from "./AuthorizationCodeCredential.js"
import { facadeHttpOptions, toAzureAccessToken } from "./internal/facadeOptions.js"
import * as NodeHttp from "./NodeHttp.js"
import * as TokenCache from "./TokenCache.js"
import * as TokenEndpoint from "./TokenEndpoint.js"

export {
  /**
   * @since 0.1.0
   */
  AuthenticationError,
  /**
   * @since 0.1.0
   */
  InvalidOptionError
}

/**
 * Options, with `@azure/identity`'s names where it has one.
 *
 * @since 0.1.0
 * @category models
 */
export interface AuthorizationCodeCredentialOptions {
  /** For confidential (web) apps. */
  readonly clientSecret?: string | undefined
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
  readonly #runtime: ManagedRuntime.ManagedRuntime<Credential.AuthorizationCodeCredential, never>
  readonly #describe: { readonly tenantId: string; readonly clientId: string; readonly authority: string }
  #service: Credential.Service | undefined
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
    const withSecret = typeof fifth === "string"
    const options: AuthorizationCodeCredentialOptions = (withSecret ? sixth : fifth) ?? {}
    const clientSecret = withSecret ? third : options.clientSecret
    const code = withSecret ? fourth : third
    const redirectUri = withSecret ? fifth : fourth
    const http = facadeHttpOptions(options)
    if (Either.isLeft(http)) throw http.left
    const settings = Credential.validateOptions({
      tenantId,
      clientId,
      authorizationCode: typeof code === "string" ? Redacted.make(code) : code,
      redirectUri: redirectUri as string,
      clientSecret: clientSecret === undefined ? undefined : Redacted.make(clientSecret),
      codeVerifier: options.codeVerifier === undefined ? undefined : Redacted.make(options.codeVerifier),
      authority: options.authority ?? options.authorityHost,
      additionallyAllowedTenants: options.additionallyAllowedTenants,
      disableMultiTenantAuth: options.disableMultiTenantAuth,
      http: http.right
    }, {
      authority: process.env.AZURE_AUTHORITY_HOST,
      disableMultiTenantAuth: Credential.parseFlag(process.env.AZURE_IDENTITY_DISABLE_MULTITENANTAUTH)
    })
    if (Either.isLeft(settings)) throw settings.left
    this.#describe = {
      tenantId: settings.right.tenantId,
      clientId: settings.right.clientId,
      authority: settings.right.authority
    }
    const credential = Layer.scoped(
      Credential.AuthorizationCodeCredential,
      Effect.gen(function*() {
        // Checked in this constructor already.
        const endpoint = yield* Effect.orDie(TokenEndpoint.make(settings.right.http))
        const cache = options.tokenCache ?? (yield* TokenCache.makeMemory)
        return yield* Credential.fromSettings(settings.right, cache, endpoint)
      })
    ).pipe(Layer.provide(httpLayer(options)))
    this.#runtime = ManagedRuntime.make(credential)
  }

  /**
   * An access token for the scopes. Rejects with the {@link AuthenticationError} itself (or an
   * {@link InvalidOptionError}, or an `AbortError` when `abortSignal` fires).
   */
  getToken(scopes: string | ReadonlyArray<string>, options?: GetTokenOptions): Promise<AccessToken> {
    const service = this.#closed ? undefined : this.#service
    if (service !== undefined && options?.abortSignal?.aborted !== true) {
      const cached = service.unsafeCachedToken(scopes, options)
      if (cached !== undefined) return this.#resolved(scopes, cached)
    }
    return this.#run((credential) => credential.getToken(scopes, options), options?.abortSignal).then(
      toAzureAccessToken
    )
  }

  // The Azure-shaped copy of the token last served for a scope string, as an already-settled promise: unwrapping
  // `Redacted` and allocating on every cached call showed up in the benchmark, and a promise per call is garbage
  // whose collection costs more as the heap grows. Frozen, since every caller gets the same object.
  readonly #azureTokens = new Map<
    string,
    { readonly from: AccessTokenModule.AccessToken; readonly promise: Promise<AccessToken> }
  >()

  #resolved(scopes: string | ReadonlyArray<string>, token: AccessTokenModule.AccessToken): Promise<AccessToken> {
    if (typeof scopes !== "string") return Promise.resolve(toAzureAccessToken(token))
    const known = this.#azureTokens.get(scopes)
    if (known !== undefined && known.from === token) return known.promise
    const promise = Promise.resolve(Object.freeze(toAzureAccessToken(token)))
    if (this.#azureTokens.size >= 10_000) this.#azureTokens.clear()
    this.#azureTokens.set(scopes, { from: token, promise })
    return promise
  }

  /** Like {@link getToken}, with timestamps in epoch seconds (Python's `AccessTokenInfo`). */
  getTokenInfo(scopes: string | ReadonlyArray<string>, options?: GetTokenOptions): Promise<AccessTokenInfo> {
    return this.getToken(scopes, options).then((token): AccessTokenInfo => {
      const info = {
        token: token.token,
        expiresOn: Math.floor(token.expiresOnTimestamp / 1000),
        tokenType: token.tokenType
      }
      return token.refreshAfterTimestamp === undefined
        ? info
        : { ...info, refreshOn: Math.floor(token.refreshAfterTimestamp / 1000) }
    })
  }

  /** The signed-in account, once the code has been redeemed. */
  async getAccount(): Promise<Credential.AccountInfo | undefined> {
    return Option.getOrUndefined(await this.#run((credential) => credential.account, undefined))
  }

  /**
   * Releases the HTTP connection pool: its connections close once no other open credential trusting the same CAs
   * shares them (credentials share one pool, so a new sign-in needs no new TLS handshake). Later calls reject.
   */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#service = undefined
    await this.#runtime.dispose()
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
    if (signal?.aborted === true) throw abortError()
    const program = Effect.flatMap(Credential.AuthorizationCodeCredential, (credential) => {
      // Not after close(): a call in flight while closing must not re-open the synchronous path.
      if (!this.#closed) this.#service = credential
      return f(credential)
    })
    const exit = await this.#runtime.runPromiseExit(program, signal === undefined ? undefined : { signal })
    if (Exit.isSuccess(exit)) return exit.value
    const failure = Cause.failureOption(exit.cause)
    if (Option.isSome(failure)) throw failure.value
    if (Cause.isInterruptedOnly(exit.cause)) throw abortError()
    throw Cause.squash(exit.cause)
  }
}

const httpLayer = (options: AuthorizationCodeCredentialOptions): Layer.Layer<HttpClient.HttpClient> =>
  options.httpClient !== undefined
    ? Layer.succeed(HttpClientTag.HttpClient, options.httpClient)
    : NodeHttp.layerShared({ ca: options.ca })

const abortError = () => new DOMException("The operation was aborted.", "AbortError")
