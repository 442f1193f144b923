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

/** The authority, tenant and client id, each validated and with its source. */
export const resolveIdentity = (
  flags: Flags,
  env: Env,
  file: configFile.ConfigFile,
  emulator: EmulatorInfo.RunningEmulator | undefined,
  cacheDir: string
): Either.Either<Identity, SettingsError> => {
  const on = emulator !== undefined
  const [authoritySource, rawAuthority] = pick<string>([
    ...candidates(
      Option.getOrUndefined(flags.authority),
      emulator?.authority,
      Option.getOrUndefined(env.authority),
      file.authority,
      on
    ),
    ["default", Authority.defaultAuthority]
  ])!
  const authority = Authority.normalizeAuthority(rawAuthority)
  if (Either.isLeft(authority)) {
    return Either.left(
      new SettingsError({ reason: `invalid authority (from ${authoritySource}): ${authority.left.reason}` })
    )
  }
  const [tenantSource, tenantId] = pick<string>([
    ...candidates(
      Option.getOrUndefined(flags.tenant),
      emulator?.tenantId,
      Option.getOrUndefined(env.tenantId),
      file.tenantId,
      on
    ),
    ["default", defaults.tenantId]
  ])!
  const tenant = Authority.validateTenantId(tenantId)
  if (Either.isLeft(tenant)) {
    return Either.left(new SettingsError({ reason: `invalid tenant (from ${tenantSource}): ${tenant.left.reason}` }))
  }
  const client = pick<string>(
    candidates(
      Option.getOrUndefined(flags.clientId),
      emulator?.clientId,
      Option.getOrUndefined(env.clientId),
      file.clientId,
      on
    )
  )
  if (client === undefined || client[1].trim() === "") {
    return Either.left(
      new SettingsError({
        reason: "no client (application) id: pass --client-id, set AZURE_CLIENT_ID, put \"clientId\" in " +
          `${configFile.configFilePath(cacheDir)}, or use --emulator`
      })
    )
  }
  return Either.right({
    authority: [authoritySource, authority.right],
    tenant: [tenantSource, tenant.right],
    client: [client[0], client[1].trim()]
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
