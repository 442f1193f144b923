/**
 * Scope parsing with Entra's rules: OIDC scopes, fully qualified resource scopes (`api://{id}/x`,
 * `https://graph.microsoft.com/User.Read`), bare names meaning Microsoft Graph, and `{resource}/.default`.
 *
 * @since 0.1.0
 */
import type { App, EmulatorConfig } from "./EmulatorConfig.js"

/**
 * @since 0.1.0
 * @category constants
 */
export const oidcScopes: ReadonlySet<string> = new Set(["openid", "profile", "email", "offline_access"])

/**
 * @since 0.1.0
 * @category constants
 */
export const graphResource = "https://graph.microsoft.com"

const graphScopes = ["User.Read", "User.ReadBasic.All", "Mail.Read", "Mail.Send", "Calendars.Read", "Files.Read"]

/**
 * One resource's part of a scope request.
 *
 * @since 0.1.0
 * @category models
 */
export interface ResourceScopes {
  /** The resource identifier, used as the access token's `aud`. */
  readonly resource: string
  /** The granted delegated permissions (the `scp` claim), `.default` expanded. */
  readonly scp: ReadonlyArray<string>
  /** The scope strings for the response's `scope` field. */
  readonly scopes: ReadonlyArray<string>
  /** The app registration that exposes this API (`undefined` for Microsoft Graph). */
  readonly app: App | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface ParsedScopes {
  readonly oidc: ReadonlyArray<string>
  readonly resources: ReadonlyArray<ResourceScopes>
}

/**
 * @since 0.1.0
 * @category models
 */
export type ParseResult =
  | { readonly _tag: "Ok"; readonly scopes: ParsedScopes }
  | { readonly _tag: "Unknown"; readonly scope: string }
  | { readonly _tag: "UnknownResource"; readonly resource: string }

/**
 * Splits a space-separated scope parameter.
 *
 * @since 0.1.0
 * @category parsing
 */
export const split = (scope: string | undefined): ReadonlyArray<string> =>
  (scope ?? "").split(" ").filter((s) => s.length > 0)

interface KnownResource {
  readonly permissions: ReadonlyArray<string>
  readonly app: App | undefined
}

const resourcesOf = (config: EmulatorConfig): Map<string, KnownResource> => {
  const map = new Map<string, KnownResource>([[graphResource, { permissions: graphScopes, app: undefined }]])
  // Every app is a resource (its `.default` names it, e.g. for client credentials); only some expose scopes.
  for (const app of config.apps) map.set(`api://${app.clientId}`, { permissions: app.apiScopes, app })
  return map
}

// Entra accepts an API by App ID URI, by bare client id, and Graph by its well-known app id.
const graphAppId = "00000003-0000-0000-c000-000000000000"
const guidPrefix = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\/(.+)$/i

const splitResource = (raw: string): readonly [string, string] => {
  const byId = guidPrefix.exec(raw)
  if (byId !== null) {
    const id = byId[1]!.toLowerCase()
    return [id === graphAppId ? graphResource : `api://${id}`, byId[2]!]
  }
  const slash = raw.lastIndexOf("/")
  return slash > 0 && raw.includes("://") ? [raw.slice(0, slash), raw.slice(slash + 1)] : [graphResource, raw]
}

/**
 * Classifies scopes by resource, in the order requested. An unknown scope is reported, as Entra's AADSTS70011.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parse = (config: EmulatorConfig, scopes: ReadonlyArray<string>): ParseResult => {
  const known = resourcesOf(config)
  const oidc: Array<string> = []
  const byResource = new Map<string, { scp: Array<string>; scopes: Array<string>; app: App | undefined }>()
  for (const raw of scopes) {
    const lower = raw.toLowerCase()
    if (oidcScopes.has(lower)) {
      if (!oidc.includes(lower)) oidc.push(lower)
      continue
    }
    const [resource, name] = splitResource(raw)
    const declared = [...known.entries()].find(([r]) => r.toLowerCase() === resource.toLowerCase())
    // An unknown resource is AADSTS500011; an unknown permission of a known one is AADSTS70011.
    if (declared === undefined) return { _tag: "UnknownResource", resource }
    const [id, { app, permissions }] = declared
    const entry = byResource.get(id) ?? { scp: [], scopes: [], app }
    if (name === ".default") {
      // `.default` means the consented permissions: all of an emulated API's, and User.Read of Graph.
      for (const p of id === graphResource ? ["User.Read"] : permissions) {
        if (!entry.scp.includes(p)) entry.scp.push(p)
      }
      entry.scopes.push(`${id}/.default`)
    } else {
      const p = permissions.find((x) => x.toLowerCase() === name.toLowerCase())
      if (p === undefined) return { _tag: "Unknown", scope: raw }
      if (!entry.scp.includes(p)) entry.scp.push(p)
      entry.scopes.push(`${id}/${p}`)
    }
    byResource.set(id, entry)
  }
  return {
    _tag: "Ok",
    scopes: {
      oidc,
      resources: [...byResource.entries()].map(([resource, e]) => ({
        resource,
        scp: e.scp,
        app: e.app,
        // Entra lists the expanded permissions, then `.default` itself; Graph's by their short names, which is
        // what MSAL's cache matches a later silent request against.
        scopes: [
          ...e.scp.map((p) => resource === graphResource ? p : `${resource}/${p}`),
          ...e.scopes.filter((s) => s.endsWith("/.default"))
        ]
      }))
    }
  }
}
