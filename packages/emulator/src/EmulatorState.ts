/**
 * The emulator's mutable state: issued codes and refresh tokens, the clock offset, the issue sequence used by CAE
 * challenges, queued faults and the request log. Plus the read-only context every endpoint shares.
 *
 * JavaScript is single-threaded and every mutation here is one synchronous step, so plain maps are safe.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import type * as FiberSet from "effect/FiberSet"
import * as Crypto from "node:crypto"
import type { App, EmulatorConfig, Tenant, User } from "./EmulatorConfig.js"
import type { QueuedFault } from "./Faults.js"
import type { RequestLogEntry } from "./RequestLog.js"
import type { SigningKey } from "./SigningKeys.js"

/**
 * What an authorization code is bound to.
 *
 * @since 0.1.0
 * @category models
 */
export interface CodeGrant {
  readonly clientId: string
  /** The tenant path segment the code was issued on, lower-cased (redemption must use the same). */
  readonly tenantSegment: string
  /** The tenant the tokens are issued in. */
  readonly tid: string
  readonly user: User
  readonly redirectUri: string
  readonly scopes: ReadonlyArray<string>
  readonly codeChallenge: string | undefined
  readonly codeChallengeMethod: "S256" | "plain" | undefined
  readonly nonce: string | undefined
  readonly claims: string | undefined
  readonly issuedAt: number
  used: boolean
}

/**
 * What a refresh token is bound to: the user and client pair (not a resource), as Entra.
 *
 * @since 0.1.0
 * @category models
 */
export interface RefreshGrant {
  readonly clientId: string
  readonly tid: string
  readonly user: User
  readonly scopes: ReadonlyArray<string>
  readonly issuedAt: number
  revoked: boolean
  used: boolean
}

/**
 * A device-code sign-in (RFC 8628): pending until the user enters the code and accepts or declines.
 *
 * @since 0.1.0
 * @category models
 */
export interface DeviceGrant {
  readonly clientId: string
  readonly tenantSegment: string
  readonly scopes: ReadonlyArray<string>
  readonly userCode: string
  readonly issuedAt: number
  readonly expiresAt: number
  /** The polling interval, seconds. */
  readonly interval: number
  lastPollAt: number | undefined
  status: "pending" | "approved" | "declined" | "redeemed"
  user: User | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface ResourceChallenge {
  /** The claims request (minified JSON) sent in the challenge. */
  readonly claims: string
  /** Access tokens with an issue sequence at or below this are rejected. */
  readonly beforeSeq: number
}

/**
 * @since 0.1.0
 * @category models
 */
export interface State {
  codes: Map<string, CodeGrant>
  refreshTokens: Map<string, RefreshGrant>
  offsetMs: number
  issueSeq: number
  /** `uti` → issue sequence number of every access token issued. */
  tokenSeq: Map<string, number>
  challenge: ResourceChallenge | undefined
  /** Device codes by `device_code`. */
  deviceCodes: Map<string, DeviceGrant>
  /** Delegated permissions users granted (`user oid|client id|tenant id` → `resource/permission`). */
  consents: Map<string, Set<string>>
  /** Permissions an administrator granted for every user of a tenant (`client id|tenant id` → `resource/permission`). */
  adminConsents: Map<string, Set<string>>
  /** Client-assertion `jti`s seen (`clientId:jti` → `exp`, seconds). */
  assertionIds: Map<string, number>
  faults: Array<QueuedFault>
  log: Array<RequestLogEntry>
  logSeq: number
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const emptyState = (): State => ({
  codes: new Map(),
  refreshTokens: new Map(),
  offsetMs: 0,
  issueSeq: 0,
  tokenSeq: new Map(),
  challenge: undefined,
  deviceCodes: new Map(),
  consents: new Map(),
  adminConsents: new Map(),
  assertionIds: new Map(),
  faults: [],
  log: [],
  logSeq: 0
})

/**
 * Clears everything in place: grants, faults, log, challenge and the clock offset.
 *
 * @since 0.1.0
 * @category mutations
 */
export const reset = (state: State): void => {
  Object.assign(state, emptyState())
}

/**
 * What every endpoint needs.
 *
 * @since 0.1.0
 * @category models
 */
export interface EmulatorContext {
  readonly config: EmulatorConfig
  /** `https://127.0.0.1:PORT`, no trailing slash. */
  readonly authority: string
  readonly signingKey: SigningKey
  readonly state: State
  /** The fault streams in flight (endless and slow bodies), interrupted when the emulator closes. */
  readonly streams: FiberSet.FiberSet<void, never>
}

/**
 * The emulator clock: the Effect `Clock` plus the offset moved by `advanceTime`.
 *
 * @since 0.1.0
 * @category time
 */
export const now = (ctx: EmulatorContext): Effect.Effect<number> =>
  Effect.map(Clock.currentTimeMillis, (t) => t + ctx.state.offsetMs)

/**
 * An opaque random string (base64url), for codes and refresh tokens.
 *
 * @since 0.1.0
 * @category ids
 */
export const randomToken = (prefix: string, bytes: number): string =>
  `${prefix}${Crypto.randomBytes(bytes).toString("base64url")}`

/**
 * @since 0.1.0
 * @category ids
 */
export const guid = (): string => Crypto.randomUUID()

/**
 * How a tenant path segment resolved.
 *
 * @since 0.1.0
 * @category models
 */
export type TenantResolution =
  | { readonly _tag: "Tenant"; readonly tenant: Tenant }
  | { readonly _tag: "Multi"; readonly segment: "common" | "organizations" | "consumers" }
  | { readonly _tag: "Unknown" }

/**
 * Resolves `/{tenant}/...`: a configured GUID or domain, or `common` / `organizations` / `consumers`.
 *
 * @since 0.1.0
 * @category lookups
 */
export const resolveTenant = (config: EmulatorConfig, segment: string): TenantResolution => {
  const s = segment.toLowerCase()
  if (s === "common" || s === "organizations" || s === "consumers") return { _tag: "Multi", segment: s }
  const tenant = config.tenants.find((t) => t.id.toLowerCase() === s || t.domains.some((d) => d.toLowerCase() === s))
  return tenant === undefined ? { _tag: "Unknown" } : { _tag: "Tenant", tenant }
}

/**
 * The app with this client id, if it may be used in the given tenant (`undefined` = a multi-tenant alias).
 *
 * @since 0.1.0
 * @category lookups
 */
export const findApp = (config: EmulatorConfig, clientId: string, tenant: Tenant | undefined): App | undefined => {
  const app = config.apps.find((a) => a.clientId.toLowerCase() === clientId.toLowerCase())
  if (app === undefined) return undefined
  if (tenant !== undefined && !app.multiTenant && app.tenantId?.toLowerCase() !== tenant.id.toLowerCase()) {
    return undefined
  }
  return app
}

/**
 * @since 0.1.0
 * @category lookups
 */
export const findUser = (config: EmulatorConfig, username: string): User | undefined =>
  config.users.find((u) => u.username.toLowerCase() === username.trim().toLowerCase())

/**
 * The user's home tenant id.
 *
 * @since 0.1.0
 * @category lookups
 */
export const homeTenantId = (config: EmulatorConfig, user: User): string => user.tenantId ?? config.tenants[0]!.id

/**
 * Whether the user may get tokens in the tenant: a member (home tenant) or a guest.
 *
 * @since 0.1.0
 * @category lookups
 */
export const isMemberOf = (config: EmulatorConfig, user: User, tid: string): boolean =>
  [homeTenantId(config, user), ...(user.guestOf ?? [])].some((id) => id.toLowerCase() === tid.toLowerCase())

/**
 * The user's object id in a tenant: the home object id at home; as a guest, the guest account's own id (stable,
 * different per tenant), as in Entra.
 *
 * @since 0.1.0
 * @category lookups
 */
export const objectIdIn = (config: EmulatorConfig, user: User, tid: string): string => {
  if (homeTenantId(config, user).toLowerCase() === tid.toLowerCase()) return user.oid
  const h = Crypto.createHash("sha256").update(`guest:${user.oid.toLowerCase()}:${tid.toLowerCase()}`).digest("hex")
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`
}
