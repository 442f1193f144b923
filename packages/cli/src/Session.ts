/**
 * The signed-in state the commands share: the file token cache in the cache folder, the accounts in it for the
 * current authority and app, and the HTTP client that trusts the emulator's CA when there is one.
 *
 * @since 0.1.0
 */
import * as FileTokenCache from "@effect-entra/identity/FileTokenCache"
import * as NodeHttp from "@effect-entra/identity/NodeHttp"
import * as TokenCache from "@effect-entra/identity/TokenCache"
import type * as FileSystem from "@effect/platform/FileSystem"
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as Path from "@effect/platform/Path"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { CacheNotWritableError, NotSignedInError, SettingsError } from "./CliError.js"
import type { Settings } from "./CliSettings.js"

/**
 * Opens the cache (nothing is read or created yet). A bad `EFFECT_ENTRA_CACHE_KEY` is a {@link SettingsError}.
 *
 * @since 0.1.0
 * @category cache
 */
export const openCache = (
  settings: Settings
): Effect.Effect<FileTokenCache.Service, SettingsError, FileSystem.FileSystem | Path.Path> =>
  FileTokenCache.make({ directory: settings.cacheDir, encryptionKey: settings.cacheKey }).pipe(
    Effect.mapError((error) => new SettingsError({ reason: `EFFECT_ENTRA_CACHE_KEY: ${error.detail}` }))
  )

/**
 * Creates the folder (0700) and checks the cache can be written, before anything depends on it.
 *
 * @since 0.1.0
 * @category cache
 */
export const ensureWritable = (cache: FileTokenCache.Service): Effect.Effect<void, CacheNotWritableError> =>
  cache.ensureWritable.pipe(
    Effect.mapError((error) => new CacheNotWritableError({ detail: error.message, cause: error }))
  )

/**
 * Fails when the last write reached memory only (the disk refused it).
 *
 * @since 0.1.0
 * @category cache
 */
export const checkLastWrite = (
  cache: FileTokenCache.Service,
  what: string
): Effect.Effect<void, CacheNotWritableError> =>
  Effect.flatMap(cache.lastWriteError, (error) =>
    Option.isSome(error)
      ? new CacheNotWritableError({ detail: `${what}: ${error.value.message}`, cause: error.value })
      : Effect.void)

/**
 * The accounts signed in with this authority and app, the most recently updated first.
 *
 * @since 0.1.0
 * @category accounts
 */
export const accounts = (
  cache: TokenCache.Service,
  settings: Settings
): Effect.Effect<ReadonlyArray<TokenCache.AccountEntry>> =>
  Effect.map(cache.listAccounts, (all) =>
    all
      .filter((account) =>
        account.authority.toLowerCase() === settings.authority.toLowerCase() &&
        account.clientId.toLowerCase() === settings.clientId.toLowerCase()
      )
      .sort((a, b) => b.updatedOn - a.updatedOn))

/**
 * The cache key of an account.
 *
 * @since 0.1.0
 * @category accounts
 */
export const accountKeyOf = (account: TokenCache.AccountEntry): string =>
  TokenCache.accountKey({
    authority: account.authority,
    clientId: account.clientId,
    homeAccountId: account.homeAccountId
  })

/**
 * The account `--account` names (a username or a home account id), else the most recently signed-in one.
 *
 * @since 0.1.0
 * @category accounts
 */
export const selectAccount = (
  cache: TokenCache.Service,
  settings: Settings,
  wanted: Option.Option<string>
): Effect.Effect<TokenCache.AccountEntry, NotSignedInError> =>
  Effect.gen(function*() {
    const signedIn = yield* accounts(cache, settings)
    if (signedIn.length === 0) {
      return yield* new NotSignedInError({
        detail: `not signed in to ${settings.authority} with app ${settings.clientId}`
      })
    }
    if (Option.isNone(wanted)) return signedIn[0]
    const name = wanted.value.toLowerCase()
    const found = signedIn.find((account) =>
      account.username?.toLowerCase() === name || account.homeAccountId.toLowerCase() === name
    )
    if (found === undefined) {
      return yield* new NotSignedInError({
        detail: `account "${wanted.value}" is not signed in (signed in: ${
          signedIn.map((account) => account.username ?? account.homeAccountId).join(", ")
        })`
      })
    }
    return found
  })

/**
 * The HTTP client for token requests: undici, trusting the emulator's CA when there is one (and
 * `NODE_EXTRA_CA_CERTS`, which Node reads at start-up, in every case).
 *
 * @since 0.1.0
 * @category http
 */
export const httpLayer = (settings: Settings): Layer.Layer<HttpClient.HttpClient> =>
  NodeHttp.layer(settings.ca === undefined ? undefined : { ca: settings.ca })
