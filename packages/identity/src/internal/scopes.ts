import { InvalidOptionError } from "../AuthenticationError.js"

const whitespace = /\s/

/**
 * Scopes as callers give them (one string, a space-separated string, or a list), trimmed and de-duplicated in
 * order; an empty or non-string scope is an `InvalidOptionError` before any request.
 *
 * @internal
 */
export const normalizeScopes = (
  scopes: string | ReadonlyArray<string>
): ReadonlyArray<string> | InvalidOptionError => {
  // Hot path: one scope without spaces needs no copying.
  if (typeof scopes === "string" && scopes !== "" && !whitespace.test(scopes)) return [scopes]
  const input: ReadonlyArray<unknown> = typeof scopes === "string" ? [scopes] : Array.isArray(scopes) ? scopes : []
  const result: Array<string> = []
  for (const item of input) {
    if (typeof item !== "string" || item.trim() === "") {
      return new InvalidOptionError({ field: "scopes", reason: "every scope must be a non-empty string" })
    }
    for (const part of item.trim().split(/\s+/)) if (!result.includes(part)) result.push(part)
  }
  if (result.length === 0) {
    return new InvalidOptionError({ field: "scopes", reason: "at least one scope is required" })
  }
  return result
}
