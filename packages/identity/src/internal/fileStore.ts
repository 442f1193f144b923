/**
 * The file cache's state: an in-memory copy of the file, reloaded when the file changes, and changes applied to the
 * file under the lock (re-read first, so other processes' writes are merged).
 *
 * The file is never replaced from a read that lost something: entries that did not decode, or a whole file that is
 * not a cache file, are first set aside in a backup beside it (`<file>.<time>.<random>.bak`, 0600); a file this
 * process cannot decrypt, cannot read, or must not trust is not replaced at all.
 */
import type * as FileSystem from "@effect/platform/FileSystem"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { randomBytes } from "node:crypto"
import type * as CacheEncryption from "../CacheEncryption.js"
import type { State } from "./cacheFileFormat.js"
import { copyState, decodeFile, emptyState, encodeFile } from "./cacheFileFormat.js"
import { FileTokenCacheError } from "./fileCacheError.js"
import * as FileLock from "./fileLock.js"
import { checkFolder, createExclusive, readPrivate, writeAtomically } from "./secureFiles.js"

export interface StoreOptions {
  readonly fs: FileSystem.FileSystem
  readonly directory: string
  readonly filePath: string
  readonly ring: CacheEncryption.KeyRing | undefined
  readonly staleLockMs: number
  readonly lockTimeoutMs: number
}

export interface Store {
  /** The in-memory copy (replaced, never mutated, by loads and writes). */
  readonly current: () => State
  /** Reloads the file when it changed. */
  readonly refresh: Effect.Effect<void>
  /** Applies `change` to the file under the lock, or to the in-memory copy only when the file cannot be written. */
  readonly mutate: <A>(name: string, change: (target: State) => A) => Effect.Effect<A>
  readonly ensureWritable: Effect.Effect<void, FileTokenCacheError>
  readonly ensureSafe: Effect.Effect<void, FileTokenCacheError>
  readonly ensureDirectory: Effect.Effect<void, FileTokenCacheError>
  readonly lastWriteError: () => FileTokenCacheError | undefined
}

const signatureOf = (info: FileSystem.File.Info) =>
  `${Option.getOrElse(info.ino, () => 0)}:${info.size}:${
    Option.match(info.mtime, { onNone: () => 0, onSome: (d) => d.getTime() })
  }`

export const make = (options: StoreOptions): Effect.Effect<Store> =>
  Effect.gen(function*() {
    const { directory, filePath, fs, ring } = options
    const mutex = yield* Effect.makeSemaphore(1)
    let state = emptyState()
    let signature: string | undefined = undefined
    let directoryReady = false
    let folderChecked = false
    let lastWriteError: FileTokenCacheError | undefined = undefined
    // Why the file must not be replaced (set by the last load), and what to set aside before replacing it.
    let blocked: FileTokenCacheError | undefined = undefined
    let setAside: string | undefined = undefined

    const refuse = (reason: "Unsafe" | "KeyMismatch" | "WriteFailed", detail: string) =>
      new FileTokenCacheError({ reason, path: filePath, detail })

    // A file that was read and is gone takes its entries with it; changes that only ever reached memory stay.
    const forget = (why: FileTokenCacheError | undefined) => {
      if (signature !== undefined) state = emptyState()
      signature = undefined
      blocked = why
      setAside = undefined
    }

    const load = (force: boolean) =>
      Effect.gen(function*() {
        if (!directoryReady && !folderChecked) {
          const folder = yield* Effect.either(checkFolder(fs, directory, { create: false, errorPath: filePath }))
          if (folder._tag === "Left") {
            yield* Effect.logWarning(`${folder.left.message}; read as empty`)
            return forget(folder.left)
          }
          if (folder.right === "Missing") return forget(undefined)
          folderChecked = true
        }
        const read = yield* readPrivate(fs, filePath, 0o077, (info) => !force && signatureOf(info) === signature)
        switch (read._tag) {
          case "Unchanged":
            return
          case "Missing":
            return forget(undefined)
          case "Refused":
          case "Failed": {
            yield* Effect.logWarning(`token cache ${read.detail}; read as empty`)
            return forget(refuse(read._tag === "Refused" ? "Unsafe" : "WriteFailed", read.detail))
          }
        }
        const decoded = decodeFile(read.text, ring)
        // A forced reload of the same file (under the lock) has nothing new to warn about.
        const seen = signature === signatureOf(read.info)
        const warn = (message: string) => seen ? Effect.void : Effect.logWarning(message)
        forget(undefined)
        signature = signatureOf(read.info)
        if (decoded._tag === "Ok") {
          state = decoded.state
          if (decoded.dropped > 0) {
            setAside = read.text
            yield* warn(
              `token cache ${filePath}: ${decoded.dropped} entr${decoded.dropped === 1 ? "y" : "ies"} could not be ` +
                "read and were dropped; the file is set aside in a backup before it is next written"
            )
          }
        } else if (decoded._tag === "Foreign") {
          setAside = read.text
          yield* warn(`token cache ${filePath} ignored, ${decoded.why}; starting from an empty cache`)
        } else {
          blocked = refuse("KeyMismatch", `${decoded.why}; nothing was changed`)
          yield* warn(`token cache ${filePath} ignored, ${decoded.why}`)
        }
      })

    const ensureDirectory = Effect.suspend(() =>
      directoryReady ?
        Effect.void :
        Effect.tap(checkFolder(fs, directory, { create: true, errorPath: filePath }), () => {
          directoryReady = true
        })
    )

    const withFileLock = <A, E>(effect: Effect.Effect<A, E>) =>
      mutex.withPermits(1)(
        Effect.zipRight(
          ensureDirectory,
          FileLock.withLock(fs, {
            lockPath: `${filePath}.lock`,
            errorPath: filePath,
            staleMs: options.staleLockMs,
            timeoutMs: options.lockTimeoutMs
          }, effect)
        )
      )

    /** Under the lock: the file as it is now, and fails when it must not be replaced. */
    const loadForWrite = Effect.zipRight(load(true), Effect.suspend(() => blocked ?? Effect.void))

    const backUp = (text: string) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const backup = `${filePath}.${now}.${randomBytes(4).toString("hex")}.bak`
        yield* Effect.mapError(
          createExclusive(fs, backup, text),
          (error) => refuse("WriteFailed", `cannot set the unreadable file aside in ${backup}: ${String(error)}`)
        )
        yield* Effect.logWarning(`token cache ${filePath}: the previous file is kept in ${backup}`)
      })

    const writeState = (next: State) =>
      Effect.gen(function*() {
        if (setAside !== undefined) yield* backUp(setAside)
        yield* writeAtomically(fs, filePath, encodeFile(next, ring))
        setAside = undefined
        const info = yield* Effect.either(fs.stat(filePath))
        signature = info._tag === "Right" ? signatureOf(info.right) : undefined
        state = next
      })

    const mutate = <A>(name: string, change: (target: State) => A): Effect.Effect<A> =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const onDisk = withFileLock(Effect.gen(function*() {
          yield* loadForWrite
          const next = copyState(state)
          const result = change(next)
          for (const [k, entry] of next.accessTokens) if (entry.expiresOn <= now) next.accessTokens.delete(k)
          for (const [k, entry] of next.redemptions) if (entry.expiresOn <= now) next.redemptions.delete(k)
          yield* writeState(next)
          return result
        }))
        return yield* onDisk.pipe(
          Effect.tap(() => Effect.sync(() => (lastWriteError = undefined))),
          Effect.catchAll((error) =>
            Effect.gen(function*() {
              lastWriteError = error
              yield* Effect.logWarning(`${error.message}; the change is kept in memory only`)
              const next = copyState(state)
              const result = change(next)
              state = next
              return result
            })
          ),
          Effect.withSpan(`FileTokenCache.${name}`, { attributes: { path: filePath } })
        )
      })

    const ensureSafe = mutex.withPermits(1)(
      Effect.zipRight(load(true), Effect.suspend(() => blocked?.reason === "Unsafe" ? blocked : Effect.void))
    )

    return {
      current: () => state,
      refresh: mutex.withPermits(1)(load(false)),
      mutate,
      ensureWritable: withFileLock(loadForWrite),
      ensureSafe,
      ensureDirectory,
      lastWriteError: () => lastWriteError
    }
  })
