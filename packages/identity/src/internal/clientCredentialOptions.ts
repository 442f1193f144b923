/**
 * The client credential among the credential's options (secret, certificate or assertion: at most one) and the
 * sign-in's validation settings, checked before any request.
 *
 * @internal
 */
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import { InvalidOptionError } from "../AuthenticationError.js"
import * as ClientCredential from "../ClientCredential.js"

/** @internal */
export interface ClientCredentialOptions {
  readonly clientSecret?: Redacted.Redacted<string> | undefined
  /** A PEM certificate and key signing a `client_assertion` for every token request (instead of a secret). */
  readonly clientCertificate?: ClientCredential.CertificateOptions | undefined
  /** An Effect yielding a federated JWT, called for every token request (instead of a secret). */
  readonly clientAssertion?: ClientCredential.AssertionSource | undefined
  /** The nonce of the authorize request: the ID token must carry it. */
  readonly nonce?: string | undefined
  /**
   * Validate the ID token of the code's redemption (signature against the tenant's keys, issuer, audience,
   * lifetime, nonce, tenant) with the context's `IdTokenValidator`, else one on the credential's `HttpClient`.
   * Default `true`. Turn it off only where no signed ID token can come back: a fake `TokenEndpoint` in tests,
   * or an endpoint that answers without `openid`; the account is then read from unverified claims.
   */
  readonly validateIdToken?: boolean | undefined
}

/** @internal */
export interface ClientCredentialSettings {
  readonly clientCredential: ClientCredential.Loaded | undefined
  readonly nonce: string | undefined
  readonly validateIdToken: boolean
}

const fail = (field: string, reason: string) => Either.left(new InvalidOptionError({ field, reason }))

/**
 * Checks that at most one client credential is given and loads it; `now` (epoch ms) checks a certificate's
 * validity period when known.
 *
 * @internal
 */
export const checkClientCredential = (
  options: ClientCredentialOptions & { readonly clientId: string },
  now: number | undefined
): Either.Either<ClientCredentialSettings, InvalidOptionError> =>
  Either.gen(function*() {
    const given = [
      options.clientSecret === undefined ? [] : ["clientSecret"],
      options.clientCertificate === undefined ? [] : ["clientCertificate"],
      options.clientAssertion === undefined ? [] : ["clientAssertion"]
    ].flat()
    if (given.length > 1) {
      return yield* fail(given[1]!, `give one client credential, not ${given.join(" and ")}`)
    }
    if (options.nonce !== undefined && (typeof options.nonce !== "string" || options.nonce === "")) {
      return yield* fail("nonce", "must be the non-empty nonce sent with the authorize request")
    }
    if (options.validateIdToken !== undefined && typeof options.validateIdToken !== "boolean") {
      return yield* fail("validateIdToken", "must be a boolean")
    }
    if (options.validateIdToken === false && options.nonce !== undefined) {
      return yield* fail("nonce", "a nonce is checked by validating the ID token: drop validateIdToken: false")
    }
    let clientCredential: ClientCredential.Loaded | undefined
    if (options.clientCertificate !== undefined) {
      clientCredential = yield* ClientCredential.fromCertificate(options.clientCertificate, options.clientId, now)
    } else if (options.clientAssertion !== undefined) {
      if (!Effect.isEffect(options.clientAssertion)) {
        return yield* fail("clientAssertion", "must be an Effect yielding a Redacted JWT")
      }
      clientCredential = ClientCredential.fromAssertion(options.clientAssertion)
    }
    return {
      clientCredential,
      nonce: options.nonce,
      validateIdToken: options.validateIdToken ?? true
    }
  })

const flag = (name: string) =>
  Config.option(Config.string(name)).pipe(
    Config.map(Option.map((value) => /^(?:1|true|yes|on)$/i.test(value.trim())))
  )

/**
 * The Azure SDK's variables: `AZURE_CLIENT_CERTIFICATE_PATH` (with `AZURE_CLIENT_CERTIFICATE_PASSWORD` and
 * `AZURE_CLIENT_SEND_CERTIFICATE_CHAIN`), or `AZURE_FEDERATED_TOKEN_FILE`, read for every request.
 *
 * @internal
 */
export const clientCredentialConfig: Config.Config<
  Pick<ClientCredentialOptions, "clientCertificate" | "clientAssertion">
> = Config.all({
  certificatePath: Config.option(Config.string("AZURE_CLIENT_CERTIFICATE_PATH")),
  password: Config.option(Config.redacted("AZURE_CLIENT_CERTIFICATE_PASSWORD")),
  sendChain: flag("AZURE_CLIENT_SEND_CERTIFICATE_CHAIN"),
  tokenFile: Config.option(Config.string("AZURE_FEDERATED_TOKEN_FILE"))
}).pipe(Config.map((c) => ({
  clientCertificate: Option.match(c.certificatePath, {
    onNone: () => undefined,
    onSome: (certificatePath): ClientCredential.CertificateOptions => ({
      certificatePath,
      password: Option.getOrUndefined(c.password),
      sendCertificateChain: Option.getOrUndefined(c.sendChain)
    })
  }),
  clientAssertion: Option.match(c.tokenFile, {
    onNone: () => undefined,
    onSome: ClientCredential.assertionFromFile
  })
})))
