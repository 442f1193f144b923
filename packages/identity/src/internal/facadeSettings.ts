/**
 * The Promise facade's constructor arguments (both of `@azure/identity`'s forms) checked and turned into the Effect
 * credential's settings, so a wrong setting throws from `new`, before anything is sent.
 */
import * as Clock from "effect/Clock"
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import type { InvalidOptionError } from "../AuthenticationError.js"
import * as Credential from "../AuthorizationCodeCredential.js"
import * as ClientCredential from "../ClientCredential.js"
import type { AuthorizationCodeCredentialOptions } from "../promise.js"
import { facadeHttpOptions } from "./facadeOptions.js"
import type { FacadeServices } from "./facadeRuntime.js"

const clock = Clock.make()

/** What the facade keeps from its arguments. */
export interface FacadeSettings {
  readonly settings: Credential.Settings
  readonly services: FacadeServices
}

/**
 * Reads `(tenantId, clientId, code, redirectUri, options?)` or, with the client secret third,
 * `(tenantId, clientId, secret, code, redirectUri, options?)`.
 */
export const facadeSettings = (
  tenantId: string,
  clientId: string,
  third: string,
  fourth: string,
  fifth: string | AuthorizationCodeCredentialOptions | undefined,
  sixth: AuthorizationCodeCredentialOptions | undefined
): Either.Either<FacadeSettings, InvalidOptionError> => {
  const withSecret = typeof fifth === "string"
  const options: AuthorizationCodeCredentialOptions = (withSecret ? sixth : fifth) ?? {}
  const clientSecret = withSecret ? third : options.clientSecret
  const code = withSecret ? fourth : third
  const redirectUri = withSecret ? fifth : fourth
  const http = facadeHttpOptions(options)
  if (Either.isLeft(http)) return Either.left(http.left)
  const credential = ClientCredential.fromPromiseOptions(options)
  if (Either.isLeft(credential)) return Either.left(credential.left)
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
    ...credential.right,
    nonce: options.nonce,
    validateIdToken: options.validateIdToken,
    http: http.right
  }, {
    authority: process.env.AZURE_AUTHORITY_HOST,
    disableMultiTenantAuth: Credential.parseFlag(process.env.AZURE_IDENTITY_DISABLE_MULTITENANTAUTH),
    // A certificate must be valid now: refused by the constructor rather than by Entra.
    now: clock.unsafeCurrentTimeMillis()
  })
  return Either.map(settings, (settings) => ({
    settings,
    services: { ca: options.ca, tokenCache: options.tokenCache, httpClient: options.httpClient }
  }))
}
