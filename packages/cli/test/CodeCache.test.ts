import { describe, expect, it } from "@effect/vitest"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { pathToFileURL } from "node:url"
import * as CodeCache from "../src/internal/codeCache.js"
import { tempDir } from "./fixtures/cli.js"

// The cache is written when the process exits, so each load runs in a child process of its own, as the bin does.
const built = pathToFileURL(Path.resolve(__dirname, "../dist/internal/codeCache.js")).href

/** Loads `file` in a fresh `node` through the built loader: what it exported and what happened to the cache. */
const loadInChild = (file: string, cacheDir: string | undefined, extraEnv: Record<string, string> = {}) => {
  const script = `import { load } from ${JSON.stringify(built)}
const { exports, outcome } = load(${JSON.stringify(file)}, "token")
process.stdout.write(JSON.stringify({ outcome, answer: exports.answer() }))`
  const env: Record<string, string> = { PATH: process.env.PATH ?? "", HOME: tempDir(), ...extraEnv }
  if (cacheDir !== undefined) env.EFFECT_ENTRA_CODE_CACHE_DIR = cacheDir
  const result = ChildProcess.spawnSync(process.execPath, ["--input-type=module", "-e", script], {
    env,
    encoding: "utf8"
  })
  if (result.status !== 0) throw new Error(`the child exited with ${result.status}:\n${result.stderr}`)
  return JSON.parse(result.stdout) as { outcome: CodeCache.CacheOutcome; answer: string }
}

/** A CommonJS file of some size, with functions the cache keeps once they have run. */
const writeModule = (dir: string, word: string): string => {
  const file = Path.join(dir, "bundle.cjs")
  const helpers = Array.from({ length: 50 }, (_, i) => `function helper${i}(x) { return x + ${i} }`).join("\n")
  Fs.writeFileSync(file, `${helpers}\nexports.answer = () => "${word}" + helper7(0)\n`)
  return file
}

const cacheFiles = (dir: string): Array<string> => Fs.readdirSync(dir).filter((name) => name.endsWith(".v8cache"))
const modeOf = (path: string): number => Fs.statSync(path).mode & 0o777
const isRoot = process.getuid?.() === 0

describe("the command line's code cache", () => {
  it("is written on the first run, private, and used by the next run", () => {
    const dir = tempDir()
    const file = writeModule(dir, "alpha")
    const cache = Path.join(dir, "cache", "nested")
    expect(loadInChild(file, cache)).toEqual({ outcome: "written", answer: "alpha7" })
    const [name] = cacheFiles(cache)
    expect(name).toMatch(
      new RegExp(`^bundle\\.cjs-token-${process.version}-${process.arch}-\\d+\\.\\d+\\.\\d+\\.v8cache$`)
    )
    if (process.platform !== "win32") {
      expect(modeOf(cache)).toBe(0o700)
      expect(modeOf(Path.join(cache, name!))).toBe(0o600)
    }
    const before = Fs.statSync(Path.join(cache, name!), { bigint: true })
    expect(loadInChild(file, cache)).toEqual({ outcome: "used", answer: "alpha7" })
    // Used, not rewritten: the same file.
    const after = Fs.statSync(Path.join(cache, name!), { bigint: true })
    expect([after.ino, after.mtimeNs]).toEqual([before.ino, before.mtimeNs])
  })

  it("never runs an older build's code: a rebuilt bundle of the same length gets a cache of its own", () => {
    const dir = tempDir()
    const file = writeModule(dir, "alpha")
    const cache = Path.join(dir, "cache")
    loadInChild(file, cache)
    const [old] = cacheFiles(cache)
    // Same length, other code: V8 alone would accept the old cache for it.
    writeModule(dir, "omega")
    expect(loadInChild(file, cache)).toEqual({ outcome: "written", answer: "omega7" })
    expect(loadInChild(file, cache)).toEqual({ outcome: "used", answer: "omega7" })
    // The older build's cache is removed when the new one is written.
    expect(cacheFiles(cache)).toHaveLength(1)
    expect(cacheFiles(cache)).not.toContain(old)
  })

  it("a damaged cache file is rejected by V8, the code still runs, and the cache is written anew", () => {
    const dir = tempDir()
    const file = writeModule(dir, "alpha")
    const cache = Path.join(dir, "cache")
    loadInChild(file, cache)
    const path = Path.join(cache, cacheFiles(cache)[0]!)
    const bytes = Fs.readFileSync(path)
    bytes.fill(0x5a, 8, bytes.length)
    Fs.writeFileSync(path, bytes)
    expect(loadInChild(file, cache)).toEqual({ outcome: "rejected", answer: "alpha7" })
    expect(loadInChild(file, cache)).toEqual({ outcome: "used", answer: "alpha7" })
  })

  it.runIf(process.platform !== "win32")("refuses a cache folder others can write, or a symbolic link to one", () => {
    const dir = tempDir()
    const file = writeModule(dir, "alpha")
    const shared = Path.join(dir, "shared")
    Fs.mkdirSync(shared, { mode: 0o700 })
    Fs.chmodSync(shared, 0o777)
    expect(loadInChild(file, shared)).toEqual({ outcome: "unsafe", answer: "alpha7" })
    expect(cacheFiles(shared)).toEqual([])
    const link = Path.join(dir, "link")
    const private_ = Path.join(dir, "private")
    Fs.mkdirSync(private_, { mode: 0o700 })
    Fs.symlinkSync(private_, link)
    expect(loadInChild(file, link)).toEqual({ outcome: "unsafe", answer: "alpha7" })
    expect(cacheFiles(private_)).toEqual([])
  })

  it.runIf(process.platform !== "win32")("never reads a cache file others can write or a symbolic link", () => {
    const dir = tempDir()
    const file = writeModule(dir, "alpha")
    const cache = Path.join(dir, "cache")
    loadInChild(file, cache)
    const path = Path.join(cache, cacheFiles(cache)[0]!)
    Fs.chmodSync(path, 0o666)
    // Treated as missing: compiled from source and written again, private.
    expect(loadInChild(file, cache)).toEqual({ outcome: "written", answer: "alpha7" })
    expect(modeOf(path)).toBe(0o600)
    // A link planted in its place (to a file of the right bytes) is not followed, and is replaced, not written
    // through: the file it points to is left as it was.
    const target = Path.join(dir, "elsewhere.v8cache")
    Fs.copyFileSync(path, target)
    Fs.chmodSync(target, 0o600)
    const targetBytes = Fs.readFileSync(target)
    Fs.rmSync(path)
    Fs.symlinkSync(target, path)
    expect(loadInChild(file, cache)).toEqual({ outcome: "written", answer: "alpha7" })
    expect(Fs.lstatSync(path).isSymbolicLink()).toBe(false)
    expect(Fs.readFileSync(target).equals(targetBytes)).toBe(true)
  })

  // Files of another user can only be made by root; CI runs the suite as root.
  it.runIf(isRoot)("never reads a cache file or folder that belongs to another user", () => {
    const dir = tempDir()
    const file = writeModule(dir, "alpha")
    const cache = Path.join(dir, "cache")
    loadInChild(file, cache)
    const path = Path.join(cache, cacheFiles(cache)[0]!)
    Fs.chownSync(path, 65534, 65534)
    expect(loadInChild(file, cache)).toEqual({ outcome: "written", answer: "alpha7" })
    expect(Fs.statSync(path).uid).toBe(0)
    const theirs = Path.join(dir, "theirs")
    Fs.mkdirSync(theirs, { mode: 0o700 })
    Fs.chownSync(theirs, 65534, 65534)
    expect(loadInChild(file, theirs)).toEqual({ outcome: "unsafe", answer: "alpha7" })
  })

  it("is turned off by an empty EFFECT_ENTRA_CODE_CACHE_DIR or NODE_DISABLE_COMPILE_CACHE, and a folder that cannot be made costs nothing but the cache", () => {
    const dir = tempDir()
    const file = writeModule(dir, "alpha")
    expect(loadInChild(file, "")).toEqual({ outcome: "disabled", answer: "alpha7" })
    const cache = Path.join(dir, "cache")
    expect(loadInChild(file, cache, { NODE_DISABLE_COMPILE_CACHE: "1" })).toEqual({
      outcome: "disabled",
      answer: "alpha7"
    })
    expect(Fs.existsSync(cache)).toBe(false)
    // Below a regular file: no folder can be made there.
    expect(loadInChild(file, Path.join(file, "cache"))).toEqual({ outcome: "unsafe", answer: "alpha7" })
  })
})

describe("where the code cache lives", () => {
  const home = () => "/home/ada"
  it("follows EFFECT_ENTRA_CODE_CACHE_DIR, then XDG_CACHE_HOME, then the home folder", () => {
    expect(CodeCache.cacheDirectory({ EFFECT_ENTRA_CODE_CACHE_DIR: "/x/y" }, "linux", home)).toBe("/x/y")
    expect(CodeCache.cacheDirectory({ EFFECT_ENTRA_CODE_CACHE_DIR: "" }, "linux", home)).toBeUndefined()
    expect(CodeCache.cacheDirectory({ XDG_CACHE_HOME: "/c" }, "linux", home)).toBe("/c/effect-entra/code-cache")
    // A relative XDG_CACHE_HOME is invalid by its specification and ignored.
    expect(CodeCache.cacheDirectory({ XDG_CACHE_HOME: "c" }, "linux", home)).toBe(
      "/home/ada/.cache/effect-entra/code-cache"
    )
    expect(CodeCache.cacheDirectory({}, "darwin", home)).toBe("/home/ada/.cache/effect-entra/code-cache")
    expect(CodeCache.cacheDirectory({ NODE_DISABLE_COMPILE_CACHE: "1" }, "linux", home)).toBeUndefined()
    expect(CodeCache.cacheDirectory({}, "linux", () => "")).toBeUndefined()
    expect(CodeCache.cacheDirectory({}, "linux", () => {
      throw new Error("no home")
    })).toBeUndefined()
  })

  it("on Windows, under LOCALAPPDATA", () => {
    expect(CodeCache.cacheDirectory({ LOCALAPPDATA: "C:\\Users\\ada\\AppData\\Local" }, "win32", home)).toBe(
      Path.join("C:\\Users\\ada\\AppData\\Local", "effect-entra", "code-cache")
    )
    expect(CodeCache.cacheDirectory({}, "win32", home)).toBeUndefined()
  })
})
