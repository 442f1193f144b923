/**
 * Scope parsing with Entra's rules: OIDC scopes, fully qualified resource scopes (`api://{id}/x`,
 * `https://graph.microsoft.com/User.Read`), bare names meaning Microsoft Graph, and `{resource}/.default`.
 *
 * @since 0.1.0
 */
import type { EmulatorConfig } from "./EmulatorConfig.js"

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

/**
 * Splits a space-separated scope parameter.
 *
 * @since 0.1.0
 * @category parsing
 */
export const split = (scope: string | undefined): ReadonlyArray<string> =>
  (scope ?? "").split(" ").filter((s) => s.length > 0)

const resourcesOf = (config: EmulatorConfig): Map<string, ReadonlyArray<string>> => {
  const map = new Map<string, ReadonlyArray<string>>([[graphResource, graphScopes]])
  for (const app of config.apps) {
    if (app.apiScopes.length > 0) map.set(`api://${app.clientId}`, app.apiScopes)
  }
  return map
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
  const byResource = new Map<string, { scp: Array<string>; scopes: Array<string> }>()
  for (const raw of scopes) {
    const lower = raw.toLowerCase()
    if (oidcScopes.has(lower)) {
      if (!oidc.includes(lower)) oidc.push(lower)
      continue
    }
    const slash = raw.lastIndexOf("/")
    const [resource, name] = slash > 0 && raw.includes("://") ?
      [raw.slice(0, slash), raw.slice(slash + 1)] :
      [graphResource, raw]
    const declared = [...known.entries()].find(([r]) => r.toLowerCase() === resource.toLowerCase())
    if (declared === undefined) return { _tag: "Unknown", scope: raw }
    const [id, permissions] = declared
    const entry = byResource.get(id) ?? { scp: [], scopes: [] }
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
        // Entra lists the expanded permissions, then `.default` itself (ENTRA-PROTOCOL §5.1 example).
        scopes: [
          ...e.scp.map((p) => `${resource}/${p}`),
          ...e.scopes.filter((s) => s.endsWith("/.default"))
        ]
      }))
    }
  }
}
