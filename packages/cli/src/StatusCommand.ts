/**
 * `effect-entra status`: the settings in use, and the signed-in accounts with their cached tokens and expiry.
 * Never prints a token or a secret, only whether a refresh token is cached.
 *
 * @since 0.1.0
 */
import type * as TokenCache from "@effect-entra/identity/TokenCache"
import * as Command from "@effect/cli/Command"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import { NotSignedInError } from "./CliError.js"
import * as CliOptions from "./CliOptions.js"
import * as CliSettings from "./CliSettings.js"
import * as Output from "./Output.js"
import * as Session from "./Session.js"
import { sanitizeInline } from "./TerminalText.js"
import * as TokenOutput from "./TokenOutput.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface StatusInput {
  readonly flags: CliSettings.Flags
  readonly json: boolean
}

/**
 * One account as `status --json` prints it.
 *
 * @since 0.1.0
 * @category models
 */
export interface AccountStatus {
  readonly username: string | undefined
  readonly name: string | undefined
  readonly homeAccountId: string
  readonly tenantId: string
  readonly default: boolean
  readonly refreshToken: boolean
  readonly updatedOn: string
  readonly accessTokens: ReadonlyArray<{
    readonly scopes: ReadonlyArray<string>
    readonly tenantId: string
    readonly cae: boolean
    readonly expiresOn: string
    readonly expired: boolean
  }>
}

/**
 * `1h 5m`, `59m 58s`, `12s`.
 *
 * @since 0.1.0
 * @category formatting
 */
export const formatIn = (ms: number): string => {
  const total = Math.round(Math.abs(ms) / 1000)
  const h = Math.floor(total / 3600)
  const m = Math.floor((total % 3600) / 60)
  const s = total % 60
  const text = h > 0 ? `${h}h ${m}m` : m > 0 ? `${m}m ${s}s` : `${s}s`
  return ms >= 0 ? `in ${text}` : `${text} ago`
}

/**
 * An epoch-ms time as ISO 8601 to the second, or `"invalid"` for a value no date can hold (a cache written by
 * anything can hold any number, and `toISOString` throws on those).
 *
 * @since 0.1.0
 * @category formatting
 */
export const isoTime: (ms: number) => string = TokenOutput.isoTime

const describeAccount = (
  account: TokenCache.AccountEntry,
  tokens: ReadonlyArray<TokenCache.AccessTokenEntry>,
  isDefault: boolean,
  now: number
): AccountStatus => ({
  username: account.username,
  name: account.name,
  homeAccountId: account.homeAccountId,
  tenantId: account.tenantId,
  default: isDefault,
  refreshToken: account.refreshToken !== undefined,
  updatedOn: isoTime(account.updatedOn),
  accessTokens: tokens.map((entry) => ({
    scopes: entry.scopes,
    tenantId: entry.tenantId,
    cae: entry.cae,
    expiresOn: isoTime(entry.expiresOn),
    // A value that is not a time cannot be trusted to be in the future.
    expired: !(entry.expiresOn > now) || isoTime(entry.expiresOn) === "invalid"
  }))
})

/**
 * Prints the status; fails with {@link NotSignedInError} (exit 3) when no account is signed in.
 *
 * @since 0.1.0
 * @category handlers
 */
export const status = Effect.fn("StatusCommand.status")(function*(input: StatusInput) {
  // A stopped emulator is reported as such rather than as the cache's view of it (a stale emulator.json).
  const settings = yield* CliSettings.resolve(input.flags, { checkEmulatorReachable: true })
  const cache = yield* Session.openCache(settings)
  const signedIn = yield* Session.accounts(cache, settings)
  const everyone = yield* cache.listAccounts
  const now = yield* Clock.currentTimeMillis
  const accounts: Array<AccountStatus> = []
  for (const [index, account] of signedIn.entries()) {
    const tokens = yield* cache.listAccessTokens(Session.accountKeyOf(account))
    accounts.push(describeAccount(account, tokens, index === 0, now))
  }
  const encrypted = settings.cacheKey !== undefined
  const others = everyone.length - signedIn.length

  if (input.json) {
    yield* Output.line(JSON.stringify(
      {
        cacheFile: cache.filePath,
        encrypted,
        keyId: cache.keyId,
        authority: settings.authority,
        clientId: settings.clientId,
        tenantId: settings.tenantId,
        emulator: settings.emulator !== undefined,
        accounts,
        otherAccounts: others
      },
      null,
      2
    ))
  } else {
    const source = (s: CliSettings.Source) => s === "default" ? "" : ` (${s})`
    yield* Output.line(
      `cache      ${cache.filePath} (${encrypted ? `AES-256-GCM, key id ${cache.keyId}` : "plaintext"})`
    )
    yield* Output.line(`authority  ${settings.authority}${source(settings.sources.authority)}`)
    yield* Output.line(`app        ${settings.clientId}${source(settings.sources.clientId)}`)
    yield* Output.line(`tenant     ${settings.tenantId}${source(settings.sources.tenantId)}`)
    for (const account of accounts) {
      yield* Output.line("")
      yield* Output.line(
        `${account.default ? "*" : " "} ${sanitizeInline(account.username ?? account.homeAccountId)}${
          account.name !== undefined ? ` (${sanitizeInline(account.name)})` : ""
        }${account.default ? "  [default]" : ""}`
      )
      // Names come from tokens: one line each, so a newline in a name cannot forge another field.
      yield* Output.line(`    home account   ${sanitizeInline(account.homeAccountId)}`)
      yield* Output.line(`    tenant         ${sanitizeInline(account.tenantId)}`)
      yield* Output.line(
        `    refresh token  ${account.refreshToken ? "cached" : "none"} (updated ${account.updatedOn})`
      )
      if (account.accessTokens.length === 0) yield* Output.line("    access tokens  none")
      for (const [index, entry] of account.accessTokens.entries()) {
        const expires = Date.parse(entry.expiresOn)
        const left = Number.isNaN(expires) ? "not a valid time" : formatIn(expires - now)
        yield* Output.line(
          `    ${index === 0 ? "access tokens " : "              "} ${entry.scopes.join(" ")}${
            entry.cae ? " (CAE)" : ""
          }, tenant ${entry.tenantId}, ${entry.expired ? "expired" : "expires"} ${entry.expiresOn} (${left})`
        )
      }
    }
    if (others > 0) {
      yield* Output.line("")
      yield* Output.line(`(${others} other account(s) in the cache for other authorities or apps)`)
    }
  }
  if (accounts.length === 0) {
    return yield* new NotSignedInError({
      detail: `not signed in to ${settings.authority} with app ${settings.clientId}`
    })
  }
})

/**
 * The `status` command.
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make(
  "status",
  { ...CliOptions.common, json: CliOptions.json },
  (parsed) => status({ flags: CliOptions.toFlags(parsed), json: parsed.json })
).pipe(
  Command.withDescription(
    "Show the settings in use and the signed-in accounts with their cached tokens and expiry (never the tokens)."
  )
)
