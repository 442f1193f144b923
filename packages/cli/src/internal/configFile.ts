/**
 * `<cache-dir>/config.json`: its schema, how it is read (only when it and its folder are the current user's), and the
 * check of the redirect URI it may name.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as Path from "node:path"
import { CacheNotWritableError, SettingsError } from "../CliError.js"
import * as Session from "../Session.js"

/** Every field optional; unknown fields are refused (a typo should not be ignored). */
export const ConfigFile = Schema.Struct({
  authority: Schema.optional(Schema.String),
  tenantId: Schema.optional(Schema.String),
  clientId: Schema.optional(Schema.String),
  clientSecret: Schema.optional(Schema.String),
  redirectUri: Schema.optional(Schema.String),
  /** The default scopes of `login` and `token`. */
  scopes: Schema.optional(Schema.Array(Schema.String))
})

export interface ConfigFile extends Schema.Schema.Type<typeof ConfigFile> {}

const decodeConfigFile = Schema.decodeUnknownEither(Schema.parseJson(ConfigFile), { onExcessProperty: "error" })

export const configFilePath = (cacheDir: string): string => Path.join(cacheDir, "config.json")

/** A missing file is an empty config; a mode open to other users is tightened (0600) with a warning. */
export const readConfigFile = (cacheDir: string): Effect.Effect<ConfigFile, SettingsError | CacheNotWritableError> =>
  Effect.gen(function*() {
    const file = configFilePath(cacheDir)
    const text = yield* Session.readPrivateFile(file, 0o077).pipe(
      Effect.map(Option.getOrUndefined),
      Effect.mapError((error) =>
        error.reason === "Unsafe"
          ? new CacheNotWritableError({
            detail: `refusing the config file ${file}: ${error.detail}`,
            hint: "use a folder of your own, closed to other users, with --cache-dir or EFFECT_ENTRA_CACHE_DIR",
            cause: error
          })
          : new SettingsError({ reason: `cannot read the config file ${file}: ${error.detail}` })
      )
    )
    if (text === undefined) return {}
    const decoded = decodeConfigFile(text)
    if (Either.isLeft(decoded)) {
      // The parse error names paths, never values (a value could be the secret).
      const issues = ParseResult.ArrayFormatter.formatErrorSync(decoded.left)
        .map((issue) => issue.path.length > 0 ? `${issue.path.join(".")}: ${issue.message}` : "not a JSON object")
      const detail = issues.map((issue) => issue.replace(/, actual .*$/s, "").replace(/\s*\n\s*/g, " ")).join("; ")
      return yield* new SettingsError({ reason: `invalid config file ${file}: ${detail}` })
    }
    return decoded.right
  })

/** A loopback `http` URI without a port (the receiver adds its own), query, fragment or credentials. */
export const checkRedirectUri = (uri: string, source: string): Either.Either<string, SettingsError> => {
  const fail = (why: string) =>
    Either.left(new SettingsError({ reason: `invalid redirect URI from ${source}: ${why}` }))
  let url: URL
  try {
    url = new URL(uri)
  } catch {
    return fail(`"${uri}" is not an absolute URL`)
  }
  if (url.protocol !== "http:") return fail("a loopback redirect URI uses http (RFC 8252 §7.3)")
  if (url.hostname !== "127.0.0.1" && url.hostname !== "localhost") {
    return fail("the host must be 127.0.0.1 or localhost (the CLI listens on loopback only)")
  }
  if (url.search !== "" || url.hash !== "" || url.username !== "") {
    return fail("no query, fragment or credentials allowed")
  }
  url.port = ""
  return Either.right(url.toString())
}
