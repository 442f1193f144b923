/**
 * How a confidential client proves who it is to the token endpoint, besides a secret: a certificate that signs a
 * `client_assertion` per request, or an assertion from elsewhere (workload identity federation: a Kubernetes
 * service-account token, a GitHub OIDC token), fetched per request.
 *
 * ```ts
 * AuthorizationCodeCredential.layer({
 *   ...options,
 *   clientCertificate: { certificatePath: "/etc/app/cert.pem", sendCertificateChain: true }
 * })
 * AuthorizationCodeCredential.layer({
 *   ...options,
 *   clientAssertion: ClientCredential.assertionFromFile(process.env.AZURE_FEDERATED_TOKEN_FILE!)
 * })
 * ```
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import * as Fs from "node:fs/promises"
import { AuthenticationError, InvalidOptionError } from "./AuthenticationError.js"
import type { CertificateInput, SigningAlgorithm } from "./internal/clientCertificate.js"
import { loadCertificate, signAssertion } from "./internal/clientCertificate.js"
import type * as TokenEndpoint from "./TokenEndpoint.js"

/**
 * A PEM certificate with its private key. The chain (`x5c`) is sent only when asked: Entra needs it for
 * subject-name/issuer (SNI) authentication.
 *
 * @since 0.1.0
 * @category models
 */
export interface CertificateOptions {
  /** PEM text holding the certificate (the leaf, optionally its chain) and its private key. */
  readonly certificate?: Redacted.Redacted<string> | undefined
  /** A PEM file holding the same; read once, when the credential is built. */
  readonly certificatePath?: string | undefined
  /** The password of an encrypted private key (`ENCRYPTED PRIVATE KEY`, or a legacy encrypted RSA key). */
  readonly password?: Redacted.Redacted<string> | undefined
  /** Send the certificate chain as `x5c`. Default `false`. */
  readonly sendCertificateChain?: boolean | undefined
  /** Default `RS256`; `PS256` signs with RSA-PSS. */
  readonly algorithm?: SigningAlgorithm | undefined
}

/**
 * A client assertion from elsewhere: called for every token request, so a rotated token file is read afresh.
 *
 * @since 0.1.0
 * @category models
 */
export type AssertionSource = Effect.Effect<Redacted.Redacted<string>, unknown>

/**
 * A client credential ready to sign or fetch assertions. `id` names it without revealing it (the certificate's
 * SHA-256 thumbprint, or `federated`): it is part of what a code's redemption record is bound to.
 *
 * @since 0.1.0
 * @category models
 */
export interface Loaded {
  readonly kind: "certificate" | "assertion"
  readonly id: string
  /** The `client_assertion` for a request to the token endpoint `audience`. */
  readonly assertion: (audience: string) => Effect.Effect<Redacted.Redacted<string>, AuthenticationError>
}

const assertionUnavailable = (cause: unknown) =>
  new AuthenticationError({
    reason: "InvalidRequest",
    statusCode: 0,
    errorResponse: {
      error: "invalid_client",
      errorDescription: "The client assertion could not be obtained, so no token request was sent"
    },
    attempts: 0,
    cause
  })

/**
 * Loads a certificate (synchronously: the Promise facade's constructor reports what this returns). `now` (epoch
 * ms) checks that the certificate is valid; unreadable PEM, a key that does not match, an expired certificate
 * are `InvalidOptionError`s naming `clientCertificate`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromCertificate = (
  options: CertificateOptions,
  clientId: string,
  now?: number
): Either.Either<Loaded, InvalidOptionError> =>
  Either.map(loadCertificate(options as CertificateInput, now), (certificate) => ({
    kind: "certificate",
    id: `x5t#S256:${certificate.thumbprintSha256}`,
    assertion: (audience) =>
      Effect.map(
        Clock.currentTimeMillis,
        (nowMs) => Redacted.make(signAssertion(certificate, { clientId, audience, nowMs, jti: crypto.randomUUID() }))
      )
  }))

/**
 * Wraps an assertion source. A failure of the source fails the token request (reason `InvalidRequest`, error
 * `invalid_client`) before anything is sent; the source's error is kept as `cause`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromAssertion = (source: AssertionSource): Loaded => ({
  kind: "assertion",
  id: "federated",
  assertion: () =>
    Effect.suspend(() => source).pipe(
      Effect.flatMap((jwt) =>
        Redacted.isRedacted(jwt) && typeof Redacted.value(jwt) === "string" && Redacted.value(jwt).trim() !== ""
          ? Effect.succeed(Redacted.make(Redacted.value(jwt).trim()))
          : Effect.fail(new Error("the assertion source gave no JWT (a non-empty Redacted string)"))
      ),
      Effect.catchAllDefect(Effect.fail),
      Effect.mapError(assertionUnavailable)
    )
})

/**
 * An assertion read from a file for every request (`AZURE_FEDERATED_TOKEN_FILE`: Kubernetes rotates it).
 *
 * @since 0.1.0
 * @category constructors
 */
export const assertionFromFile = (path: string): AssertionSource =>
  Effect.map(
    Effect.tryPromise(() => Fs.readFile(path, "utf8")),
    (text) => Redacted.make(text.trim())
  )

/**
 * An assertion from a function returning a Promise (the Promise facade's `clientAssertion`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const assertionFromPromise = (getAssertion: () => Promise<string>): AssertionSource =>
  Effect.map(Effect.tryPromise(() => getAssertion()), (jwt) => Redacted.make(jwt))

/**
 * The Promise facade's shape of these options, named as `@azure/identity` names them (`ClientCertificateCredential`,
 * `ClientAssertionCredential`): plain strings, made `Redacted` by {@link fromPromiseOptions}.
 *
 * @since 0.1.0
 * @category models
 */
export interface PromiseOptions {
  readonly clientCertificate?: {
    readonly certificate?: string | undefined
    readonly certificatePath?: string | undefined
    readonly certificatePassword?: string | undefined
    readonly sendCertificateChain?: boolean | undefined
    readonly algorithm?: SigningAlgorithm | undefined
  } | undefined
  /** Called for every token request; its Promise's JWT is sent as the client assertion. */
  readonly clientAssertion?: (() => Promise<string>) | undefined
}

/**
 * The credential's options from the facade's: `clientCertificate` with its texts `Redacted`, the `clientAssertion`
 * function as an Effect. Undefined fields stay undefined, so "at most one" is checked by the credential's
 * validation; a field of the wrong type is an `InvalidOptionError` naming it.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromPromiseOptions = (options: PromiseOptions): Either.Either<{
  readonly clientCertificate: CertificateOptions | undefined
  readonly clientAssertion: AssertionSource | undefined
}, InvalidOptionError> => {
  const { clientAssertion, clientCertificate: certificate } = options
  if (clientAssertion !== undefined && typeof clientAssertion !== "function") {
    return invalidOption("clientAssertion", "must be a function returning a Promise of the JWT")
  }
  if (certificate !== undefined && (typeof certificate !== "object" || certificate === null)) {
    return invalidOption("clientCertificate", "must be an object with certificate (PEM text) or certificatePath")
  }
  for (const field of ["certificate", "certificatePath", "certificatePassword"] as const) {
    if (certificate?.[field] !== undefined && typeof certificate[field] !== "string") {
      return invalidOption(`clientCertificate.${field}`, "must be a string")
    }
  }
  return Either.right({
    clientCertificate: certificate === undefined ? undefined : {
      certificate: certificate.certificate === undefined ? undefined : Redacted.make(certificate.certificate),
      certificatePath: certificate.certificatePath,
      password: certificate.certificatePassword === undefined
        ? undefined
        : Redacted.make(certificate.certificatePassword),
      sendCertificateChain: certificate.sendCertificateChain,
      algorithm: certificate.algorithm
    },
    clientAssertion: clientAssertion === undefined ? undefined : assertionFromPromise(clientAssertion)
  })
}

const invalidOption = (field: string, reason: string) => Either.left(new InvalidOptionError({ field, reason }))

/**
 * The endpoint with this client credential added to every request that does not carry one, so every step (code
 * redemption and refresh alike) authenticates the same way.
 *
 * @since 0.1.0
 * @category combinators
 */
export const withClientCredential = (
  endpoint: TokenEndpoint.Service,
  credential: Loaded | undefined
): TokenEndpoint.Service =>
  credential === undefined ? endpoint : {
    redeemCode: (request) =>
      endpoint.redeemCode(
        request.clientAssertion === undefined ? { ...request, clientAssertion: credential.assertion } : request
      ),
    redeemRefreshToken: (request) =>
      endpoint.redeemRefreshToken(
        request.clientAssertion === undefined ? { ...request, clientAssertion: credential.assertion } : request
      )
  }
