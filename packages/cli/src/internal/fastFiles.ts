/**
 * The `FileSystem` a cached `token` reads the cache folder with: what reading needs (`readLink`, `stat`,
 * `readFileString`, and `chmod`, which tightens a loose mode as the full command does), through Node's synchronous
 * calls, with the results and errors `NodeFileSystem` gives. A short-lived command that reads a few small files gains
 * nothing from the thread pool, and `NodeFileSystem` brings `Stream` (its `stream` and `sink`), a sizeable share of
 * the code to compile at start-up. Any other method is a defect: the fast path never writes, and a defect makes it
 * a miss (the full command runs) rather than a failure something could catch and read as "no symbolic link".
 *
 * @internal
 */
import * as PlatformError from "@effect/platform/Error"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Fs from "node:fs"

/** `NodeFileSystem`'s mapping of an operating-system error. */
const systemError = (method: string, path: string, error: unknown): PlatformError.PlatformError => {
  const cause = error as NodeJS.ErrnoException
  if (typeof cause?.syscall !== "string") return new PlatformError.BadArgument({ module: "FileSystem", method, cause })
  const reason = cause.code === "ENOENT"
    ? "NotFound"
    : cause.code === "EACCES"
    ? "PermissionDenied"
    : cause.code === "EEXIST"
    ? "AlreadyExists"
    : cause.code === "EISDIR" || cause.code === "ENOTDIR" || cause.code === "ELOOP"
    ? "BadResource"
    : cause.code === "EBUSY"
    ? "Busy"
    : "Unknown"
  return new PlatformError.SystemError({
    reason,
    module: "FileSystem",
    method,
    pathOrDescriptor: path,
    syscall: cause.syscall,
    description: cause.message,
    cause
  })
}

const attempt = <A>(method: string, path: string, run: () => A): Effect.Effect<A, PlatformError.PlatformError> =>
  Effect.try({ try: run, catch: (error) => systemError(method, path, error) })

/** `NodeFileSystem`'s `File.Info`. */
export const fileInfo = (stat: Fs.Stats): FileSystem.File.Info => ({
  type: stat.isFile()
    ? "File"
    : stat.isDirectory()
    ? "Directory"
    : stat.isSymbolicLink()
    ? "SymbolicLink"
    : stat.isBlockDevice()
    ? "BlockDevice"
    : stat.isCharacterDevice()
    ? "CharacterDevice"
    : stat.isFIFO()
    ? "FIFO"
    : stat.isSocket()
    ? "Socket"
    : "Unknown",
  mtime: Option.fromNullable(stat.mtime),
  atime: Option.fromNullable(stat.atime),
  birthtime: Option.fromNullable(stat.birthtime),
  dev: stat.dev,
  rdev: Option.fromNullable(stat.rdev),
  ino: Option.fromNullable(stat.ino),
  mode: stat.mode,
  nlink: Option.fromNullable(stat.nlink),
  uid: Option.fromNullable(stat.uid),
  gid: Option.fromNullable(stat.gid),
  size: FileSystem.Size(stat.size),
  blksize: Option.map(Option.fromNullable(stat.blksize), FileSystem.Size),
  blocks: Option.fromNullable(stat.blocks)
})

const reading: Pick<FileSystem.FileSystem, "readLink" | "stat" | "readFileString" | "chmod"> = {
  readLink: (path) => attempt("readLink", path, () => Fs.readlinkSync(path)),
  stat: (path) => attempt("stat", path, () => fileInfo(Fs.statSync(path))),
  readFileString: (path, encoding) =>
    Effect.flatMap(
      attempt("readFile", path, () => Fs.readFileSync(path)),
      // As `FileSystem.make` decodes: a TextDecoder, which also drops a byte-order mark.
      (bytes) =>
        Effect.try({
          try: () => new TextDecoder(encoding).decode(bytes),
          catch: (cause) =>
            new PlatformError.BadArgument({
              module: "FileSystem",
              method: "readFileString",
              description: "invalid encoding",
              cause
            })
        })
    ),
  chmod: (path, mode) => attempt("chmod", path, () => Fs.chmodSync(path, mode))
}

const notReading = (method: string) => () => Effect.dieMessage(`FileSystem.${method} is not available to a cache read`)

/** The service: {@link reading}, and a defect for every other method. */
export const fileSystem: FileSystem.FileSystem = new Proxy(reading as FileSystem.FileSystem, {
  get: (target, key, receiver) =>
    key in target || typeof key === "symbol" ? Reflect.get(target, key, receiver) : notReading(key)
})

export const layer: Layer.Layer<FileSystem.FileSystem> = Layer.succeed(FileSystem.FileSystem, fileSystem)
