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

/** The store's mutable state, shared by the functions below (one per cache instance). */
interface Ctx {
  readonly options: StoreOptions
  state: State
  signature: string | undefined
  directoryReady: boolean
  folderChecked: boolean
  lastWriteError: FileTokenCacheError | undefined
  /** Why the file must not be replaced (set by the last load). */
  blocked: FileTokenCacheError | undefined
  /** What to set aside in a backup before the file is replaced. */
  setAside: string | undefined
}

const refuse = (ctx: Ctx, reason: "Unsafe" | "KeyMismatch" | "WriteFailed", detail: string) =>
  new FileTokenCacheError({ reason, path: ctx.options.filePath, detail })

/** A file that was read and is gone takes its entries with it; changes that only ever reached memory stay. */
const forget = (ctx: Ctx, why: FileTokenCacheError | undefined) => {
  if (ctx.signature !== undefined) ctx.state = emptyState()
  ctx.signature = undefined
  ctx.blocked = why
  ctx.setAside = undefined
}

/** Reads the file; `force` skips the unchanged-signature shortcut (used under the lock). */
const load = (ctx: Ctx, force: boolean) =>
  Effect.gen(function*() {
    const { directory, filePath, fs, ring } = ctx.options
    if (!ctx.directoryReady && !ctx.folderChecked) {
      const folder = yield* Effect.either(checkFolder(fs, directory, { create: false, errorPath: filePath }))
      if (folder._tag === "Left") {
        yield* Effect.logWarning(`${folder.left.message}; read as empty`)
        return forget(ctx, folder.left)
      }
      if (folder.right === "Missing") return forget(ctx, undefined)
      ctx.folderChecked = true
    }
    const read = yield* readPrivate(fs, filePath, 0o077, (info) => !force && signatureOf(info) === ctx.signature)
    switch (read._tag) {
      case "Unchanged":
        return
      case "Missing":
        return forget(ctx, undefined)
      case "Refused":
      case "Failed": {
        yield* Effect.logWarning(`token cache ${read.detail}; read as empty`)
        return forget(ctx, refuse(ctx, read._tag === "Refused" ? "Unsafe" : "WriteFailed", read.detail))
      }
    }
    const decoded = decodeFile(read.text, ring)
    // A forced reload of the same file (under the lock) has nothing new to warn about.
    const seen = ctx.signature === signatureOf(read.info)
    const warn = (message: string) => seen ? Effect.void : Effect.logWarning(message)
    forget(ctx, undefined)
    ctx.signature = signatureOf(read.info)
    if (decoded._tag === "Ok") {
      ctx.state = decoded.state
      if (decoded.dropped > 0) {
        ctx.setAside = read.text
        yield* warn(
          `token cache ${filePath}: ${decoded.dropped} entr${decoded.dropped === 1 ? "y" : "ies"} could not be ` +
            "read and were dropped; the file is set aside in a backup before it is next written"
        )
      }
    } else if (decoded._tag === "Foreign") {
      ctx.setAside = read.text
      yield* warn(`token cache ${filePath} ignored, ${decoded.why}; starting from an empty cache`)
    } else {
      ctx.blocked = refuse(ctx, "KeyMismatch", `${decoded.why}; nothing was changed`)
      yield* warn(`token cache ${filePath} ignored, ${decoded.why}`)
    }
  })

const backUp = (ctx: Ctx, text: string) =>
  Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const backup = `${ctx.options.filePath}.${now}.${randomBytes(4).toString("hex")}.bak`
    yield* Effect.mapError(
      createExclusive(ctx.options.fs, backup, text),
      (error) => refuse(ctx, "WriteFailed", `cannot set the unreadable file aside in ${backup}: ${String(error)}`)
    )
    yield* Effect.logWarning(`token cache ${ctx.options.filePath}: the previous file is kept in ${backup}`)
  })

const writeState = (ctx: Ctx, next: State) =>
  Effect.gen(function*() {
    const { filePath, fs, ring } = ctx.options
    if (ctx.setAside !== undefined) yield* backUp(ctx, ctx.setAside)
    yield* writeAtomically(fs, filePath, encodeFile(next, ring))
    ctx.setAside = undefined
    const info = yield* Effect.either(fs.stat(filePath))
    ctx.signature = info._tag === "Right" ? signatureOf(info.right) : undefined
    ctx.state = next
  })

/** Under the lock: the file as it is now, and fails when it must not be replaced. */
const loadForWrite = (ctx: Ctx) => Effect.zipRight(load(ctx, true), Effect.suspend(() => ctx.blocked ?? Effect.void))

const mutate = <A>(
  ctx: Ctx,
  withFileLock: <B, E>(effect: Effect.Effect<B, E>) => Effect.Effect<B, E | FileTokenCacheError>,
  name: string,
  change: (target: State) => A
): Effect.Effect<A> =>
  Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const onDisk = withFileLock(Effect.gen(function*() {
      yield* loadForWrite(ctx)
      const next = copyState(ctx.state)
      const result = change(next)
      for (const [k, entry] of next.accessTokens) if (entry.expiresOn <= now) next.accessTokens.delete(k)
      for (const [k, entry] of next.redemptions) if (entry.expiresOn <= now) next.redemptions.delete(k)
      yield* writeState(ctx, next)
      return result
    }))
    return yield* onDisk.pipe(
      Effect.tap(() => Effect.sync(() => (ctx.lastWriteError = undefined))),
      Effect.catchAll((error) =>
        Effect.gen(function*() {
          ctx.lastWriteError = error
          yield* Effect.logWarning(`${error.message}; the change is kept in memory only`)
          const next = copyState(ctx.state)
          const result = change(next)
          ctx.state = next
          return result
        })
      ),
      Effect.withSpan(`FileTokenCache.${name}`, { attributes: { path: ctx.options.filePath } })
    )
  })

export const make = (options: StoreOptions): Effect.Effect<Store> =>
  Effect.map(Effect.makeSemaphore(1), (mutex) => {
    const { directory, filePath, fs } = options
    const ctx: Ctx = {
      options,
      state: emptyState(),
      signature: undefined,
      directoryReady: false,
      folderChecked: false,
      lastWriteError: undefined,
      blocked: undefined,
      setAside: undefined
    }
    const ensureDirectory = Effect.suspend(() =>
      ctx.directoryReady
        ? Effect.void
        : Effect.tap(checkFolder(fs, directory, { create: true, errorPath: filePath }), () => {
          ctx.directoryReady = true
        })
    )
    const lock = {
      lockPath: `${filePath}.lock`,
      errorPath: filePath,
      staleMs: options.staleLockMs,
      timeoutMs: options.lockTimeoutMs
    }
    const withFileLock = <A, E>(effect: Effect.Effect<A, E>) =>
      mutex.withPermits(1)(Effect.zipRight(ensureDirectory, FileLock.withLock(fs, lock, effect)))
    return {
      current: () => ctx.state,
      refresh: mutex.withPermits(1)(load(ctx, false)),
      mutate: (name, change) => mutate(ctx, withFileLock, name, change),
      ensureWritable: withFileLock(loadForWrite(ctx)),
      ensureSafe: mutex.withPermits(1)(
        Effect.zipRight(
          load(ctx, true),
          Effect.suspend(() => ctx.blocked?.reason === "Unsafe" ? ctx.blocked : Effect.void)
        )
      ),
      ensureDirectory,
      lastWriteError: () => ctx.lastWriteError
    }
  })
