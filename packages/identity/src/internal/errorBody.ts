/**
 * What an `AuthenticationError` keeps of a response body: Entra's documented error fields (an allow-list, never a
 * scrub of the raw text), each with the request's own secrets blanked out and truncated; of a body that is not
 * JSON, a short excerpt of its text, scrubbed the same way.
 */
import type { ErrorResponse } from "../AuthenticationError.js"

/** Longest string kept in a typed field (`errorDescription`, `claims`, ...). */
export const maxFieldLength = 8 * 1024
/** Longest excerpt of a body that is not JSON. */
export const maxExcerptLength = 200
// Only the head of a non-JSON body is looked at: the excerpt is its first few words.
const excerptWindow = 16 * 1024

const allowedStrings = [
  "error",
  "error_description",
  "timestamp",
  "trace_id",
  "correlation_id",
  "suberror",
  "claims",
  "error_uri"
] as const

/** The forms a secret sent in a form body may take when a server echoes it. */
const variantsOf = (secret: string): ReadonlyArray<string> => {
  const json = JSON.stringify(secret).slice(1, -1)
  const html = secret.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;")
  const form = new URLSearchParams({ s: secret }).toString().slice(2)
  return Array.from(new Set([secret, encodeURIComponent(secret), form, json, html, JSON.stringify(json).slice(1, -1)]))
}

const jwtLike = /eyJ[\w-]*\.[\w-]*\.?[\w-]*/g
const secretParameter =
  /((?:access_token|refresh_token|id_token|client_secret|code|code_verifier|client_assertion|assertion)["']?\s*[=:]\s*["']?)[^"'&\s,;<>}]+/gi
const longRun = /[\w.~+/=%-]{40,}/g

/** Blanks out the request's own secrets (in their echoed forms) and anything shaped like a JWT. */
export const redactSecrets = (text: string, secrets: ReadonlyArray<string>): string => {
  let result = text
  for (const secret of secrets) {
    if (secret.length === 0) continue
    for (const variant of variantsOf(secret)) result = result.split(variant).join("***")
  }
  return result.replace(jwtLike, "***")
}

/** Cuts a string to `max` characters, saying so. */
export const truncate = (text: string, max: number): string =>
  text.length > max ? `${text.slice(0, max)}...(truncated)` : text

const cleanField = (value: string, secrets: ReadonlyArray<string>, max = maxFieldLength) =>
  truncate(redactSecrets(value, secrets), max)

/**
 * The allow-listed fields of an error body that is a JSON object. `body` is what the error keeps: those fields,
 * and the names of any others with `***` for their values (a 200 without `access_token` shows what it had).
 */
export const allowListed = (
  parsed: Record<string, unknown>,
  secrets: ReadonlyArray<string>
): {
  readonly fields: Partial<Record<(typeof allowedStrings)[number], string>> & { error_codes?: Array<number> }
  readonly body: string
} => {
  const fields: Record<string, unknown> = {}
  for (const name of allowedStrings) {
    const value = parsed[name]
    if (typeof value === "string") fields[name] = cleanField(value, secrets, name === "error" ? 256 : maxFieldLength)
  }
  const codes = parsed.error_codes
  if (Array.isArray(codes)) {
    const numbers = codes.filter((c): c is number => typeof c === "number" && Number.isSafeInteger(c)).slice(0, 16)
    if (numbers.length > 0) fields.error_codes = numbers
  }
  const others: Record<string, string> = {}
  let count = 0
  for (const key of Object.keys(parsed)) {
    if (key in fields || (allowedStrings as ReadonlyArray<string>).includes(key) || key === "error_codes") continue
    if (count++ >= 32) break
    if (/^[A-Za-z0-9_.-]{1,64}$/.test(key) && redactSecrets(key, secrets) === key) others[key] = "***"
  }
  return { fields, body: JSON.stringify({ ...fields, ...others }) }
}

const entities: Record<string, string> = { "&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": "\"", "&#39;": "'" }

/**
 * A few words from the start of a body that is not JSON (a gateway's HTML page, a text error): tags dropped,
 * whitespace collapsed, secrets and long token-like runs blanked out, at most {@link maxExcerptLength} characters.
 * A body that looks like JSON but does not parse (a token response cut off) keeps no excerpt.
 */
export const excerpt = (text: string, secrets: ReadonlyArray<string>): string | undefined => {
  const head = text.trimStart()
  if (head.startsWith("{") || head.startsWith("[") || head.startsWith("\"")) return undefined
  let window = head.slice(0, excerptWindow)
  // A secret cut in two by the window would escape the exact-value match: drop the partial last word.
  if (head.length > excerptWindow) window = window.replace(/\S*$/, "")
  const words = window
    .replace(/<(script|style)\b[\s\S]*?(<\/\1\s*>|$)/gi, " ")
    .replace(/<[^>]*>?/g, " ")
    .replace(/&(?:amp|lt|gt|quot|#39);/g, (entity) => entities[entity])
    .replace(/\s+/g, " ")
    .trim()
  const scrubbed = redactSecrets(words, secrets).replace(secretParameter, "$1***").replace(longRun, "***")
  return scrubbed === "" ? undefined : truncate(scrubbed, maxExcerptLength)
}

/** `ErrorResponse` from allow-listed fields; `fallback` fills `error` and the description when they are absent. */
export const toErrorResponse = (
  fields: ReturnType<typeof allowListed>["fields"],
  traceIdHeader: string | undefined
): ErrorResponse | undefined => {
  const error = fields.error
  if (error === undefined) return undefined
  return {
    error,
    errorDescription: fields.error_description ?? error,
    errorCodes: fields.error_codes,
    timestamp: fields.timestamp,
    traceId: fields.trace_id ?? traceIdHeader,
    correlationId: fields.correlation_id,
    errorUri: fields.error_uri,
    suberror: fields.suberror,
    claims: fields.claims
  }
}

/** A header value fit to quote: secrets blanked out, at most `max` characters of printable ASCII. */
export const headerValue = (
  value: string | undefined,
  secrets: ReadonlyArray<string>,
  max = 128
): string | undefined => {
  if (value === undefined) return undefined
  const clean = redactSecrets(value, secrets).replace(/[^\x20-\x7e]/g, "")
  return clean === "" ? undefined : truncate(clean, max)
}
