/**
 * What `effect-entra token` prints, as plain functions of the token's fields and the output options: no command-line
 * parser and no Effect runtime, so a fast path that finds the token in the cache can print it the same way.
 *
 * - `text` (the default): the bare token, so `$(effect-entra token ...)` captures it.
 * - `json`: the fields `az account get-access-token` prints where they apply (`accessToken`, `expiresOn`,
 *   `expires_on` in epoch seconds, `tenant`, `tokenType`; no `subscription`), plus `scopes`, and `token` and
 *   `tenantId` under their 0.1.0 names for the scripts written against them.
 * - `tsv`: the same values on one line, separated by tabs (arrays joined by spaces), as `az -o tsv` prints them.
 * - `none`: nothing (the exit code says whether a token was obtained).
 *
 * `--query` takes the small part of JMESPath that scripts use on this output: one field name (`accessToken`) or a
 * list of them (`[accessToken, expires_on]`). On JSON output the result is JSON (`"eyJ..."`, as `az` prints it);
 * otherwise the raw values, separated by tabs (`az ... --query accessToken -o tsv`). An unknown field is refused,
 * since a typo would otherwise print `null` into a script.
 *
 * @since 0.1.0
 */
import * as Redacted from "effect/Redacted"

/**
 * @since 0.1.0
 * @category models
 */
export type Format = "text" | "json" | "tsv" | "none"

/**
 * @since 0.1.0
 * @category constants
 */
export const formats: ReadonlyArray<Format> = ["text", "json", "tsv", "none"]

/**
 * The token, as the credential returned it.
 *
 * @since 0.1.0
 * @category models
 */
export interface TokenFields {
  readonly accessToken: Redacted.Redacted<string>
  /** Epoch milliseconds. */
  readonly expiresOnTimestamp: number
  readonly tokenType: string
  readonly tenantId: string
  readonly scopes: ReadonlyArray<string>
}

/**
 * The JSON object `--output json` prints, in this order.
 *
 * @since 0.1.0
 * @category models
 */
export interface TokenJson {
  readonly accessToken: string
  /** ISO 8601 in UTC, to the second (`az` prints local time without a zone; this is unambiguous). */
  readonly expiresOn: string
  /** Epoch seconds, as `az` prints it; `null` when the cached expiry is not a time. */
  readonly expires_on: number | null
  readonly tenant: string
  readonly tokenType: string
  readonly scopes: ReadonlyArray<string>
  /** The 0.1.0 name of `accessToken`. */
  readonly token: string
  /** The 0.1.0 name of `tenant`. */
  readonly tenantId: string
}

/**
 * The fields `--query` can name.
 *
 * @since 0.1.0
 * @category constants
 */
export const fieldNames: ReadonlyArray<keyof TokenJson> = [
  "accessToken",
  "expiresOn",
  "expires_on",
  "tenant",
  "tokenType",
  "scopes",
  "token",
  "tenantId"
]

/** The fields `tsv` prints without a query: the `az` ones, not the 0.1.0 duplicates. */
const tsvFields: ReadonlyArray<keyof TokenJson> = [
  "accessToken",
  "expiresOn",
  "expires_on",
  "tenant",
  "tokenType",
  "scopes"
]

/**
 * A parsed `--query`: the fields, and whether it was a list (`[a, b]` prints a JSON array even of one field).
 *
 * @since 0.1.0
 * @category models
 */
export interface Query {
  readonly fields: ReadonlyArray<keyof TokenJson>
  readonly list: boolean
}

/**
 * The output options.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly format: Format
  readonly query?: Query | undefined
}

/**
 * Why an option was refused (a usage error).
 *
 * @since 0.1.0
 * @category models
 */
export interface Invalid {
  readonly _tag: "Invalid"
  readonly reason: string
}

const invalid = (reason: string): Invalid => ({ _tag: "Invalid", reason })

/**
 * @since 0.1.0
 * @category guards
 */
export const isInvalid = (value: unknown): value is Invalid =>
  typeof value === "object" && value !== null && (value as { readonly _tag?: unknown })._tag === "Invalid"

/**
 * Reads `--output`.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseFormat = (text: string): Format | Invalid => {
  const format = formats.find((candidate) => candidate === text.trim().toLowerCase())
  return format ?? invalid(`--output: "${text}" is not one of ${formats.join(", ")}`)
}

/**
 * The output options from the flags as given (`--json`, `--output`, `--query`, each `undefined` when absent): an
 * unknown format or field, or `--json` with another `--output`, is {@link Invalid}.
 *
 * @since 0.1.0
 * @category parsing
 */
export const optionsFrom = (flags: {
  readonly json: boolean
  readonly output?: string | undefined
  readonly query?: string | undefined
}): Options | Invalid => {
  const format = flags.output === undefined ? (flags.json ? "json" : "text") : parseFormat(flags.output)
  if (isInvalid(format)) return format
  if (flags.json && format !== "json") {
    return invalid(`--json contradicts --output ${format} (--json means --output json)`)
  }
  if (flags.query === undefined) return { format }
  const query = parseQuery(flags.query)
  return isInvalid(query) ? query : { format, query }
}

const isField = (name: string): name is keyof TokenJson => (fieldNames as ReadonlyArray<string>).includes(name)

/**
 * Reads `--query`: `field` or `[field, field, ...]`.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseQuery = (text: string): Query | Invalid => {
  const trimmed = text.trim()
  const list = trimmed.startsWith("[") && trimmed.endsWith("]")
  const names = (list ? trimmed.slice(1, -1) : trimmed).split(",").map((name) => name.trim())
  const unknown = names.filter((name) => !isField(name))
  if (unknown.length > 0) {
    return invalid(
      `--query: ${unknown.map((name) => `"${name}"`).join(", ")} is not a field; use one of ` +
        `${fieldNames.join(", ")}, or a list such as [accessToken, expires_on] (for more, pipe --output json to jq)`
    )
  }
  return { fields: names.filter(isField), list }
}

/**
 * An epoch-ms time as ISO 8601 to the second, or `"invalid"` for a value no date can hold (a cache written by
 * anything can hold any number, and `toISOString` throws on those).
 *
 * @since 0.1.0
 * @category formatting
 */
export const isoTime = (ms: number): string => {
  const date = new Date(ms)
  return Number.isNaN(date.getTime()) ? "invalid" : date.toISOString().replace(/\.\d{3}Z$/, "Z")
}

/**
 * The JSON object of a token.
 *
 * @since 0.1.0
 * @category formatting
 */
export const toJson = (fields: TokenFields): TokenJson => {
  const token = Redacted.value(fields.accessToken)
  const expiresOn = isoTime(fields.expiresOnTimestamp)
  return {
    accessToken: token,
    expiresOn,
    expires_on: expiresOn === "invalid" ? null : Math.floor(fields.expiresOnTimestamp / 1000),
    tenant: fields.tenantId,
    tokenType: fields.tokenType,
    scopes: fields.scopes,
    token,
    tenantId: fields.tenantId
  }
}

const tsvValue = (value: TokenJson[keyof TokenJson]): string =>
  Array.isArray(value) ? value.join(" ") : value === null ? "" : String(value)

/**
 * The text printed on stdout, without the final newline; `undefined` when nothing is printed (`none`).
 *
 * @since 0.1.0
 * @category formatting
 */
export const render = (fields: TokenFields, options: Options): string | undefined => {
  const { format, query } = options
  if (format === "none") return undefined
  if (format === "text" && query === undefined) return Redacted.value(fields.accessToken)
  const json = toJson(fields)
  if (format === "json") {
    if (query === undefined) return JSON.stringify(json, null, 2)
    const picked = query.list ? query.fields.map((name) => json[name]) : json[query.fields[0]!]
    return JSON.stringify(picked, null, 2)
  }
  return (query?.fields ?? tsvFields).map((name) => tsvValue(json[name])).join("\t")
}
