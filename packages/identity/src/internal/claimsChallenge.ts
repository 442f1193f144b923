import type { ClaimsChallenge } from "../AuthenticatedHttpClient.js"

/** @internal */
export const parseClaimsChallenge = (header: string | undefined): ClaimsChallenge => {
  if (header === undefined || header === "") return { _tag: "None" }
  const challenge = parseAuthenticate(header).find((c) =>
    c.scheme === "bearer" && c.params.get("error") === "insufficient_claims"
  )
  if (challenge === undefined) return { _tag: "None" }
  const claims = decodeClaims(challenge.params.get("claims"))
  if (claims === undefined) return { _tag: "Invalid" }
  return { _tag: "Claims", claims, tenantId: tenantOfAuthorizationUri(challenge.params.get("authorization_uri")) }
}

interface AuthChallenge {
  readonly scheme: string
  readonly params: Map<string, string>
}

const tchar = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/

/** RFC 7235 §4.1: `scheme [token68 | param *("," param)]`, challenges separated by commas. */
const parseAuthenticate = (header: string): ReadonlyArray<AuthChallenge> => {
  const challenges: Array<AuthChallenge> = []
  let current: AuthChallenge | undefined
  let i = 0
  const skipSpace = () => {
    while (header[i] === " " || header[i] === "\t") i++
  }
  const token = () => {
    const start = i
    while (i < header.length && tchar.test(header[i]!)) i++
    return header.slice(start, i)
  }
  const quoted = () => {
    let value = ""
    i++
    while (i < header.length && header[i] !== "\"") {
      if (header[i] === "\\") i++
      value += header[i] ?? ""
      i++
    }
    i++
    return value
  }
  while (i < header.length) {
    skipSpace()
    if (header[i] === ",") {
      i++
      continue
    }
    const name = token()
    if (name === "") {
      i++
      continue
    }
    skipSpace()
    if (header[i] === "=") {
      i++
      skipSpace()
      const value = header[i] === "\"" ? quoted() : token()
      if (value === "") {
        // token68 padding ("abc=="), not a parameter
        while (header[i] === "=") i++
        continue
      }
      const key = name.toLowerCase()
      if (current !== undefined && !current.params.has(key)) current.params.set(key, value)
      continue
    }
    current = { scheme: name.toLowerCase(), params: new Map() }
    challenges.push(current)
  }
  return challenges
}

const base64 = /^[A-Za-z0-9+/_-]+={0,2}$/

/** base64 (standard or url-safe) → UTF-8 → a JSON object; the JSON text is passed on as it is. */
const decodeClaims = (encoded: string | undefined): string | undefined => {
  const text = encoded?.trim() ?? ""
  if (!base64.test(text)) return undefined
  try {
    const json = new TextDecoder("utf-8", { fatal: true }).decode(Buffer.from(text, "base64"))
    const parsed: unknown = JSON.parse(json)
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) ? json : undefined
  } catch {
    return undefined
  }
}

const multiTenantSegments = new Set(["common", "organizations", "consumers"])

/** `https://login.microsoftonline.com/{tenant}/oauth2/...` → the tenant, unless it is a multi-tenant alias. */
const tenantOfAuthorizationUri = (uri: string | undefined): string | undefined => {
  if (uri === undefined || !URL.canParse(uri)) return undefined
  const segment = new URL(uri).pathname.split("/")[1] ?? ""
  if (!/^[A-Za-z0-9][A-Za-z0-9.-]*$/.test(segment) || multiTenantSegments.has(segment.toLowerCase())) {
    return undefined
  }
  return segment
}
