/**
 * A credential that signs a user in with an authorization code: the composition of three steps, each a service
 * of its own that can be called, replaced, wrapped or tested alone.
 *
 * - {@link RedeemCode}: the code becomes an account and tokens, once per credential however many first calls race.
 * - {@link CacheLookup}: the token for the call's key, fresh, due or expired under the {@link RefreshPolicy}.
 * - {@link RefreshToken}: a new token with the refresh token, one request per key; a failed proactive renewal
 *   keeps serving the still-valid token.
 *
 * It needs a `TokenCache` and an `HttpClient` (or a `TokenEndpoint`: one in the context is used as is), and uses
 * the `Clock` (so `TestClock` drives it). A step found in the context replaces the credential's own.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import type { AccessToken } from "./AccessToken.js"
import { toInfo } from "./AccessToken.js"
import { type AuthenticationError, InvalidOptionError } from "./AuthenticationError.js"
import type * as CacheLookup from "./CacheLookup.js"
import type * as IdTokenValidator from "./IdTokenValidator.js"
import * as AccountState from "./internal/accountState.js"
import { config } from "./internal/credentialConfig.js"
import type { Options, Settings } from "./internal/credentialOptions.js"
import { readSettings } from "./internal/credentialOptions.js"
import { type Parts, partsFrom, untraced, validatorFor, validatorRequired } from "./internal/credentialSteps.js"
import { getTokenSpan, make as makeHotPath } from "./internal/hotPath.js"
import { spanned } from "./internal/liveServices.js"
import { toAccessToken } from "./internal/tokenEntry.js"
import type { AccountInfo } from "./RedeemCode.js"
import type * as RedeemCode from "./RedeemCode.js"
import type * as RefreshToken from "./RefreshToken.js"
import * as TokenCache from "./TokenCache.js"
import { TokenCredential } from "./TokenCredential.js"
import type { GetTokenOptions, Service as TokenCredentialService } from "./TokenCredential.js"
import * as TokenEndpoint from "./TokenEndpoint.js"
import * as TokenRequest from "./TokenRequest.js"

export {
  /** @since 0.1.0 */
  config,
  /** @since 0.1.0 */
  disableMultiTenantAuthConfig,
  /** @since 0.1.0 */
  parseFlag
} from "./internal/credentialConfig.js"
export {
  /** @since 0.1.0 */
  validateOptions
} from "./internal/credentialOptions.js"
export type {
  /** @since 0.1.0 */
  Options,
  /** @since 0.1.0 */
  Settings
} from "./internal/credentialOptions.js"
export type {
  /** @since 0.1.0 */
  AccountInfo
} from "./RedeemCode.js"

/**
 * The credential: a `TokenCredential` plus what only this credential knows.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service extends TokenCredentialService {
  /** The signed-in account, once the code has been redeemed (or resumed). */
  readonly account: Effect.Effect<Option.Option<AccountInfo>>
  /**
   * A fresh cached token, read synchronously without running an effect, or `undefined` (then call `getToken`).
   * This is the Promise facade's hot path.
   */
  readonly unsafeCachedToken: (
    scopes: string | ReadonlyArray<string>,
    options?: GetTokenOptions
  ) => AccessToken | undefined
  /** A new token from Entra now, whatever the cache holds (e.g. after the API rejected the cached one). */
  readonly renew: (
    scopes: string | ReadonlyArray<string>,
    options?: GetTokenOptions
  ) => Effect.Effect<AccessToken, AuthenticationError | InvalidOptionError>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class AuthorizationCodeCredential extends Context.Tag("@effect-entra/identity/AuthorizationCodeCredential")<
  AuthorizationCodeCredential,
  Service
>() {}

/**
 * The steps a credential composes.
 *
 * @since 0.1.0
 * @category models
 */
export interface Steps {
  readonly redeemCode: RedeemCode.Service
  readonly cacheLookup: CacheLookup.Service
  readonly refreshToken: RefreshToken.Service
  readonly cache: TokenCache.Service
}

const compose = (settings: Settings, { policy, scope, steps, unshared }: Parts) => {
  const state = AccountState.make(settings, steps.redeemCode, steps.cache, scope, unshared)
  const hot = makeHotPath({ client: settings, homeAccountId: state.homeAccountId, lookup: steps.cacheLookup, policy })
  const renewal = (homeAccountId: string, request: TokenRequest.TokenRequest, force = false) => ({
    client: settings,
    homeAccountId,
    request,
    policy,
    force
  })

  // RedeemCode (once) → CacheLookup → RefreshToken.
  const acquire = (request: TokenRequest.TokenRequest, force: boolean) =>
    Effect.gen(function*() {
      const { account, issued } = yield* state.ensure(request)
      const key = TokenRequest.accessTokenKey(settings, account.homeAccountId, request)
      if (issued !== undefined && issued.key === key) return issued.entry
      const renew = renewal(account.homeAccountId, request, force)
      if (force || request.bypassCache) return yield* steps.refreshToken.renew(renew)
      const found = yield* steps.cacheLookup.lookup(key, policy)
      if (found._tag === "Fresh") return found.entry
      if (found._tag === "Due") return yield* steps.refreshToken.renewDue(renew, found.entry)
      return yield* steps.refreshToken.renew(renew)
    })

  const run = (
    scopes: string | ReadonlyArray<string>,
    options: GetTokenOptions | undefined,
    force: boolean
  ): Effect.Effect<AccessToken, AuthenticationError | InvalidOptionError> => {
    const request = TokenRequest.unsafeMake(settings, scopes, options)
    if (request instanceof InvalidOptionError) return Effect.fail(request)
    return acquire(request, force).pipe(
      Effect.map(toAccessToken),
      spanned(`AuthorizationCodeCredential.${force ? "renew" : "getToken"}`, () => getTokenSpan(request))
    )
  }

  const getToken = (
    scopes: string | ReadonlyArray<string>,
    options?: GetTokenOptions
  ): Effect.Effect<AccessToken, AuthenticationError | InvalidOptionError> =>
    Effect.suspend(() => {
      const record = hot.hotFor(scopes, options)
      const served = record === undefined ? undefined : hot.served(record)
      if (served === undefined) return run(scopes, options, false)
      return untraced() ? served : Effect.withSpan(served, "AuthorizationCodeCredential.getToken", record!.span)
    })

  return AuthorizationCodeCredential.of({
    getToken,
    getTokenInfo: (scopes, options) => Effect.map(getToken(scopes, options), toInfo),
    account: state.account,
    unsafeCachedToken: (scopes, options) => {
      const record = hot.hotFor(scopes, options)
      return record === undefined ? undefined : hot.freshToken(record)
    },
    renew: (scopes, options) => Effect.suspend(() => run(scopes, options, true))
  })
}

/**
 * Builds the credential from validated settings and explicit services. Steps and a `RefreshPolicy` found in the
 * context are used; the others are built on `cache` and `endpoint` (which gets the settings' client certificate
 * or assertion). Unless `validateIdToken` is off, the ID token is validated by `validator`, else by the
 * `IdTokenValidator` of the context; with neither, the redemption fails before the code is sent.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromSettings = (
  settings: Settings,
  cache: TokenCache.Service,
  endpoint: TokenEndpoint.Service,
  validator?: IdTokenValidator.Service | undefined
): Effect.Effect<Service, never, Scope.Scope> =>
  // Two reads (the clock, the context), then plain calls: a sign-in builds a credential, so this is on its path.
  Effect.flatMap(Effect.clock, (clock) =>
    Effect.contextWith((context: Context.Context<Scope.Scope>) =>
      compose(settings, partsFrom(context, clock, settings, cache, endpoint, validator))
    ))

/**
 * Builds the credential. Requires a `TokenCache` and an `HttpClient` (unless a `TokenEndpoint` is in the
 * context: then that one is used and `http` is only validated); its background work lives in the `Scope`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: Options
): Effect.Effect<Service, InvalidOptionError, HttpClient.HttpClient | TokenCache.TokenCache | Scope.Scope> =>
  Effect.gen(function*() {
    const settings = yield* readSettings(options)
    const provided = yield* Effect.serviceOption(TokenEndpoint.TokenEndpoint)
    const endpoint = Option.isSome(provided)
      ? yield* Effect.as(TokenEndpoint.validateOptions(settings.http), provided.value)
      : yield* TokenEndpoint.make(settings.http)
    const validator = settings.validateIdToken ? yield* validatorFor : undefined
    return yield* fromSettings(settings, yield* TokenCache.TokenCache, endpoint, validator)
  })

/**
 * {@link make} with the `TokenEndpoint` taken from the context: a test fake, a proxy, an endpoint on another
 * `HttpClient`. The ID token is validated by default, so provide an `IdTokenValidator` too (`IdTokenValidator.layer`
 * on an `HttpClient`), or set `validateIdToken: false` for an endpoint that issues no signed ID tokens; without
 * either, building fails with an `InvalidOptionError` (field `validateIdToken`) before anything is sent.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeWithoutTokenEndpoint = (
  options: Options
): Effect.Effect<Service, InvalidOptionError, TokenEndpoint.TokenEndpoint | TokenCache.TokenCache | Scope.Scope> =>
  Effect.gen(function*() {
    const settings = yield* readSettings(options)
    yield* TokenEndpoint.validateOptions(settings.http)
    yield* validatorRequired(settings)
    return yield* fromSettings(settings, yield* TokenCache.TokenCache, yield* TokenEndpoint.TokenEndpoint)
  })

const both = (service: Service) =>
  Context.make(AuthorizationCodeCredential, service).pipe(Context.add(TokenCredential, service))

/**
 * The credential as a layer providing both `AuthorizationCodeCredential` and `TokenCredential`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options
): Layer.Layer<
  AuthorizationCodeCredential | TokenCredential,
  InvalidOptionError,
  HttpClient.HttpClient | TokenCache.TokenCache
> => Layer.scopedContext(Effect.map(make(options), both))

/**
 * {@link layer} on the `TokenEndpoint` of the context instead of an `HttpClient`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerWithoutTokenEndpoint = (
  options: Options
): Layer.Layer<
  AuthorizationCodeCredential | TokenCredential,
  InvalidOptionError,
  TokenEndpoint.TokenEndpoint | TokenCache.TokenCache
> => Layer.scopedContext(Effect.map(makeWithoutTokenEndpoint(options), both))

/**
 * The credential from configuration: {@link config} by default, or any `Config` of the options.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options: Config.Config.Wrap<Options> = config
): Layer.Layer<
  AuthorizationCodeCredential | TokenCredential,
  InvalidOptionError | ConfigError.ConfigError,
  HttpClient.HttpClient | TokenCache.TokenCache
> => Layer.unwrapEffect(Effect.map(Config.unwrap(options), layer))
