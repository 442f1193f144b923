/**
 * The default directory: the tenants, apps and users every emulator starts with.
 *
 * @internal
 */
import type { EmulatorConfig } from "../EmulatorConfig.js"

/**
 * The fixed ids of the default directory, so tests and docs can name them.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultIds = {
  tenantId: "8eaef023-2b34-4da1-9baa-8bc8c9d6a490",
  otherTenantId: "3c0a6f1e-7d2b-4b8e-a5c4-9f1e2d3c4b5a",
  clientId: "2f4b6e1a-9c3d-4a5e-8b7f-0d1c2e3f4a5b",
  clientSecret: "emu~Secret.0123456789abcdefABCDEF_-xyz",
  publicClientId: "7c9e2d4f-1a3b-4c5d-9e8f-6a7b8c9d0e1f",
  redirectUri: "http://localhost/callback"
} as const

/**
 * The default directory: two tenants, a confidential web app exposing `access_as_user`, a public (native) client
 * for a CLI, and three users: alice (Contoso's administrator, a guest in Fabrikam), bob (Contoso only), carol (Fabrikam, a guest
 * in Contoso).
 *
 * @since 0.1.0
 * @category constants
 */
export const defaults: EmulatorConfig = {
  tenants: [
    { id: defaultIds.tenantId, domains: ["contoso.example"], displayName: "Contoso (emulated)" },
    { id: defaultIds.otherTenantId, domains: ["fabrikam.example"], displayName: "Fabrikam (emulated)" }
  ],
  apps: [
    {
      clientId: defaultIds.clientId,
      displayName: "Emulator web app",
      type: "web",
      secrets: [defaultIds.clientSecret],
      redirectUris: [
        "http://localhost",
        "http://127.0.0.1",
        "http://localhost/callback",
        "http://127.0.0.1/callback",
        "https://localhost/callback"
      ],
      apiScopes: ["access_as_user"],
      tenantId: defaultIds.tenantId,
      multiTenant: true,
      accessTokenAcceptedVersion: 2,
      requireConsent: false,
      adminConsent: [],
      certificates: []
    },
    {
      clientId: defaultIds.publicClientId,
      displayName: "Emulator CLI (public client)",
      type: "native",
      secrets: [],
      redirectUris: ["http://localhost", "http://127.0.0.1", "http://localhost/callback", "http://127.0.0.1/callback"],
      apiScopes: [],
      tenantId: defaultIds.tenantId,
      multiTenant: true,
      accessTokenAcceptedVersion: 2,
      requireConsent: false,
      adminConsent: [],
      certificates: []
    }
  ],
  users: [
    {
      username: "alice@contoso.example",
      name: "Alice Example",
      oid: "e2a5f2b0-3c1d-4e6f-8a9b-0c1d2e3f4a5b",
      tenantId: defaultIds.tenantId,
      guestOf: [defaultIds.otherTenantId],
      admin: true
    },
    {
      username: "bob@contoso.example",
      name: "Bob Example",
      oid: "f3b6a3c1-4d2e-4f7a-9bac-1d2e3f4a5b6c",
      tenantId: defaultIds.tenantId
    },
    {
      username: "carol@fabrikam.example",
      name: "Carol Example",
      oid: "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
      tenantId: defaultIds.otherTenantId,
      guestOf: [defaultIds.tenantId]
    }
  ],
  accessTokenLifetime: 3599,
  refreshTokenLifetime: 90 * 24 * 3600,
  authorizationCodeLifetime: 600,
  refreshIn: undefined,
  refreshTokenRotation: "lenient",
  resourceScope: "access_as_user",
  resourceAudience: `api://${defaultIds.clientId}`,
  maxRequestBodyBytes: 1024 * 1024,
  deviceCodeLifetime: 900,
  deviceCodeInterval: 5,
  clientAssertionReplay: "allow"
}
