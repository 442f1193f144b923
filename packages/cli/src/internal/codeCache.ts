/**
 * Runs the command line's CommonJS bundle with V8's code cache: most of a short command's start-up is compiling
 * the bundle, and V8 can keep that work between runs. The first run writes what it compiled (after the command
 * ran, so the functions it called are included) and later runs start from it.
 *
 * Node 22.1+ has `module.enableCompileCache`, but Node 20 does not, and its default folder is in the shared
 * temporary folder. This loader works the same on every supported Node and keeps the cache in a folder of the
 * user's own: cached code is run as the user's code, so a cache file anyone else could write is never read.
 *
 * Plain Node: it runs before the bundle (and Effect) is loaded. Every failure to read or write the cache falls
 * back to compiling as usual; the command never fails because of it.
 *
 * @internal
 */
import * as Fs from "node:fs"
import * as Module from "node:module"
import * as Os from "node:os"
import * as Path from "node:path"
import * as Vm from "node:vm"

/** Where the cache lives, from the environment: `undefined` when it is turned off or there is no home folder. */
export const cacheDirectory = (
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform = process.platform,
  home: () => string = Os.homedir
): string | undefined => {
  // Node's own switch for its compile cache turns this one off too.
  if (env.NODE_DISABLE_COMPILE_CACHE !== undefined && env.NODE_DISABLE_COMPILE_CACHE !== "") return undefined
  const explicit = env.EFFECT_ENTRA_CODE_CACHE_DIR
  if (explicit !== undefined) return explicit === "" ? undefined : Path.resolve(explicit)
  if (platform === "win32") {
    return env.LOCALAPPDATA ? Path.join(env.LOCALAPPDATA, "effect-entra", "code-cache") : undefined
  }
  if (env.XDG_CACHE_HOME && Path.isAbsolute(env.XDG_CACHE_HOME)) {
    return Path.join(env.XDG_CACHE_HOME, "effect-entra", "code-cache")
  }
  try {
    const dir = home()
    return dir === "" ? undefined : Path.join(dir, ".cache", "effect-entra", "code-cache")
  } catch {
    return undefined
  }
}

/** Only the user (or root) may have written it: owned by this user, not writable by group or others. */
const isOwnAndPrivate = (stat: Fs.Stats): boolean =>
  process.getuid === undefined || (stat.uid === process.getuid() && (stat.mode & 0o022) === 0)

/** The cache folder, created private when missing; `undefined` when it is not safe to use (or cannot be made). */
export const openDirectory = (dir: string): string | undefined => {
  try {
    Fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
    const stat = Fs.lstatSync(dir)
    return stat.isDirectory() && isOwnAndPrivate(stat) ? dir : undefined
  } catch {
    return undefined
  }
}

/** Larger than any cache this bundle produces (about 1 MB): a bigger file is not ours. */
const maxCacheBytes = 64 * 1024 * 1024

/** A cache file's bytes, or `undefined` when missing, not a regular file of this user's, or too large. */
export const readCache = (file: string): Buffer | undefined => {
  let fd: number | undefined
  try {
    // O_NOFOLLOW: a symbolic link planted in place of the file is refused, not followed.
    fd = Fs.openSync(file, Fs.constants.O_RDONLY | (Fs.constants.O_NOFOLLOW ?? 0))
    const stat = Fs.fstatSync(fd)
    if (!stat.isFile() || !isOwnAndPrivate(stat) || stat.size > maxCacheBytes) return undefined
    return Fs.readFileSync(fd)
  } catch {
    return undefined
  } finally {
    if (fd !== undefined) Fs.closeSync(fd)
  }
}

/**
 * Writes the cache whole or not at all (a temporary file renamed over it), readable by the user only, and removes
 * the files earlier builds of the same bundle left for this Node version.
 */
export const writeCache = (file: string, data: Buffer): void => {
  const temporary = `${file}.${process.pid}.tmp`
  try {
    Fs.writeFileSync(temporary, data, { mode: 0o600, flag: "wx" })
    Fs.renameSync(temporary, file)
  } catch {
    Fs.rmSync(temporary, { force: true })
    return
  }
  const dir = Path.dirname(file)
  const name = Path.basename(file)
  const prefix = name.slice(0, name.lastIndexOf("-") + 1)
  try {
    for (const other of Fs.readdirSync(dir)) {
      if (other.startsWith(prefix) && other.endsWith(".v8cache") && other !== name) {
        Fs.rmSync(Path.join(dir, other), { force: true })
      }
    }
  } catch {
    // Leftovers cost disk space only.
  }
}

/**
 * The cache file for this source and command kind. V8 checks only the source's length, its own version and flags:
 * the name carries the file's identity as git's index keeps it (size, inode, change time), so a rebuilt or
 * reinstalled bundle never runs the code of the one before (hashing the megabyte would cost more than it saves).
 * Each kind of command keeps its own cache, holding the functions that kind runs.
 */
export const cacheFileFor = (dir: string, file: string, kind: string, stat: Fs.BigIntStats): string => {
  const identity = `${stat.size}.${stat.ino}.${stat.ctimeNs}`
  return Path.join(dir, `${Path.basename(file)}-${kind}-${process.version}-${process.arch}-${identity}.v8cache`)
}

/** What happened to the cache on this run, for tests and the benchmark. */
export type CacheOutcome = "disabled" | "unsafe" | "written" | "used" | "rejected"

/**
 * Loads a CommonJS file as `require` would and returns its exports, compiled from the cache of this `kind` of
 * command when there is one. A missing or rejected cache is written when the process exits.
 */
export const load = (
  file: string,
  kind: string,
  env: NodeJS.ProcessEnv = process.env
): { readonly exports: unknown; readonly outcome: CacheOutcome } => {
  const fd = Fs.openSync(file, "r")
  let source: string
  let stat: Fs.BigIntStats
  try {
    stat = Fs.fstatSync(fd, { bigint: true })
    source = Fs.readFileSync(fd, "utf8")
  } finally {
    Fs.closeSync(fd)
  }
  const requested = cacheDirectory(env)
  const dir = requested === undefined ? undefined : openDirectory(requested)
  const cacheFile = dir === undefined ? undefined : cacheFileFor(dir, file, kind, stat)
  const cachedData = cacheFile === undefined ? undefined : readCache(cacheFile)
  // CommonJS's own wrapper (Module.wrap), so the file runs as `require` would run it.
  const wrapped = `(function (exports, require, module, __filename, __dirname) { ${source}\n});`
  const script = new Vm.Script(wrapped, {
    filename: file,
    ...(cachedData === undefined ? {} : { cachedData })
  })
  const outcome: CacheOutcome = requested === undefined
    ? "disabled"
    : cacheFile === undefined
    ? "unsafe"
    : cachedData === undefined
    ? "written"
    : script.cachedDataRejected === true
    ? "rejected"
    : "used"
  if (cacheFile !== undefined && outcome !== "used") {
    // At exit the cache holds the functions this command ran, not only the top level.
    process.once("exit", () => writeCache(cacheFile, script.createCachedData()))
  }
  const module = { exports: {} as unknown }
  const wrapper = script.runInThisContext() as (...args: ReadonlyArray<unknown>) => void
  wrapper.call(module.exports, module.exports, Module.createRequire(file), module, file, Path.dirname(file))
  return { exports: module.exports, outcome }
}
