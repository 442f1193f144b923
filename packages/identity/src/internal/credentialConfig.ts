/**
 * The credential's options read from the environment, with the Azure SDK's variable names.
 *
 * @internal
 */
import * as Config from "effect/Config"
import * as Option from "effect/Option"
import { clientCredentialConfig } from "./clientCredentialOptions.js"
import type { Options } from "./credentialOptions.js"

/**
 * Reads a flag variable such as `AZURE_IDENTITY_DISABLE_MULTITENANTAUTH`: `1`, `true`, `yes` or `on`, in any
 * case and ignoring surrounding spaces, is on; anything else (unset included) is off. The Effect API and the
 * Promise facade both read the variable through this.
 *
 * @since 0.1.0
 * @category config
 */
export const parseFlag = (value: string | undefined): boolean =>
  value !== undefined && /^(?:1|true|yes|on)$/i.test(value.trim())

/**
 * `AZURE_IDENTITY_DISABLE_MULTITENANTAUTH`, read with {@link parseFlag}.
 *
 * @since 0.1.0
 * @category config
 */
export const disableMultiTenantAuthConfig: Config.Config<boolean> = Config.map(
  Config.string("AZURE_IDENTITY_DISABLE_MULTITENANTAUTH"),
  parseFlag
)

/**
 * The settings read from the environment: `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_REDIRECT_URI`,
 * `AZURE_AUTHORIZATION_CODE` (or `AZURE_HOME_ACCOUNT_ID` to resume), and optionally `AZURE_CLIENT_SECRET`,
 * `AZURE_CODE_VERIFIER`, `AZURE_AUTHORITY_HOST`, `AZURE_ADDITIONALLY_ALLOWED_TENANTS` (`;` or `,` separated),
 * `AZURE_CLIENT_CERTIFICATE_PATH` (with `AZURE_CLIENT_CERTIFICATE_PASSWORD` and
 * `AZURE_CLIENT_SEND_CERTIFICATE_CHAIN`) or `AZURE_FEDERATED_TOKEN_FILE` (read for every request). Secrets are
 * read with `Config.redacted`.
 *
 * @since 0.1.0
 * @category config
 */
export const config: Config.Config<Options> = Config.all({
  tenantId: Config.string("AZURE_TENANT_ID"),
  clientId: Config.string("AZURE_CLIENT_ID"),
  redirectUri: Config.string("AZURE_REDIRECT_URI"),
  authorizationCode: Config.option(Config.redacted("AZURE_AUTHORIZATION_CODE")),
  homeAccountId: Config.option(Config.string("AZURE_HOME_ACCOUNT_ID")),
  clientSecret: Config.option(Config.redacted("AZURE_CLIENT_SECRET")),
  codeVerifier: Config.option(Config.redacted("AZURE_CODE_VERIFIER")),
  authority: Config.option(Config.string("AZURE_AUTHORITY_HOST")),
  additionallyAllowedTenants: Config.option(Config.string("AZURE_ADDITIONALLY_ALLOWED_TENANTS")),
  clientCredential: clientCredentialConfig
}).pipe(Config.map((c): Options => ({
  ...c.clientCredential,
  tenantId: c.tenantId,
  clientId: c.clientId,
  redirectUri: c.redirectUri,
  authorizationCode: Option.getOrUndefined(c.authorizationCode),
  homeAccountId: Option.getOrUndefined(c.homeAccountId),
  clientSecret: Option.getOrUndefined(c.clientSecret),
  codeVerifier: Option.getOrUndefined(c.codeVerifier),
  authority: Option.getOrUndefined(c.authority),
  additionallyAllowedTenants: Option.match(c.additionallyAllowedTenants, {
    onNone: () => undefined,
    onSome: (list) => list.split(/[;,]/).map((tenant) => tenant.trim()).filter((tenant) => tenant !== "")
  })
})))
