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
 * The default scopes of `token` and `login` come from `EFFECT_ENTRA_SCOPE`, else `"scopes"` in the config file.
 *
 * @since 0.1.0
 */
import * as CacheEncryption from "@effect-entra/identity/CacheEncryption"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Os from "node:os"
import * as Path from "node:path"
import type { CacheNotWritableError, EmulatorNotRunningError } from "./CliError.js"
import { SettingsError } from "./CliError.js"
import * as EmulatorInfo from "./EmulatorInfo.js"
import * as configFile from "./internal/configFile.js"
import { Env } from "./internal/environment.js"
import * as settingsParts from "./internal/settingsParts.js"

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
 * The default scopes and where they came from.
 *
 * @since 0.1.0
 * @category models
 */
export interface DefaultScopes {
  readonly scopes: ReadonlyArray<string>
  readonly source: "env" | "config"
}

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
  /** The scopes `token` and `login` use without `--scope`, when the environment or the config file sets them. */
  readonly defaultScopes?: DefaultScopes | undefined
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
 * `scopes` are the default scopes of `login` and `token`.
 *
 * @since 0.1.0
 * @category models
 */
export const ConfigFile: typeof configFile.ConfigFile = configFile.ConfigFile

/**
 * @since 0.1.0
 * @category models
 */
export interface ConfigFile extends configFile.ConfigFile {}

/**
 * Defaults.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaults: typeof settingsParts.defaults = settingsParts.defaults

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
export const readConfigFile: (cacheDir: string) => Effect.Effect<ConfigFile, SettingsError | CacheNotWritableError> =
  configFile.readConfigFile

const readEnv = Env.pipe(
  Effect.mapError((error) => new SettingsError({ reason: `cannot read the environment: ${error.message}` }))
)

const pickDefaultScopes = (env: Env, file: ConfigFile): DefaultScopes | undefined =>
  Option.isSome(env.scope)
    ? { scopes: [env.scope.value], source: "env" }
    : file.scopes !== undefined && file.scopes.length > 0
    ? { scopes: file.scopes, source: "config" }
    : undefined

/**
 * The default scopes of `token` and `login` (without `--scope`): `EFFECT_ENTRA_SCOPE` (space-separated), else
 * `"scopes"` in the config file (not read with `--emulator`); `undefined` when neither is set.
 *
 * @since 0.1.0
 * @category resolution
 */
export const resolveDefaultScopes = (
  flags: Flags
): Effect.Effect<DefaultScopes | undefined, SettingsError | CacheNotWritableError> =>
  Effect.gen(function*() {
    const env = yield* readEnv
    if (Option.isSome(env.scope)) return pickDefaultScopes(env, {})
    if (flags.emulator) return undefined
    const { cacheDir } = yield* resolveCacheDir(flags.cacheDir)
    return pickDefaultScopes(env, yield* readConfigFile(cacheDir))
  })

/**
 * Where the default scopes can be set, for a message.
 *
 * @since 0.1.0
 * @category resolution
 */
export const defaultScopesHint = (cacheDir: string): string =>
  `set EFFECT_ENTRA_SCOPE or put "scopes" in ${configFile.configFilePath(cacheDir)}`

/**
 * Resolves the settings. With `checkEmulatorReachable`, `--emulator` also checks that the emulator answers.
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
    const env = yield* readEnv
    const emulator = flags.emulator
      ? yield* EmulatorInfo.read(cacheDir, { checkReachable: options.checkEmulatorReachable })
      : undefined
    const file = emulator === undefined ? yield* readConfigFile(cacheDir) : {}
    const { authority, client, tenant } = yield* settingsParts.resolveIdentity(flags, env, file, emulator, cacheDir)
    const { redirectPort, redirectUri } = yield* settingsParts.resolveRedirect(flags, file)
    // A secret never comes from a flag (it would land in shell history and `ps`).
    const clientSecret = emulator !== undefined
      ? undefined
      : Option.getOrUndefined(env.clientSecret) ??
        (file.clientSecret !== undefined && file.clientSecret !== "" ? Redacted.make(file.clientSecret) : undefined)
    const defaultScopes = pickDefaultScopes(env, file)
    return {
      authority: authority[1],
      tenantId: tenant[1],
      clientId: client[1],
      clientSecret,
      redirectUri,
      redirectPort,
      loginScopes: defaultScopes?.scopes ?? defaults.loginScopes,
      defaultScopes,
      cacheDir,
      cacheKey: Option.getOrUndefined(env.cacheKey),
      cachePreviousKeys: Option.match(env.cachePreviousKeys, {
        onNone: () => undefined,
        onSome: CacheEncryption.splitKeyList
      }),
      ca: emulator?.caPem,
      emulator,
      sources: { authority: authority[0], tenantId: tenant[0], clientId: client[0], cacheDir: cacheDirSource }
    }
  })
