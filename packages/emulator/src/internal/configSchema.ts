/**
 * The configuration file format: tenants, app registrations, users and lifetimes, as Schemas.
 *
 * @internal
 */
import * as Schema from "effect/Schema"

const Guid = Schema.String.pipe(
  Schema.pattern(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, {
    message: () => "expected a GUID such as 00000000-0000-0000-0000-000000000000"
  })
)

/**
 * @since 0.1.0
 * @category schemas
 */
export const Tenant = Schema.Struct({
  id: Guid,
  /** Verified domains that may stand in for the GUID in URLs, e.g. `contoso.example`. */
  domains: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] }),
  displayName: Schema.optionalWith(Schema.String, { default: () => "Emulated tenant" })
})
/**
 * @since 0.1.0
 * @category models
 */
export type Tenant = typeof Tenant.Type

/**
 * `web` is a confidential client (a secret is required); `spa` and `native` are public clients.
 *
 * @since 0.1.0
 * @category schemas
 */
export const AppType = Schema.Literal("web", "spa", "native")

/**
 * @since 0.1.0
 * @category schemas
 */
export const App = Schema.Struct({
  clientId: Guid,
  displayName: Schema.optionalWith(Schema.String, { default: () => "Emulated app" }),
  type: AppType,
  secrets: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] }),
  redirectUris: Schema.Array(Schema.String),
  /** Delegated scopes the app exposes as an API, published as `api://{clientId}/{scope}`. */
  apiScopes: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] }),
  /** The tenant the app is registered in; defaults to the first tenant. */
  tenantId: Schema.optional(Guid),
  /** Whether users of other configured tenants may use the app (Entra's "multitenant" audience). */
  multiTenant: Schema.optionalWith(Schema.Boolean, { default: () => true }),
  /**
   * The access-token version the app's API accepts (the manifest's `accessTokenAcceptedVersion`): 2 (the default)
   * puts the client id GUID in `aud`, 1 the App ID URI `api://{clientId}`.
   */
  accessTokenAcceptedVersion: Schema.optionalWith(Schema.Literal(1, 2), { default: () => 2 as const }),
  /**
   * Whether users must consent to the app's delegated permissions (Entra's consent model): an ungranted scope then
   * needs the consent page (interactive) or fails with AADSTS65001 (silent paths, refresh, on-behalf-of). Default
   * `false`: every permission counts as granted.
   */
  requireConsent: Schema.optionalWith(Schema.Boolean, { default: () => false }),
  /** Scopes an administrator granted for every user of the tenants (admin consent), e.g. `User.Read`. */
  adminConsent: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] }),
  /** X.509 certificates (PEM) whose keys may sign a `client_assertion` for this app (certificate credentials). */
  certificates: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] })
})
/**
 * @since 0.1.0
 * @category models
 */
export type App = typeof App.Type

/**
 * @since 0.1.0
 * @category schemas
 */
export const User = Schema.Struct({
  username: Schema.String,
  name: Schema.String,
  oid: Guid,
  /** The user's home tenant; defaults to the first tenant. */
  tenantId: Schema.optional(Guid),
  /**
   * Tenants the user is a guest (B2B) in. Entra issues tokens for a tenant only to its members and guests: a
   * refresh token sent to any other tenant is refused (AADSTS50020).
   */
  guestOf: Schema.optional(Schema.Array(Guid)),
  /** An administrator of the home tenant: may grant consent for everyone there (the admin-consent endpoint). */
  admin: Schema.optional(Schema.Boolean)
})
/**
 * @since 0.1.0
 * @category models
 */
export type User = typeof User.Type

const PositiveInt = Schema.Number.pipe(Schema.int(), Schema.positive())
const Seconds = PositiveInt

/**
 * The whole configuration, every field optional (the file format).
 *
 * @since 0.1.0
 * @category schemas
 */
export const EmulatorConfigInput = Schema.Struct({
  tenants: Schema.optional(Schema.Array(Tenant)),
  apps: Schema.optional(Schema.Array(App)),
  users: Schema.optional(Schema.Array(User)),
  /** Access and ID token lifetime in seconds (Entra: 60–90 min). Default 3599. */
  accessTokenLifetime: Schema.optional(Seconds),
  /** Refresh-token lifetime in seconds (Entra: 90 days of inactivity). */
  refreshTokenLifetime: Schema.optional(Seconds),
  /** Authorization-code lifetime in seconds (Entra: about 10 min). */
  authorizationCodeLifetime: Schema.optional(Seconds),
  /** `refresh_in` in seconds; by default sent as half the lifetime when the lifetime is at least 2 h, as Entra. */
  refreshIn: Schema.optional(Seconds),
  /** `lenient` (Entra): an old refresh token stays valid after rotation; `strict`: reuse fails. */
  refreshTokenRotation: Schema.optional(Schema.Literal("lenient", "strict")),
  /** The scope `/_resource/me` requires in `scp`. Default: the default app's `access_as_user`. */
  resourceScope: Schema.optional(Schema.String),
  /** The audience `/_resource/me` accepts. Default: `api://{default clientId}`. */
  resourceAudience: Schema.optional(Schema.String),
  /** Device-code lifetime in seconds (Entra: 900). */
  deviceCodeLifetime: Schema.optional(Seconds),
  /** The device-code polling interval in seconds (Entra: 5); a faster poll gets `slow_down`. */
  deviceCodeInterval: Schema.optional(Seconds),
  /**
   * `allow` (the default): a client assertion's `jti` may be presented again while it is valid (MSAL reuses one
   * assertion for up to ten minutes); `reject`: a second use fails.
   */
  clientAssertionReplay: Schema.optional(Schema.Literal("allow", "reject")),
  /** The largest request body accepted, in bytes; larger ones get a 413. Default 1 MiB. */
  maxRequestBodyBytes: Schema.optional(PositiveInt.pipe(Schema.lessThanOrEqualTo(1024 * 1024 * 1024)))
})
/**
 * @since 0.1.0
 * @category models
 */
export type EmulatorConfigInput = typeof EmulatorConfigInput.Encoded
