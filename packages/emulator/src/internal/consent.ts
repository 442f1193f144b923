/**
 * Entra's consent model for apps that require it: delegated permissions a user granted to an app in a tenant,
 * plus what an administrator granted for everyone. OIDC scopes need no consent.
 *
 * @internal
 */
import type { App, User } from "../EmulatorConfig.js"
import type { EmulatorContext } from "../EmulatorState.js"
import * as Scopes from "../Scopes.js"

const keyOf = (app: App, user: User, tid: string) =>
  `${user.oid.toLowerCase()}|${app.clientId.toLowerCase()}|${tid.toLowerCase()}`

const tenantKeyOf = (app: App, tid: string) => `${app.clientId.toLowerCase()}|${tid.toLowerCase()}`

// `resource/permission` for each delegated permission the scopes name (`.default` expanded).
const permissionsOf = (ctx: EmulatorContext, scopes: ReadonlyArray<string>): ReadonlyArray<string> => {
  const parsed = Scopes.parse(ctx.config, scopes)
  if (parsed._tag !== "Ok") return []
  return parsed.scopes.resources.flatMap((r) => r.scp.map((p) => `${r.resource}/${p}`.toLowerCase()))
}

/**
 * The permissions of `scopes` the user has not granted to the app in the tenant (none when the app does not
 * require consent).
 *
 * @internal
 */
export const missing = (
  ctx: EmulatorContext,
  app: App,
  user: User,
  tid: string,
  scopes: ReadonlyArray<string>
): ReadonlyArray<string> => {
  if (!app.requireConsent) return []
  const granted = new Set([
    ...permissionsOf(ctx, app.adminConsent),
    ...(ctx.state.adminConsents.get(tenantKeyOf(app, tid)) ?? []),
    ...(ctx.state.consents.get(keyOf(app, user, tid)) ?? [])
  ])
  return permissionsOf(ctx, scopes).filter((p) => !granted.has(p))
}

/**
 * Records the user's consent (the consent page's Accept).
 *
 * @internal
 */
export const grant = (ctx: EmulatorContext, app: App, user: User, tid: string, scopes: ReadonlyArray<string>): void => {
  const key = keyOf(app, user, tid)
  const granted = ctx.state.consents.get(key) ?? new Set<string>()
  for (const p of permissionsOf(ctx, scopes)) granted.add(p)
  ctx.state.consents.set(key, granted)
}

/**
 * Records an administrator's consent for every user of the tenant (the admin-consent endpoint's Accept).
 *
 * @internal
 */
export const grantForTenant = (ctx: EmulatorContext, app: App, tid: string, scopes: ReadonlyArray<string>): void => {
  const key = tenantKeyOf(app, tid)
  const granted = ctx.state.adminConsents.get(key) ?? new Set<string>()
  for (const p of permissionsOf(ctx, scopes)) granted.add(p)
  ctx.state.adminConsents.set(key, granted)
}
