/**
 * The signed-in state the commands share: the file token cache in the cache folder, the accounts in it for the
 * current authority and app, and the HTTP client that trusts the emulator's CA when there is one.
 *
 * @since 0.1.0
 */
import * as FileTokenCache from "@effect-entra/identity/FileTokenCache"
import * as TokenCache from "@effect-entra/identity/TokenCache"
import * as FileSystem from "@effect/platform/FileSystem"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Path from "@effect/platform/Path"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { CacheNotWritableError, NotSignedInError, SettingsError } from "./CliError.js"
import type { Settings } from "./CliSettings.js"

const keyHint = "set EFFECT_ENTRA_CACHE_KEY to the key the cache was written with (while rotating, the old key " +
  "goes in EFFECT_ENTRA_CACHE_PREVIOUS_KEYS), or move the file away to start over"

const unsafeHint = "use a folder of your own, closed to other users, with --cache-dir or EFFECT_ENTRA_CACHE_DIR"

/**
 * The CLI's error for a cache that cannot be used, with what to do about it.
 *
 * @since 0.1.0
 * @category cache
 */
export const cacheError = (error: FileTokenCache.FileTokenCacheError): CacheNotWritableError =>
  new CacheNotWritableError({
    detail: error.message,
    hint: error.reason === "KeyMismatch" ? keyHint : error.reason === "Unsafe" ? unsafeHint : undefined,
    cause: error
  })

/**
 * Opens the cache and checks that its folder and file can be trusted (ours, not symbolic links); creates nothing.
 * A bad `EFFECT_ENTRA_CACHE_KEY` or `EFFECT_ENTRA_CACHE_PREVIOUS_KEYS` is a {@link SettingsError}.
 *
 * @since 0.1.0
 * @category cache
 */
export const openCache = (
  settings: Settings
): Effect.Effect<FileTokenCache.Service, SettingsError | CacheNotWritableError, FileSystem.FileSystem | Path.Path> =>
  FileTokenCache.make({
    directory: settings.cacheDir,
    encryptionKey: settings.cacheKey,
    previousEncryptionKeys: settings.cachePreviousKeys
  }).pipe(
    Effect.mapError((error) =>
      new SettingsError({
        reason: error.detail.startsWith("previous key")
          ? `EFFECT_ENTRA_CACHE_PREVIOUS_KEYS: ${error.detail}`
          : `EFFECT_ENTRA_CACHE_KEY: ${error.detail}`
      })
    ),
    Effect.tap((cache) => Effect.mapError(cache.ensureSafe, cacheError))
  )

/**
 * Creates the folder (0700) and checks the cache can be written, before anything depends on it: the folder is ours
 * and closed to others, and an encrypted cache can be decrypted with the key this process has.
 *
 * @since 0.1.0
 * @category cache
 */
export const ensureWritable = (cache: FileTokenCache.Service): Effect.Effect<void, CacheNotWritableError> =>
  Effect.mapError(cache.ensureWritable, cacheError)

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
      ? new CacheNotWritableError({
        detail: `${what}: ${error.value.message}`,
        hint: cacheError(error.value).hint,
        cause: error.value
      })
      : Effect.void)

/**
 * Reads a file the CLI keeps in the cache folder, under the cache's rules (see `FileTokenCache.readPrivateFile`):
 * `None` when it or the folder is missing.
 *
 * @since 0.1.0
 * @category files
 */
export const readPrivateFile = (
  file: string,
  looseBits: number
): Effect.Effect<Option.Option<string>, FileTokenCache.FileTokenCacheError> =>
  withFiles(FileTokenCache.readPrivateFile(file, { looseBits }))

/**
 * Writes a file the CLI keeps in the cache folder, under the cache's rules (see `FileTokenCache.writePrivateFile`).
 *
 * @since 0.1.0
 * @category files
 */
export const writePrivateFile = (file: string, text: string): Effect.Effect<void, FileTokenCache.FileTokenCacheError> =>
  withFiles(FileTokenCache.writePrivateFile(file, text))

/**
 * Runs with the `FileSystem` and `Path` the caller provides (the commands: Node's; a cached `token`: a lighter one),
 * else with Node's, loaded on first use.
 */
const withFiles = <A, E>(effect: Effect.Effect<A, E, FileSystem.FileSystem | Path.Path>): Effect.Effect<A, E> =>
  Effect.contextWithEffect((context: Context.Context<never>) =>
    Option.isSome(Context.getOption(context, FileSystem.FileSystem)) &&
      Option.isSome(Context.getOption(context, Path.Path))
      ? effect as Effect.Effect<A, E>
      : Effect.flatMap(
        Effect.promise(() => import("./internal/nodeFiles.js")),
        (NodeFiles) => Effect.provide(effect, NodeFiles.layer)
      )
  )

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
 * `NODE_EXTRA_CA_CERTS`, which Node reads at start-up, in every case). Built on the first request only: a token
 * served from the cache sends none, and loading undici and building a TLS context with the extra CA would be most
 * of its run time. Its code is loaded only where a layer is built, so reading the cache does not load it.
 *
 * @since 0.1.0
 * @category http
 */
export const httpLayer = (settings: Settings): Layer.Layer<HttpClient.HttpClient> =>
  Layer.unwrapEffect(
    Effect.promise(() => import("./internal/lazyHttpClient.js")).pipe(
      Effect.map((LazyHttpClient) => LazyHttpClient.layer(settings.ca))
    )
  )
