/**
 * Sign-in with the device authorization grant (RFC 8628), for machines without a browser (an SSH session, a
 * container): Entra hands out a user code, the user enters it at `verification_uri` on any device and signs in
 * there, and this process polls the token endpoint until the sign-in is done, declined, or the code expires.
 * The account, its refresh token and the first access token are then stored in the `TokenCache` exactly as a
 * code redemption stores them, so an `AuthorizationCodeCredential` resumed with the account's `homeAccountId`
 * serves tokens from the cache and refreshes them.
 *
 * ```ts
 * const deviceCode = yield* DeviceCode.make({ tenantId: "organizations", clientId })
 * const pending = yield* deviceCode.start("https://graph.microsoft.com/User.Read")
 * yield* Console.error(pending.info.message) // "To sign in, use a web browser to open the page ..."
 * const { account } = yield* pending.await
 * ```
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type { AccessToken } from "./AccessToken.js"
import type { AuthenticationError } from "./AuthenticationError.js"
import { InvalidOptionError } from "./AuthenticationError.js"
import * as Authority from "./Authority.js"
import type * as ClientCredential from "./ClientCredential.js"
import * as IdTokenValidator from "./IdTokenValidator.js"
import { checkClientCredential } from "./internal/clientCredentialOptions.js"
import type { DeviceAuthorization } from "./internal/deviceCodeAuthorization.js"
import { requestDeviceCode } from "./internal/deviceCodeAuthorization.js"
import { pollForToken } from "./internal/deviceCodePoll.js"
import { storeAnswer } from "./internal/deviceCodeStore.js"
import { toAccessToken } from "./internal/tokenEntry.js"
import { makeExchange } from "./internal/tokenExchange.js"
import { makeRetrySchedule } from "./internal/tokenRetry.js"
import type { AccountInfo } from "./RedeemCode.js"
import * as TokenCache from "./TokenCache.js"
import * as TokenEndpoint from "./TokenEndpoint.js"
import * as TokenRequest from "./TokenRequest.js"

/**
 * The app and how it authenticates. A public client (a CLI, a desktop app) gives no client credential; a
 * confidential one gives exactly one of `clientSecret`, `clientCertificate`, `clientAssertion`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** A GUID, a verified domain, or organizations/common/consumers. */
  readonly tenantId: string
  readonly clientId: string
  /** A host or https URL. Default: the public cloud. */
  readonly authority?: string | undefined
  readonly clientSecret?: Redacted.Redacted<string> | undefined
  readonly clientCertificate?: ClientCredential.CertificateOptions | undefined
  readonly clientAssertion?: ClientCredential.AssertionSource | undefined
  /**
   * Validate the ID token of the answer (signature, issuer, audience, lifetime, tenant) with the context's
   * `IdTokenValidator`, else one on the `HttpClient`. Default `true`.
   */
  readonly validateIdToken?: boolean | undefined
  /** Retries, time-outs and the body cap of each request (each poll is one token request). */
  readonly http?: TokenEndpoint.Options | undefined
}

/**
 * What the user is shown: Entra's answer to the device authorization request.
 *
 * @since 0.1.0
 * @category models
 */
export interface DeviceCodeInfo {
  /** The code the user types at `verificationUri`. */
  readonly userCode: string
  readonly verificationUri: string
  /** Entra's sentence with both, ready to print (on stderr, for a command line). */
  readonly message: string
  /** Lifetime of the code, in seconds (Entra: 900). */
  readonly expiresIn: number
  /** Seconds between polls (Entra: 5). */
  readonly interval: number
  /** Epoch ms when the code expires, counted from when it was asked for. */
  readonly expiresOn: number
}

/**
 * A completed sign-in: who, and the first access token (also in the cache).
 *
 * @since 0.1.0
 * @category models
 */
export interface SignIn {
  readonly account: AccountInfo
  readonly accessToken: AccessToken
}

/**
 * A code waiting for the user.
 *
 * @since 0.1.0
 * @category models
 */
export interface Pending {
  readonly info: DeviceCodeInfo
  /**
   * Polls until the user signs in, then stores the account and tokens. Fails with an `AuthenticationError`
   * carrying Entra's answer: `errorResponse.error` is `authorization_declined` when the user declined,
   * `expired_token` when the code expired (reason `DeadlineExceeded` when this process noticed first).
   * Interrupting it stops the polls.
   */
  readonly await: Effect.Effect<SignIn, AuthenticationError>
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** Asks Entra for a device code for these scopes (`openid profile offline_access` are added). */
  readonly start: (
    scopes: string | ReadonlyArray<string>
  ) => Effect.Effect<Pending, AuthenticationError | InvalidOptionError>
  /** {@link Service.start}, then `onPrompt` with what to show the user, then the polls. */
  readonly signIn: <E = never, R = never>(
    scopes: string | ReadonlyArray<string>,
    onPrompt: (info: DeviceCodeInfo) => Effect.Effect<void, E, R>
  ) => Effect.Effect<SignIn, AuthenticationError | InvalidOptionError | E, R>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class DeviceCode extends Context.Tag("@effect-entra/identity/DeviceCode")<DeviceCode, Service>() {}

const oidcScopes = ["openid", "profile", "offline_access"]

/** The context's validator (a shared key cache), else one on the `HttpClient`. */
const validatorFromContext = Effect.flatMap(
  Effect.serviceOption(IdTokenValidator.IdTokenValidator),
  Option.match({ onSome: Effect.succeed, onNone: () => IdTokenValidator.make() })
)

const checkOptions = (options: Options) =>
  Either.gen(function*() {
    if (typeof options !== "object" || options === null) {
      return yield* Either.left(new InvalidOptionError({ field: "options", reason: "an options object is required" }))
    }
    const tenantId = yield* Authority.validateTenantId(options.tenantId)
    if (typeof options.clientId !== "string" || options.clientId.trim() === "") {
      return yield* Either.left(
        new InvalidOptionError({ field: "clientId", reason: "a client (application) id is required" })
      )
    }
    const authority = yield* Authority.normalizeAuthority(options.authority ?? Authority.defaultAuthority)
    const secret = options.clientSecret
    if (secret !== undefined && (!Redacted.isRedacted(secret) || typeof Redacted.value(secret) !== "string")) {
      return yield* Either.left(new InvalidOptionError({ field: "clientSecret", reason: "must be a Redacted string" }))
    }
    if (secret !== undefined && Redacted.value(secret) === "") {
      return yield* Either.left(new InvalidOptionError({ field: "clientSecret", reason: "the client secret is empty" }))
    }
    const credential = yield* checkClientCredential({ ...options, clientId: options.clientId.trim() }, undefined)
    const http = yield* TokenEndpoint.validateOptions(options.http)
    return { tenantId, clientId: options.clientId.trim(), authority, credential, http }
  })

/**
 * Builds the flow on the `HttpClient` and `TokenCache` in the context. Options are checked here: a wrong one is
 * an `InvalidOptionError` and nothing is sent.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: Options
): Effect.Effect<Service, InvalidOptionError, HttpClient.HttpClient | TokenCache.TokenCache> =>
  Effect.gen(function*() {
    const { authority, clientId, credential, http, tenantId } = yield* checkOptions(options)
    const cache = yield* TokenCache.TokenCache
    const validator = options.validateIdToken === false ? undefined : yield* validatorFromContext
    // Trace context stays inside our process: Entra is a third party.
    const client = (yield* HttpClient.HttpClient).pipe(HttpClient.withTracerPropagation(false))
    const exchange = makeExchange(client, http, options.http?.retrySchedule ?? makeRetrySchedule(http))
    const redeemClient = {
      authority,
      tenantId,
      clientId,
      clientSecret: options.clientSecret,
      clientCredential: credential.clientCredential
    }

    const awaitSignIn = (authorization: DeviceAuthorization, request: TokenRequest.TokenRequest) =>
      Effect.gen(function*() {
        const answer = yield* pollForToken(exchange, {
          ...redeemClient,
          clientAssertion: credential.clientCredential?.assertion,
          tenantId: request.tenantId,
          scopes: request.scopes
        }, authorization)
        const { account, issued } = yield* storeAnswer(answer, redeemClient, request, { cache, validator })
        // A fresh redemption always issues its token (only an adopted one has none, and none is adopted here).
        return { account, accessToken: toAccessToken(issued!.entry) }
      }).pipe(
        Effect.withSpan("DeviceCode.await", {
          captureStackTrace: false,
          attributes: { "entra.scopes": request.scopeKey, "entra.grant_type": "device_code" }
        })
      )

    const start = Effect.fn("DeviceCode.start")(function*(scopes: string | ReadonlyArray<string>) {
      const request = yield* TokenRequest.make({ tenantId }, scopes)
      yield* Effect.annotateCurrentSpan({ "entra.tenant_id": tenantId, "entra.client_id": clientId })
      const authorization = yield* requestDeviceCode(client, http, {
        authority,
        tenantId,
        clientId,
        scopes: [...request.scopes, ...oidcScopes]
      })
      const info: DeviceCodeInfo = {
        userCode: authorization.userCode,
        verificationUri: authorization.verificationUri,
        message: authorization.message,
        expiresIn: authorization.expiresIn,
        interval: authorization.interval,
        expiresOn: authorization.requestedOn + authorization.expiresIn * 1000
      }
      return { info, await: awaitSignIn(authorization, request) } satisfies Pending
    })

    return DeviceCode.of({
      start,
      signIn: (scopes, onPrompt) =>
        Effect.flatMap(start(scopes), (pending) => Effect.zipRight(onPrompt(pending.info), pending.await))
    })
  })

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options
): Layer.Layer<DeviceCode, InvalidOptionError, HttpClient.HttpClient | TokenCache.TokenCache> =>
  Layer.effect(DeviceCode, make(options))
