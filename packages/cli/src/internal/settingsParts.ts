/**
 * The parts of the settings that are resolved from several sources: the authority, tenant and client id (flag, then
 * the emulator or else the environment and the config file, then a default), and the redirect URI and port.
 *
 * @internal
 */
import * as Authority from "@effect-entra/identity/Authority"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import { SettingsError } from "../CliError.js"
import type { Flags, Source } from "../CliSettings.js"
import type * as EmulatorInfo from "../EmulatorInfo.js"
import * as configFile from "./configFile.js"
import type { Env } from "./environment.js"

export const defaults = {
  tenantId: "organizations",
  redirectUri: "http://127.0.0.1/callback",
  loginScopes: ["https://graph.microsoft.com/User.Read"]
} as const

type Candidates<A> = ReadonlyArray<readonly [Source, A | undefined]>

const pick = <A>(candidates: Candidates<A>): readonly [Source, A] | undefined =>
  candidates.find((c): c is readonly [Source, A] => c[1] !== undefined)

/** The candidates of a setting: the flag, then the emulator or else the environment and the config file. */
const candidates = <A>(
  flag: A | undefined,
  emulator: A | undefined,
  env: A | undefined,
  config: A | undefined,
  useEmulator: boolean
): Candidates<A> => [
  ["flag", flag],
  ...(useEmulator ? [["emulator", emulator] as const] : [["env", env] as const, ["config", config] as const])
]

export interface Identity {
  readonly authority: readonly [Source, string]
  readonly tenant: readonly [Source, string]
  readonly client: readonly [Source, string]
}

type Field = "authority" | "tenantId" | "clientId"

// A validated value with its source; a bad one names the setting and where it came from.
const validated = (
  name: string,
  [source, raw]: readonly [Source, string],
  validate: (raw: string) => Either.Either<string, { readonly reason: string }>
): Either.Either<readonly [Source, string], SettingsError> =>
  Either.match(validate(raw), {
    onLeft: (e) => Either.left(new SettingsError({ reason: `invalid ${name} (from ${source}): ${e.reason}` })),
    onRight: (value) => Either.right([source, value] as const)
  })

const clientOf = (
  client: readonly [Source, string] | undefined,
  cacheDir: string
): Either.Either<readonly [Source, string], SettingsError> =>
  client === undefined || client[1].trim() === "" ?
    Either.left(
      new SettingsError({
        reason: "no client (application) id: pass --client-id, set AZURE_CLIENT_ID, put \"clientId\" in " +
          `${configFile.configFilePath(cacheDir)}, or use --emulator`
      })
    ) :
    Either.right([client[0], client[1].trim()] as const)

/** The authority, tenant and client id, each validated and with its source (checked in that order). */
export const resolveIdentity = (
  flags: Flags,
  env: Env,
  file: configFile.ConfigFile,
  emulator: EmulatorInfo.RunningEmulator | undefined,
  cacheDir: string
): Either.Either<Identity, SettingsError> => {
  const flagOf: Record<Field, Option.Option<string>> = {
    authority: flags.authority,
    tenantId: flags.tenant,
    clientId: flags.clientId
  }
  const sourcesOf = (field: Field) =>
    candidates(
      Option.getOrUndefined(flagOf[field]),
      emulator?.[field],
      Option.getOrUndefined(env[field]),
      file[field],
      emulator !== undefined
    )
  return Either.all({
    authority: validated(
      "authority",
      pick<string>([...sourcesOf("authority"), ["default", Authority.defaultAuthority]])!,
      Authority.normalizeAuthority
    ),
    tenant: validated(
      "tenant",
      pick<string>([...sourcesOf("tenantId"), ["default", defaults.tenantId]])!,
      Authority.validateTenantId
    ),
    client: clientOf(pick<string>(sourcesOf("clientId")), cacheDir)
  })
}

/** The redirect URI from the config file (or the default) and the port from `--redirect-port` (0: a free one). */
export const resolveRedirect = (
  flags: Flags,
  file: configFile.ConfigFile
): Either.Either<{ readonly redirectUri: string; readonly redirectPort: number }, SettingsError> => {
  const redirectUri = configFile.checkRedirectUri(
    file.redirectUri ?? defaults.redirectUri,
    file.redirectUri !== undefined ? "the config file" : "the defaults"
  )
  if (Either.isLeft(redirectUri)) return Either.left(redirectUri.left)
  const redirectPort = Option.getOrElse(flags.redirectPort ?? Option.none(), () => 0)
  if (!Number.isInteger(redirectPort) || redirectPort < 0 || redirectPort > 65535) {
    return Either.left(
      new SettingsError({
        reason: `--redirect-port must be an integer between 1 and 65535 (0 picks a free port), got ${redirectPort}`
      })
    )
  }
  return Either.right({ redirectUri: redirectUri.right, redirectPort })
}
