/**
 * Files in a folder other users may reach: the folder must be ours and closed to others, no symbolic link is
 * followed, and a file is only ever created exclusively under a random name (mode 0600) and renamed into place.
 */
import type { PlatformError } from "@effect/platform/Error"
import type * as FileSystem from "@effect/platform/FileSystem"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import { randomBytes } from "node:crypto"
import { FileTokenCacheError, isMissingPath, isNotFound, octal, reasonOf } from "./fileCacheError.js"

const currentUid = (): number | undefined => process.getuid?.()

/** `readlink` succeeds on a symbolic link only: an `lstat` the platform `FileSystem` can express. */
export const isSymlink = (fs: FileSystem.FileSystem, path: string): Effect.Effect<boolean> =>
  Effect.map(Effect.either(fs.readLink(path)), Either.isRight)

/** Why `info` is not ours, if it is not. */
export const notOurs = (info: FileSystem.File.Info): string | undefined => {
  const me = currentUid()
  const owner = Option.getOrUndefined(info.uid)
  return me !== undefined && owner !== undefined && owner !== me
    ? `is owned by uid ${owner}, not by you (uid ${me})`
    : undefined
}

/**
 * Checks a folder before its files are trusted: not a symbolic link and ours. With `create` (before writing) it is
 * created (0700) when missing, its owner must be able to enter and write it (a read-only folder is a choice to
 * respect, never changed) and group and other bits are removed. Without it, a missing folder is `Missing` and only
 * write bits for group or others are removed. Only a folder of ours is ever chmod'ed.
 */
export const checkFolder = (
  fs: FileSystem.FileSystem,
  directory: string,
  options: { readonly create: boolean; readonly errorPath: string }
): Effect.Effect<"Ready" | "Missing", FileTokenCacheError> =>
  Effect.gen(function*() {
    const fail = (reason: FileTokenCacheError["reason"], detail: string, cause?: unknown) =>
      new FileTokenCacheError({ reason, path: options.errorPath, detail, cause })
    if (options.create) {
      yield* Effect.mapError(
        fs.makeDirectory(directory, { recursive: true, mode: 0o700 }),
        (error) => fail("WriteFailed", reasonOf(error), error)
      )
    }
    if (yield* isSymlink(fs, directory)) {
      return yield* fail("Unsafe", `its folder ${directory} is a symbolic link; give the real folder instead`)
    }
    const info = yield* Effect.either(fs.stat(directory))
    if (Either.isLeft(info)) {
      if (!options.create && isMissingPath(info.left)) return "Missing" as const
      return yield* fail("WriteFailed", reasonOf(info.left), info.left)
    }
    if (info.right.type !== "Directory") return yield* fail("WriteFailed", "it is not a directory")
    const owner = notOurs(info.right)
    if (owner !== undefined) return yield* fail("Unsafe", `its folder ${directory} ${owner}`)
    const mode = info.right.mode & 0o777
    if (options.create && (mode & 0o300) !== 0o300) {
      return yield* fail(
        "WriteFailed",
        (mode & 0o200) === 0
          ? `its folder is read-only (mode ${octal(mode)})`
          : `its folder cannot be entered by its owner (mode ${octal(mode)})`
      )
    }
    const loose = mode & (options.create ? 0o077 : 0o022)
    if (loose !== 0) {
      yield* Effect.mapError(fs.chmod(directory, mode & ~loose), (error) => fail("WriteFailed", reasonOf(error), error))
    }
    return "Ready" as const
  })

/**
 * Creates `path` exclusively (never through a symbolic link, never over a file) with mode 0600 and writes `text`.
 * When the write fails (a full disk), the file it created is removed: no empty lock or partial file is left.
 */
export const createExclusive = (
  fs: FileSystem.FileSystem,
  path: string,
  text: string
): Effect.Effect<void, PlatformError> =>
  Effect.scoped(
    Effect.flatMap(
      fs.open(path, { flag: "wx", mode: 0o600 }),
      (file) => Effect.tapError(file.writeAll(new TextEncoder().encode(text)), () => Effect.ignore(fs.remove(path)))
    )
  )

/**
 * Replaces `path` atomically: a random temporary name beside it, created exclusively (0600), then renamed over it.
 * A symbolic link at `path` is refused, not followed.
 */
export const writeAtomically = (
  fs: FileSystem.FileSystem,
  path: string,
  text: string
): Effect.Effect<void, FileTokenCacheError> =>
  Effect.gen(function*() {
    if (yield* isSymlink(fs, path)) {
      return yield* new FileTokenCacheError({ reason: "Unsafe", path, detail: "it is a symbolic link" })
    }
    const temp = `${path}.${randomBytes(8).toString("hex")}.tmp`
    yield* createExclusive(fs, temp, text).pipe(
      Effect.zipRight(Effect.tapError(fs.rename(temp, path), () => Effect.ignore(fs.remove(temp)))),
      Effect.mapError((error) =>
        new FileTokenCacheError({ reason: "WriteFailed", path, detail: reasonOf(error), cause: error })
      )
    )
  })

/**
 * What reading a file found.
 */
export type ReadResult =
  | { readonly _tag: "Missing" }
  | { readonly _tag: "Unchanged" }
  | { readonly _tag: "Read"; readonly text: string; readonly info: FileSystem.File.Info }
  | { readonly _tag: "Refused"; readonly detail: string }
  | { readonly _tag: "Failed"; readonly detail: string }

/**
 * Reads a file that must be ours and not a symbolic link. A loose mode (any of `looseBits`) of a file of ours is
 * tightened, with a warning. `unchanged` skips reading a file the caller already has.
 */
export const readPrivate = (
  fs: FileSystem.FileSystem,
  path: string,
  looseBits: number,
  unchanged: (info: FileSystem.File.Info) => boolean = () => false
): Effect.Effect<ReadResult> =>
  Effect.gen(function*() {
    if (yield* isSymlink(fs, path)) return { _tag: "Refused", detail: `${path} is a symbolic link` } as const
    const info = yield* Effect.either(fs.stat(path))
    if (Either.isLeft(info)) {
      return isNotFound(info.left)
        ? { _tag: "Missing" } as const
        : { _tag: "Failed", detail: `${path} is not readable: ${reasonOf(info.left)}` } as const
    }
    if (info.right.type !== "File") return { _tag: "Refused", detail: `${path} is not a regular file` } as const
    const owner = notOurs(info.right)
    if (owner !== undefined) return { _tag: "Refused", detail: `${path} ${owner}` } as const
    const mode = info.right.mode & 0o777
    if ((mode & looseBits) === 0 && unchanged(info.right)) return { _tag: "Unchanged" } as const
    if ((mode & looseBits) !== 0) {
      const tightened = mode & ~looseBits & 0o777
      yield* Effect.logWarning(`${path} had mode ${octal(mode)}, open to other users; changed to ${octal(tightened)}`)
      yield* Effect.ignore(fs.chmod(path, tightened))
    }
    const text = yield* Effect.either(fs.readFileString(path))
    if (Either.isLeft(text)) {
      return isNotFound(text.left)
        ? { _tag: "Missing" } as const
        : { _tag: "Failed", detail: `${path} is not readable: ${reasonOf(text.left)}` } as const
    }
    return { _tag: "Read", text: text.right, info: info.right } as const
  })
