/**
 * A {@link TokenCache.Service} persisted in one JSON file, so a signed-in account survives the process and several
 * processes (a CLI and the programs it starts) share it.
 *
 * - The folder must be the current user's and not a symbolic link, else writing fails with a
 *   {@link FileTokenCacheError} (`Unsafe`) and reads see an empty cache. It is created with mode `0700`; an existing
 *   one loses its group and other bits, but a folder its owner cannot write (e.g. `0555`) is never made writable,
 *   and no one else's folder is ever chmod'ed.
 * - The file has mode `0600` (a looser one of ours is tightened with a warning when read). It is replaced atomically:
 *   a temporary file with a random name, created exclusively, then `rename`. A symbolic link is never followed.
 * - Writers serialise on an exclusive lock file and re-read, merge and write under it, so an account's `version`
 *   never goes backwards and no process loses another's update. A lock whose time is more than `staleLockAfter`
 *   (10 s) away from now, in the past or in the future, or held by a dead process on this host, is taken over.
 * - `withLease` holds a lease file of the same form, whose mtime is renewed every third of the ttl while its work
 *   runs, so a long redemption keeps it; it is taken over only when its holder stopped renewing it for a ttl.
 * - Entries that do not decode, or hold absurd numbers, are dropped one by one with a warning (never with their
 *   contents); a file that is not a cache file reads as empty. Either way the file is first copied to a backup
 *   beside it (`<file>.<time>.<random>.bak`, 0600) before it is next written: nothing is lost to a partial read.
 * - Plaintext by default, for development, as MSAL's persistence is on Linux without a keyring. With
 *   `encryptionKey` (see {@link CacheEncryption}) the file holds `{v, alg, iv, tag, data}`, AES-256-GCM, sealed
 *   with that key; `previousEncryptionKeys` still open it while rotating, and the next write seals with the current
 *   key. A file this process cannot decrypt (no key, another key) reads as empty and is never replaced: writes fail
 *   with a `KeyMismatch` {@link FileTokenCacheError}.
 * - Reads are served from an in-memory copy (so `peekAccessToken` is a synchronous O(1) read) that is reloaded
 *   when the file's inode, size or mtime changes.
 *
 * Like every {@link TokenCache.Service}, its methods never fail: a write that cannot reach the disk is applied in
 * memory, logged as a warning and kept in {@link Service.lastWriteError}; {@link Service.ensureWritable} fails with
 * a {@link FileTokenCacheError} instead, for callers (a CLI) that must report it.
 *
 * @since 0.1.0
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { createHash } from "node:crypto"
import * as CacheEncryption from "./CacheEncryption.js"
import { FileTokenCacheError } from "./internal/fileCacheError.js"
import { keyRingOf, serviceOf } from "./internal/fileCacheService.js"
import * as FileStore from "./internal/fileStore.js"
import * as SecureFiles from "./internal/secureFiles.js"
import * as TokenCache from "./TokenCache.js"

export {
  /**
   * @since 0.1.0
   * @category errors
   */
  FileTokenCacheError
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The folder holding `token-cache.json`; created (mode 0700) when missing. Must be the current user's. */
  readonly directory: string
  /**
   * 32 random bytes as 64 hex digits or base64 / base64url (`openssl rand -base64 32`). Without it the file is
   * plaintext JSON (mode 0600).
   */
  readonly encryptionKey?: CacheEncryption.KeyInput | undefined
  /** Keys the file may still be sealed with while rotating: they open it, the next write seals with the current key. */
  readonly previousEncryptionKeys?: ReadonlyArray<CacheEncryption.KeyInput> | undefined
  /** The file name inside `directory`. Default `token-cache.json`. */
  readonly fileName?: string | undefined
  /** A lock whose time is further than this from now is taken over. Default 10 seconds. */
  readonly staleLockAfter?: Duration.DurationInput | undefined
  /** How long a writer waits for the lock before giving up. Default 15 seconds. */
  readonly lockTimeout?: Duration.DurationInput | undefined
}

/**
 * The cache service plus what a caller needs to report persistence problems.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service extends TokenCache.Service {
  /** The cache file's absolute path. */
  readonly filePath: string
  /**
   * Creates the folder (0700), takes and releases the lock once, and reads the file: fails when the cache cannot be
   * written, the folder is not safe, or the file is encrypted with a key this process does not have.
   */
  readonly ensureWritable: Effect.Effect<void, FileTokenCacheError>
  /**
   * Fails (`Unsafe`) when the folder or the file is a symbolic link or belongs to another user; creates nothing.
   * (Reads of such a cache see it as empty.)
   */
  readonly ensureSafe: Effect.Effect<void, FileTokenCacheError>
  /** The last write that reached memory only, if any. */
  readonly lastWriteError: Effect.Effect<Option.Option<FileTokenCacheError>>
  /** The id of the key that seals the file (first 8 hex digits of its SHA-256), when it is encrypted. */
  readonly keyId: string | undefined
}

/**
 * The file cache, for callers that need {@link Service.ensureWritable} or the file path. The same instance is
 * provided as `TokenCache` by {@link layer}.
 *
 * @since 0.1.0
 * @category tags
 */
export class FileTokenCache extends Context.Tag("@effect-entra/identity/FileTokenCache")<FileTokenCache, Service>() {}

/**
 * Builds the file cache. Nothing is read or created until first use; an invalid key fails here.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: Options
): Effect.Effect<Service, FileTokenCacheError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const ring = yield* keyRingOf(options)
    const directory = path.resolve(options.directory)
    const filePath = path.join(directory, options.fileName ?? "token-cache.json")
    const store = yield* FileStore.make({
      fs,
      directory,
      filePath,
      ring,
      staleLockMs: Duration.toMillis(options.staleLockAfter ?? Duration.seconds(10)),
      lockTimeoutMs: Duration.toMillis(options.lockTimeout ?? Duration.seconds(15))
    })
    const leasePath = (leaseKey: string) =>
      path.join(directory, `lease-${createHash("sha256").update(leaseKey).digest("hex").slice(0, 32)}.lock`)
    return serviceOf(store, fs, filePath, ring, leasePath)
  })

/**
 * Reads a file kept beside a cache (a CLI's settings) under the cache's rules: its folder and the file must be the
 * current user's and not symbolic links (else an `Unsafe` {@link FileTokenCacheError}); a file of ours with any of
 * `looseBits` in its mode (default: group and other write) is tightened with a warning. `None` when it is missing.
 *
 * @since 0.1.0
 * @category files
 */
export const readPrivateFile = (
  filePath: string,
  options: { readonly looseBits?: number | undefined } = {}
): Effect.Effect<Option.Option<string>, FileTokenCacheError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const folder = yield* SecureFiles.checkFolder(fs, path.dirname(filePath), { create: false, errorPath: filePath })
    if (folder === "Missing") return Option.none()
    const read = yield* SecureFiles.readPrivate(fs, filePath, options.looseBits ?? 0o022)
    switch (read._tag) {
      case "Read":
        return Option.some(read.text)
      case "Missing":
      case "Unchanged":
        return Option.none()
      case "Refused":
        return yield* new FileTokenCacheError({ reason: "Unsafe", path: filePath, detail: read.detail })
      case "Failed":
        return yield* new FileTokenCacheError({ reason: "WriteFailed", path: filePath, detail: read.detail })
    }
  })

/**
 * Writes a file beside a cache under the cache's rules: the folder is created (0700) or checked like the cache's,
 * the text goes to a random temporary name created exclusively (0600), then is renamed over the file; a symbolic
 * link is refused, never followed.
 *
 * @since 0.1.0
 * @category files
 */
export const writePrivateFile = (
  filePath: string,
  text: string
): Effect.Effect<void, FileTokenCacheError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    yield* SecureFiles.checkFolder(fs, path.dirname(filePath), { create: true, errorPath: filePath })
    yield* SecureFiles.writeAtomically(fs, filePath, text)
  })

/**
 * The file cache as both `TokenCache` (for credentials) and {@link FileTokenCache}. Needs the platform's
 * `FileSystem` and `Path` (e.g. `NodeContext.layer` from `@effect/platform-node`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options
): Layer.Layer<TokenCache.TokenCache | FileTokenCache, FileTokenCacheError, FileSystem.FileSystem | Path.Path> =>
  Layer.effectContext(
    Effect.map(
      make(options),
      (service) => Context.make(FileTokenCache, service).pipe(Context.add(TokenCache.TokenCache, service))
    )
  )

/**
 * {@link layer} from configuration: `EFFECT_ENTRA_CACHE_DIR` (required), `EFFECT_ENTRA_CACHE_KEY` (optional,
 * redacted) and `EFFECT_ENTRA_CACHE_PREVIOUS_KEYS` (optional, redacted: keys separated by commas or spaces), unless
 * other configs are given.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options: Config.Config.Wrap<Options> = {
    directory: Config.string("EFFECT_ENTRA_CACHE_DIR"),
    encryptionKey: Config.option(Config.redacted("EFFECT_ENTRA_CACHE_KEY")).pipe(
      Config.map(Option.getOrUndefined)
    ),
    previousEncryptionKeys: Config.option(Config.redacted("EFFECT_ENTRA_CACHE_PREVIOUS_KEYS")).pipe(
      Config.map(Option.match({ onNone: () => undefined, onSome: CacheEncryption.splitKeyList }))
    )
  }
): Layer.Layer<
  TokenCache.TokenCache | FileTokenCache,
  FileTokenCacheError | ConfigError.ConfigError,
  FileSystem.FileSystem | Path.Path
> => Layer.unwrapEffect(Effect.map(Config.unwrap(options), layer))
