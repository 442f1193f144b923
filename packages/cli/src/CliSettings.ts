/**
 * The settings of a command, resolved with this precedence (first wins):
 *
 * 1. flags: `--authority`, `--tenant`, `--client-id`, `--redirect-port`, `--cache-dir`;
 * 2. with `--emulator`: the running emulator (`<cache-dir>/emulator.json`) for authority, tenant, app and CA;
 *    otherwise the environment: `AZURE_AUTHORITY_HOST`, `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`;
 * 3. the config file `<cache-dir>/config.json` (ignored with `--emulator`);
 * 4. defaults: the public cloud, tenant `organizations`, redirect URI `http://127.0.0.1/callback`.
 *
 * The cache folder is `--cache-dir`, else `EFFECT_ENTRA_CACHE_DIR`, else `$XDG_STATE_HOME/effect-entra` when that is
 * set, else `~/.effect-entra`. A client secret comes only from `AZURE_CLIENT_SECRET` or the config file, never a flag;
 * the cache encryption key only from `EFFECT_ENTRA_CACHE_KEY` (and, while rotating, the keys it replaces from
 * `EFFECT_ENTRA_CACHE_PREVIOUS_KEYS`, separated by commas). The config file and `emulator.json` are read only when
 * they and the cache folder are the current user's and not symbolic links (else a {@link CacheNotWritableError}).
 *
 * @since 0.1.0
 */
import * as Authority from "@effect-entra/identity/Authority"
import * as CacheEncryption from "@effect-entra/identity/CacheEncryption"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Os from "node:os"
import * as Path from "node:path"
import type { EmulatorNotRunningError } from "./CliError.js"
import { CacheNotWritableError, SettingsError } from "./CliError.js"
import * as EmulatorInfo from "./EmulatorInfo.js"
import * as Session from "./Session.js"

/**
 * What the flags said (each `None` when not given).
 *
 * @since 0.1.0
 * @category models
 */
export interface Flags {
  readonly authority: Option.Option<string>
  readonly tenant: Option.Option<string>
  readonly clientId: Option.Option<string>
  readonly cacheDir: Option.Option<string>
  readonly emulator: boolean
  readonly redirectPort?: Option.Option<number> | undefined
}

/**
 * Where a setting came from, for `status` and error messages.
 *
 * @since 0.1.0
 * @category models
 */
export type Source = "flag" | "env" | "config" | "emulator" | "default"

/**
 * The resolved settings.
 *
 * @since 0.1.0
 * @category models
 */
export interface Settings {
  /** Normalised: `https://host[:port]`, no trailing slash (the form the cache keys use). */
  readonly authority: string
  readonly tenantId: string
  readonly clientId: string
  /** Only for confidential apps; from `AZURE_CLIENT_SECRET` or the config file. */
  readonly clientSecret: Redacted.Redacted<string> | undefined
  /** The registered redirect URI without a port (loopback, http); the receiver adds its port. */
  readonly redirectUri: string
  /** 0 picks a free port. */
  readonly redirectPort: number
  /** The scopes `login` asks for besides `openid profile offline_access`, unless `--scope` is given. */
  readonly loginScopes: ReadonlyArray<string>
  readonly cacheDir: string
  readonly cacheKey: Redacted.Redacted<string> | undefined
  /** Keys an encrypted cache may still be sealed with while rotating (`EFFECT_ENTRA_CACHE_PREVIOUS_KEYS`). */
  readonly cachePreviousKeys?: ReadonlyArray<Redacted.Redacted<string>> | undefined
  /** Extra CA certificates to trust (the emulator's). */
  readonly ca: string | undefined
  readonly emulator: EmulatorInfo.RunningEmulator | undefined
  readonly sources: {
    readonly authority: Source
    readonly tenantId: Source
    readonly clientId: Source
    readonly cacheDir: Source
  }
}

/**
 * `<cache-dir>/config.json`. Every field optional; unknown fields are refused (a typo should not be ignored).
 *
 * @since 0.1.0
 * @category models
 */
export const ConfigFile = Schema.Struct({
  authority: Schema.optional(Schema.String),
  tenantId: Schema.optional(Schema.String),
  clientId: Schema.optional(Schema.String),
  clientSecret: Schema.optional(Schema.String),
  redirectUri: Schema.optional(Schema.String),
  scopes: Schema.optional(Schema.Array(Schema.String))
})

/**
 * @since 0.1.0
 * @category models
 */
export interface ConfigFile extends Schema.Schema.Type<typeof ConfigFile> {}

const decodeConfigFile = Schema.decodeUnknownEither(Schema.parseJson(ConfigFile), { onExcessProperty: "error" })

/**
 * Defaults.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaults = {
  tenantId: "organizations",
  redirectUri: "http://127.0.0.1/callback",
  loginScopes: ["https://graph.microsoft.com/User.Read"]
} as const

const nonEmpty = (name: string) =>
  Config.option(Config.string(name)).pipe(
    Config.map(Option.filter((value) => value.trim() !== "")),
    Config.map(Option.map((value) => value.trim()))
  )

const nonEmptyRedacted = (name: string) =>
  Config.option(Config.redacted(name)).pipe(Config.map(Option.filter((value) => Redacted.value(value) !== "")))

const Env = Config.all({
  cacheDir: nonEmpty("EFFECT_ENTRA_CACHE_DIR"),
  cacheKey: nonEmptyRedacted("EFFECT_ENTRA_CACHE_KEY"),
  cachePreviousKeys: nonEmptyRedacted("EFFECT_ENTRA_CACHE_PREVIOUS_KEYS"),
  stateHome: nonEmpty("XDG_STATE_HOME"),
  authority: nonEmpty("AZURE_AUTHORITY_HOST"),
  tenantId: nonEmpty("AZURE_TENANT_ID"),
  clientId: nonEmpty("AZURE_CLIENT_ID"),
  clientSecret: nonEmptyRedacted("AZURE_CLIENT_SECRET")
})

/**
 * The cache folder from the flag and the environment.
 *
 * @since 0.1.0
 * @category resolution
 */
export const resolveCacheDir = (flag: Option.Option<string>): Effect.Effect<{
  readonly cacheDir: string
  readonly source: Source
}> =>
  Effect.gen(function*() {
    if (Option.isSome(flag) && flag.value.trim() !== "") {
      return { cacheDir: Path.resolve(expandHome(flag.value.trim())), source: "flag" as const }
    }
    const env = yield* Effect.orElseSucceed(Env, () => undefined)
    if (env !== undefined && Option.isSome(env.cacheDir)) {
      return { cacheDir: Path.resolve(expandHome(env.cacheDir.value)), source: "env" as const }
    }
    if (env !== undefined && Option.isSome(env.stateHome)) {
      return { cacheDir: Path.join(Path.resolve(env.stateHome.value), "effect-entra"), source: "default" as const }
    }
    return { cacheDir: Path.join(Os.homedir(), ".effect-entra"), source: "default" as const }
  })

const expandHome = (path: string) =>
  path === "~" || path.startsWith("~/") ? Path.join(Os.homedir(), path.slice(1)) : path

/**
 * Reads `<cache-dir>/config.json`; a missing file is an empty config. It may hold a client secret: a mode open to
 * other users is tightened (0600) with a warning.
 *
 * @since 0.1.0
 * @category resolution
 */
export const readConfigFile = (cacheDir: string): Effect.Effect<ConfigFile, SettingsError | CacheNotWritableError> =>
  Effect.gen(function*() {
    const file = Path.join(cacheDir, "config.json")
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

const checkRedirectUri = (uri: string, source: string): Either.Either<string, SettingsError> => {
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

/**
 * Resolves the settings. With `emulator.checkReachable`, `--emulator` also checks that the emulator answers.
 *
 * @since 0.1.0
 * @category resolution
 */
export const resolve = (
  flags: Flags,
  options: { readonly checkEmulatorReachable: boolean }
): Effect.Effect<Settings, SettingsError | EmulatorNotRunningError | CacheNotWritableError> =>
  Effect.gen(function*() {
    const { cacheDir, source: cacheDirSource } = yield* resolveCacheDir(flags.cacheDir)
    const env = yield* Env.pipe(
      Effect.mapError((error) => new SettingsError({ reason: `cannot read the environment: ${error.message}` }))
    )
    const emulator = flags.emulator
      ? yield* EmulatorInfo.read(cacheDir, { checkReachable: options.checkEmulatorReachable })
      : undefined
    const file = emulator === undefined ? yield* readConfigFile(cacheDir) : {}

    const pick = <A>(
      candidates: ReadonlyArray<readonly [Source, A | undefined]>
    ): readonly [Source, A] | undefined => candidates.find((c): c is readonly [Source, A] => c[1] !== undefined)

    const [authoritySource, rawAuthority] = pick<string>([
      ["flag", Option.getOrUndefined(flags.authority)],
      ...(emulator !== undefined
        ? [["emulator", emulator.authority] as const]
        : [["env", Option.getOrUndefined(env.authority)] as const, ["config", file.authority] as const]),
      ["default", Authority.defaultAuthority]
    ])!
    const authority = Authority.normalizeAuthority(rawAuthority)
    if (Either.isLeft(authority)) {
      return yield* new SettingsError({
        reason: `invalid authority (from ${authoritySource}): ${authority.left.reason}`
      })
    }

    const [tenantSource, tenantId] = pick<string>([
      ["flag", Option.getOrUndefined(flags.tenant)],
      ...(emulator !== undefined
        ? [["emulator", emulator.tenantId] as const]
        : [["env", Option.getOrUndefined(env.tenantId)] as const, ["config", file.tenantId] as const]),
      ["default", defaults.tenantId]
    ])!
    const tenant = Authority.validateTenantId(tenantId)
    if (Either.isLeft(tenant)) {
      return yield* new SettingsError({ reason: `invalid tenant (from ${tenantSource}): ${tenant.left.reason}` })
    }

    const client = pick<string>([
      ["flag", Option.getOrUndefined(flags.clientId)],
      ...(emulator !== undefined
        ? [["emulator", emulator.clientId] as const]
        : [["env", Option.getOrUndefined(env.clientId)] as const, ["config", file.clientId] as const])
    ])
    if (client === undefined || client[1].trim() === "") {
      return yield* new SettingsError({
        reason: "no client (application) id: pass --client-id, set AZURE_CLIENT_ID, put \"clientId\" in " +
          `${Path.join(cacheDir, "config.json")}, or use --emulator`
      })
    }

    // A secret never comes from a flag (it would land in shell history and `ps`).
    const clientSecret = emulator !== undefined
      ? undefined
      : Option.getOrUndefined(env.clientSecret) ??
        (file.clientSecret !== undefined && file.clientSecret !== "" ? Redacted.make(file.clientSecret) : undefined)

    const redirectUri = yield* checkRedirectUri(
      file.redirectUri ?? defaults.redirectUri,
      file.redirectUri !== undefined ? "the config file" : "the defaults"
    )
    const redirectPort = Option.getOrElse(flags.redirectPort ?? Option.none(), () => 0)
    if (!Number.isInteger(redirectPort) || redirectPort < 0 || redirectPort > 65535) {
      return yield* new SettingsError({
        reason: `--redirect-port must be an integer between 1 and 65535 (0 picks a free port), got ${redirectPort}`
      })
    }

    return {
      authority: authority.right,
      tenantId: tenant.right,
      clientId: client[1].trim(),
      clientSecret,
      redirectUri,
      redirectPort,
      loginScopes: file.scopes !== undefined && file.scopes.length > 0 ? file.scopes : defaults.loginScopes,
      cacheDir,
      cacheKey: Option.getOrUndefined(env.cacheKey),
      cachePreviousKeys: Option.match(env.cachePreviousKeys, {
        onNone: () => undefined,
        onSome: CacheEncryption.splitKeyList
      }),
      ca: emulator?.caPem,
      emulator,
      sources: { authority: authoritySource, tenantId: tenantSource, clientId: client[0], cacheDir: cacheDirSource }
    }
  })
