/**
 * The flags the commands share, and their parsers.
 *
 * @since 0.1.0
 */
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as Options from "@effect/cli/Options"
import * as ValidationError from "@effect/cli/ValidationError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import type { Flags } from "./CliSettings.js"

/**
 * `--authority`, `--tenant`, `--client-id`, `--cache-dir`, `--emulator`: every command but `emulator` has them.
 *
 * @since 0.1.0
 * @category options
 */
export const common = {
  authority: Options.text("authority").pipe(
    Options.withDescription(
      "Authority host, e.g. https://login.microsoftonline.com (else AZURE_AUTHORITY_HOST, the config file, the public cloud)"
    ),
    Options.optional
  ),
  tenant: Options.text("tenant").pipe(
    Options.withDescription(
      "Tenant GUID or domain, or organizations/common/consumers (else AZURE_TENANT_ID, the config file, organizations)"
    ),
    Options.optional
  ),
  clientId: Options.text("client-id").pipe(
    Options.withDescription("Application (client) id of a public client app (else AZURE_CLIENT_ID, the config file)"),
    Options.optional
  ),
  cacheDir: cacheDirOption(),
  emulator: Options.boolean("emulator").pipe(
    Options.withDescription(
      "Use the local emulator started by `effect-entra emulator` (its authority, CA, tenant and public app)"
    )
  )
}

/**
 * `--cache-dir`.
 *
 * @since 0.1.0
 * @category options
 */
export function cacheDirOption() {
  return Options.text("cache-dir").pipe(
    Options.withDescription(
      "Folder of the token cache, config.json and emulator.json (else EFFECT_ENTRA_CACHE_DIR, ~/.effect-entra)"
    ),
    Options.optional
  )
}

/**
 * The flags as {@link Flags}.
 *
 * @since 0.1.0
 * @category options
 */
export const toFlags = (
  parsed: {
    readonly authority: Option.Option<string>
    readonly tenant: Option.Option<string>
    readonly clientId: Option.Option<string>
    readonly cacheDir: Option.Option<string>
    readonly emulator: boolean
  },
  redirectPort?: Option.Option<number>
): Flags => ({
  authority: parsed.authority,
  tenant: parsed.tenant,
  clientId: parsed.clientId,
  cacheDir: parsed.cacheDir,
  emulator: parsed.emulator,
  redirectPort
})

/**
 * `--account`: a username or home account id.
 *
 * @since 0.1.0
 * @category options
 */
export const account = Options.text("account").pipe(
  Options.withDescription("The signed-in account to use: a username or home account id (default: the latest sign-in)"),
  Options.optional
)

/**
 * `--json`.
 *
 * @since 0.1.0
 * @category options
 */
export const json = Options.boolean("json").pipe(Options.withDescription("Print JSON on stdout"))

const units: Record<string, number> = { ms: 1, s: 1000, sec: 1000, m: 60_000, min: 60_000, h: 3_600_000 }

/**
 * Parses `90s`, `5m`, `1h`, `1500ms`, `300` (seconds), or Effect's `5 minutes`.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseDuration = (text: string): Either.Either<Duration.Duration, string> => {
  const trimmed = text.trim()
  const short = /^(\d+(?:\.\d+)?)\s*(ms|s|sec|m|min|h)?$/i.exec(trimmed)
  if (short !== null) {
    const amount = Number(short[1]) * units[(short[2] ?? "s").toLowerCase()]!
    if (amount > 0) return Either.right(Duration.millis(amount))
    return Either.left(`"${text}" is not a positive duration`)
  }
  const decoded = Duration.decodeUnknown(trimmed)
  if (Option.isSome(decoded) && Duration.greaterThan(decoded.value, Duration.zero)) return Either.right(decoded.value)
  return Either.left(`"${text}" is not a duration (use e.g. 90s, 5m, 1h)`)
}

/**
 * A duration flag.
 *
 * @since 0.1.0
 * @category options
 */
export const duration = (name: string) =>
  Options.text(name).pipe(
    Options.mapEffect((text) =>
      Either.match(parseDuration(text), {
        onLeft: (why) => Effect.fail(ValidationError.invalidValue(HelpDoc.p(`--${name}: ${why}`))),
        onRight: Effect.succeed
      })
    )
  )

/**
 * A TCP port flag: an integer from `min` to 65535, with a message naming the flag.
 *
 * @since 0.1.0
 * @category options
 */
export const port = (name: string, min: number = 1) =>
  Options.text(name).pipe(
    Options.mapEffect((text) => {
      const value = Number(text.trim())
      return Number.isInteger(value) && value >= min && value <= 65535 && text.trim() !== ""
        ? Effect.succeed(value)
        : Effect.fail(
          ValidationError.invalidValue(
            HelpDoc.p(`--${name}: "${text}" is not a port (an integer from ${min} to 65535)`)
          )
        )
    })
  )
