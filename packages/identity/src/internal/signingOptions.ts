import * as Either from "effect/Either"
import type { HostPattern, Options, Settings } from "../AuthenticatedHttpClient.js"
import { InvalidOptionError } from "../AuthenticationError.js"
import { normalizeScopes } from "./scopes.js"

// Scopes that name no resource: they never decide where the token may go.
const oidcScopes = new Set(["openid", "profile", "email", "offline_access"])

type Validated<A> = Either.Either<A, InvalidOptionError>

const fail = (field: string, reason: string) => Either.left(new InvalidOptionError({ field, reason }))

/**
 * The signed client's options checked and defaulted; nothing here touches the network.
 *
 * @internal
 */
export const validateSigningOptions = (options: Options): Validated<Settings> => {
  if (typeof options !== "object" || options === null) return fail("options", "an options object is required")
  const scopes = normalizeScopes(options.scopes)
  if (scopes instanceof InvalidOptionError) {
    return fail("scopes", "at least one scope is required, each a non-empty string")
  }
  if (options.enableCae !== undefined && typeof options.enableCae !== "boolean") {
    return fail("enableCae", "must be a boolean")
  }
  if (options.tenantId !== undefined && (typeof options.tenantId !== "string" || options.tenantId.trim() === "")) {
    return fail("tenantId", "must be a non-empty string")
  }
  const maxRedirects = options.maxRedirects ?? 10
  if (!Number.isInteger(maxRedirects) || maxRedirects < 0) {
    return fail("maxRedirects", "must be a non-negative integer")
  }
  const allowedHosts = options.allowedHosts === undefined
    ? hostsOfScopes(scopes)
    : listedHosts(options.allowedHosts)
  return Either.map(allowedHosts, (allowedHosts) => ({
    scopes,
    allowedHosts,
    enableCae: options.enableCae ?? true,
    tenantId: options.tenantId,
    maxRedirects
  }))
}

/** The `allowedHosts` option, each entry parsed. */
const listedHosts = (entries: ReadonlyArray<string>): Validated<ReadonlyArray<HostPattern>> => {
  if (!Array.isArray(entries) || entries.length === 0) {
    return fail("allowedHosts", "list at least one host, or leave it out to allow the scopes' hosts")
  }
  const patterns: Array<HostPattern> = []
  for (const entry of entries) {
    const pattern = typeof entry === "string" ? parseHostPattern(entry) : undefined
    if (pattern === undefined) {
      return fail("allowedHosts", `"${String(entry)}" is not a host, host:port, *.domain or http(s) origin`)
    }
    patterns.push(pattern)
  }
  return Either.right(patterns)
}

/** The default allow-list: the host of every resource scope. */
const hostsOfScopes = (scopes: ReadonlyArray<string>): Validated<ReadonlyArray<HostPattern>> => {
  const patterns: Array<HostPattern> = []
  for (const scope of scopes) {
    if (oidcScopes.has(scope.toLowerCase())) continue
    const pattern = hostOfScope(scope)
    if (pattern === undefined) {
      return fail(
        "allowedHosts",
        `the scope "${scope}" names no http(s) resource host; list the hosts the token may be sent to`
      )
    }
    patterns.push(pattern)
  }
  if (patterns.length === 0) {
    return fail("allowedHosts", "the scopes name no resource; list the hosts the token may be sent to")
  }
  return Either.right(patterns)
}

const hostOfScope = (scope: string): HostPattern | undefined => {
  if (!URL.canParse(scope)) return undefined
  const url = new URL(scope)
  if ((url.protocol !== "https:" && url.protocol !== "http:") || url.hostname === "") return undefined
  return { hostname: url.hostname, port: url.port === "" ? undefined : Number(url.port), subdomains: false }
}

/** `host`, `host:port`, `*.domain` or an http(s) origin; `undefined` when it is none of them. */
const parseHostPattern = (entry: string): HostPattern | undefined => {
  let text = entry.trim().toLowerCase()
  if (text.includes("://")) {
    if (!URL.canParse(text)) return undefined
    const url = new URL(text)
    const bare = url.pathname === "/" && url.search === "" && url.hash === "" && url.username === "" &&
      url.password === ""
    if ((url.protocol !== "https:" && url.protocol !== "http:") || !bare || url.hostname === "") return undefined
    return { hostname: url.hostname, port: url.port === "" ? undefined : Number(url.port), subdomains: false }
  }
  const subdomains = text.startsWith("*.")
  if (subdomains) text = text.slice(2)
  if (text === "" || /[/?#@\\\s*]/.test(text) || !URL.canParse(`https://${text}`)) return undefined
  const url = new URL(`https://${text}`)
  if (url.hostname === "" || (subdomains && (url.hostname.startsWith("[") || /^[\d.]+$/.test(url.hostname)))) {
    return undefined
  }
  // The port as written: URL drops 443 for https, but "host:443" means port 443 whatever the scheme.
  const written = /:(\d+)$/.exec(text)
  return { hostname: url.hostname, port: written === null ? undefined : Number(written[1]), subdomains }
}
