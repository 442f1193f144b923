import { FileSystem } from "@effect/platform"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { SystemError } from "@effect/platform/Error"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Duration, Effect, Layer, Logger, Option, Redacted } from "effect"
import * as Crypto from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as FileTokenCache from "../src/FileTokenCache.js"
import type * as TokenCache from "../src/TokenCache.js"

const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), "ftcr-"))
const accountKey = (n: number) => `account|https://login.example|client|uid${n}.utid`
const isRoot = process.getuid?.() === 0

const account = (n: number, version = 1): TokenCache.AccountEntry => ({
  homeAccountId: `uid${n}.utid`,
  authority: "https://login.example",
  clientId: "client",
  tenantId: "utid",
  username: `user${n}@contoso.example`,
  refreshToken: Redacted.make(`refresh-secret-${n}`),
  version,
  updatedOn: 1
})

/** What the file holds for `account(n)` (as JSON). */
const stored = (n: number, overrides: Record<string, unknown> = {}) => ({
  ...account(n),
  refreshToken: `refresh-secret-${n}`,
  ...overrides
})

const storedToken = (expiresOn: unknown) => ({
  token: "access-secret-odd",
  tokenType: "Bearer",
  issuedOn: 1,
  expiresOn,
  scopes: ["api://x/y"],
  tenantId: "utid",
  homeAccountId: "uid1.utid",
  cae: false
})

const withLogs = <A, E, R>(effect: Effect.Effect<A, E, R>) => {
  const messages: Array<string> = []
  const logger = Logger.make(({ message }) => {
    messages.push(Array.isArray(message) ? message.map(String).join(" ") : String(message))
  })
  return Effect.map(
    effect.pipe(Effect.provide(Logger.replace(Logger.defaultLogger, logger))),
    (a) => [a, messages] as const
  )
}

const make = (options: FileTokenCache.Options) => FileTokenCache.make(options).pipe(Effect.provide(NodeContext.layer))

const newKey = () => Crypto.randomBytes(32)
const redacted = (key: Buffer) => Redacted.make(key.toString("base64"))

const backups = (directory: string) => fs.readdirSync(directory).filter((name) => name.endsWith(".bak"))

/** The Node file system, except that writing to an opened file fails as on a full disk. */
const fullDisk = Layer.effect(
  FileSystem.FileSystem,
  Effect.map(FileSystem.FileSystem, (real) =>
    FileSystem.FileSystem.of({
      ...real,
      open: (file, options) =>
        Effect.map(real.open(file, options), (opened) =>
          Object.assign(Object.create(opened) as FileSystem.File, {
            writeAll: () =>
              Effect.fail(
                new SystemError({
                  reason: "Unknown",
                  module: "FileSystem",
                  method: "writeAll",
                  pathOrDescriptor: file,
                  description: "ENOSPC: no space left on device",
                  cause: Object.assign(new Error("ENOSPC"), { code: "ENOSPC" })
                })
              )
          }))
    }))
).pipe(Layer.provide(NodeContext.layer))

describe("FileTokenCache: bad entries never cost the good ones", () => {
  it.effect("an entry with an absurd or missing number is dropped alone, with a warning, and set aside before a write", () =>
    Effect.gen(function*() {
      const directory = tempDir()
      const file = path.join(directory, "token-cache.json")
      const original = JSON.stringify({
        version: 1,
        accounts: {
          [accountKey(1)]: stored(1),
          [accountKey(2)]: stored(2, { updatedOn: 1e30 }),
          [accountKey(3)]: stored(3, { version: "x" })
        },
        accessTokens: { a: storedToken(null), b: storedToken(1e30), c: storedToken(Date.UTC(2030, 0, 1)) },
        redemptions: { r: { homeAccountId: "uid1.utid", expiresOn: null } }
      })
      fs.writeFileSync(file, original, { mode: 0o600 })
      const [accounts, logs] = yield* withLogs(Effect.flatMap(make({ directory }), (cache) => cache.listAccounts))
      assert.deepStrictEqual(accounts.map((a) => a.homeAccountId), ["uid1.utid"])
      assert.match(logs.join("\n"), /5 entries could not be read and were dropped/)
      assert.notInclude(logs.join("\n"), "secret")

      const cache = yield* make({ directory })
      assert.isTrue(yield* cache.setAccount(accountKey(4), account(4)))
      const [backup] = backups(directory)
      assert.strictEqual(fs.readFileSync(path.join(directory, backup), "utf8"), original, "the original, byte for byte")
      assert.strictEqual(fs.statSync(path.join(directory, backup)).mode & 0o777, 0o600)
      const after = JSON.parse(fs.readFileSync(file, "utf8"))
      assert.deepStrictEqual(Object.keys(after.accounts).sort(), [accountKey(1), accountKey(4)])
      assert.deepStrictEqual(Object.keys(after.accessTokens), ["c"])
      // The next write has nothing more to set aside.
      yield* cache.setAccount(accountKey(5), account(5))
      assert.lengthOf(backups(directory), 1)
    }))

  it.effect("a file that is not a cache file is kept in a backup before it is replaced", () =>
    Effect.gen(function*() {
      const directory = tempDir()
      const file = path.join(directory, "token-cache.json")
      fs.writeFileSync(file, "{not json", { mode: 0o600 })
      const cache = yield* make({ directory })
      yield* cache.setAccount(accountKey(1), account(1))
      assert.isTrue(Option.isNone(yield* cache.lastWriteError))
      const [backup] = backups(directory)
      assert.strictEqual(fs.readFileSync(path.join(directory, backup), "utf8"), "{not json")
      assert.strictEqual(JSON.parse(fs.readFileSync(file, "utf8")).version, 1)
    }))
})

describe("FileTokenCache: keys", () => {
  it.effect("a process without the key, or with another one, never rewrites an encrypted cache", () =>
    Effect.gen(function*() {
      const directory = tempDir()
      const key = newKey()
      const owner = yield* make({ directory, encryptionKey: redacted(key) })
      yield* owner.setAccount(accountKey(1), account(1))
      const before = fs.readFileSync(owner.filePath, "utf8")
      for (const encryptionKey of [undefined, redacted(newKey())]) {
        const other = yield* make({ directory, encryptionKey })
        const error = yield* Effect.flip(other.ensureWritable)
        assert.strictEqual(error.reason, "KeyMismatch")
        assert.include(error.message, "EFFECT_ENTRA_CACHE_KEY")
        assert.include(error.message, "nothing was changed")
        yield* other.setAccount(accountKey(2), account(2))
        assert.strictEqual(Option.getOrThrow(yield* other.lastWriteError).reason, "KeyMismatch")
        assert.strictEqual(fs.readFileSync(owner.filePath, "utf8"), before, "the file is untouched")
      }
      assert.lengthOf(yield* (yield* make({ directory, encryptionKey: redacted(key) })).listAccounts, 1)
    }))

  it.effect("a warning about a key names its id, never the key", () =>
    Effect.gen(function*() {
      const directory = tempDir()
      yield* Effect.flatMap(make({ directory, encryptionKey: redacted(newKey()) }), (c) =>
        c.setAccount(accountKey(1), account(1)))
      const wrong = newKey()
      const [, logs] = yield* withLogs(Effect.flatMap(make({ directory, encryptionKey: redacted(wrong) }), (c) =>
        c.listAccounts))
      const text = logs.join("\n")
      assert.include(text, Crypto.createHash("sha256").update(wrong).digest("hex").slice(0, 8))
      assert.notInclude(text, wrong.toString("base64"))
      assert.notInclude(text, wrong.toString("hex"))
    }))

  it.effect("rotation: a previous key opens the file, and the next write seals it with the current key", () =>
    Effect.gen(function*() {
      const directory = tempDir()
      const oldKey = newKey()
      const currentKey = newKey()
      yield* Effect.flatMap(
        make({ directory, encryptionKey: redacted(oldKey) }),
        (c) => c.setAccount(accountKey(1), account(1))
      )
      const rotating = yield* make({
        directory,
        encryptionKey: Redacted.make(currentKey.toString("hex")),
        previousEncryptionKeys: [redacted(oldKey)]
      })
      assert.isTrue(Option.isSome(yield* rotating.getAccount(accountKey(1))))
      yield* rotating.setAccount(accountKey(2), account(2))
      const onlyCurrent = yield* make({ directory, encryptionKey: redacted(currentKey) })
      assert.lengthOf(yield* onlyCurrent.listAccounts, 2)
      const onlyOld = yield* make({ directory, encryptionKey: redacted(oldKey) })
      assert.lengthOf(yield* onlyOld.listAccounts, 0)
    }))

  it.effect("files sealed in the existing envelope format still open", () =>
    Effect.gen(function*() {
      const directory = tempDir()
      const key = newKey()
      const json = JSON.stringify({
        version: 1,
        accounts: { [accountKey(1)]: stored(1) },
        accessTokens: {},
        redemptions: {}
      })
      const iv = Crypto.randomBytes(12)
      const cipher = Crypto.createCipheriv("aes-256-gcm", key, iv)
      cipher.setAAD(Buffer.from("effect-entra/token-cache/v1"))
      const data = Buffer.concat([cipher.update(json, "utf8"), cipher.final()])
      const envelope = {
        v: 1,
        alg: "A256GCM",
        iv: iv.toString("base64"),
        tag: cipher.getAuthTag().toString("base64"),
        data: data.toString("base64")
      }
      fs.writeFileSync(path.join(directory, "token-cache.json"), JSON.stringify(envelope), { mode: 0o600 })
      const cache = yield* make({ directory, encryptionKey: redacted(key) })
      assert.strictEqual(
        Redacted.value(Option.getOrThrow(yield* cache.getAccount(accountKey(1))).refreshToken!),
        "refresh-secret-1"
      )
    }))

  it.effect("layerConfig reads EFFECT_ENTRA_CACHE_PREVIOUS_KEYS (comma-separated); a bad previous key is named by position", () =>
    Effect.gen(function*() {
      const directory = tempDir()
      const oldKey = newKey()
      yield* Effect.flatMap(
        make({ directory, encryptionKey: redacted(oldKey) }),
        (c) => c.setAccount(accountKey(1), account(1))
      )
      const config = (previous: string) =>
        ConfigProvider.fromMap(
          new Map([
            ["EFFECT_ENTRA_CACHE_DIR", directory],
            ["EFFECT_ENTRA_CACHE_KEY", newKey().toString("base64")],
            ["EFFECT_ENTRA_CACHE_PREVIOUS_KEYS", previous]
          ])
        )
      const listed = yield* Effect.flatMap(FileTokenCache.FileTokenCache, (c) => c.listAccounts).pipe(
        Effect.provide(FileTokenCache.layerConfig()),
        Effect.provide(NodeContext.layer),
        Effect.withConfigProvider(config(`${newKey().toString("hex")},${oldKey.toString("base64")}`))
      )
      assert.lengthOf(listed, 1)
      const error = yield* Effect.flip(
        Effect.flatMap(FileTokenCache.FileTokenCache, (c) => c.listAccounts).pipe(
          Effect.provide(FileTokenCache.layerConfig()),
          Effect.provide(NodeContext.layer),
          Effect.withConfigProvider(config(`${oldKey.toString("base64")},sekrit`))
        )
      )
      assert.include(error.message, "previous key 2")
      assert.notInclude(error.message, "sekrit")
    }))
})

describe("FileTokenCache: shared folders", () => {
  it.effect("a symlinked cache folder is refused: its target is neither chmod'ed nor written", () =>
    Effect.gen(function*() {
      const root = tempDir()
      const target = path.join(root, "target")
      fs.mkdirSync(target, { mode: 0o755 })
      fs.chmodSync(target, 0o755)
      const link = path.join(root, "link")
      fs.symlinkSync(target, link)
      const cache = yield* make({ directory: link })
      const error = yield* Effect.flip(cache.ensureWritable)
      assert.strictEqual(error.reason, "Unsafe")
      assert.include(error.message, "symbolic link")
      assert.strictEqual((yield* Effect.flip(cache.ensureSafe)).reason, "Unsafe")
      yield* cache.setAccount(accountKey(1), account(1))
      assert.strictEqual(fs.statSync(target).mode & 0o777, 0o755)
      assert.deepStrictEqual(fs.readdirSync(target), [])
    }))

  it.effect("a symlinked cache file is neither read nor written through", () =>
    Effect.gen(function*() {
      const directory = tempDir()
      const victim = path.join(tempDir(), "victim")
      fs.writeFileSync(
        victim,
        JSON.stringify({ version: 1, accounts: { [accountKey(1)]: stored(1) }, accessTokens: {}, redemptions: {} })
      )
      fs.symlinkSync(victim, path.join(directory, "token-cache.json"))
      const before = fs.readFileSync(victim, "utf8")
      const [accounts, logs] = yield* withLogs(Effect.flatMap(make({ directory }), (c) => c.listAccounts))
      assert.lengthOf(accounts, 0)
      assert.match(logs.join("\n"), /symbolic link/)
      const cache = yield* make({ directory })
      assert.strictEqual((yield* Effect.flip(cache.ensureWritable)).reason, "Unsafe")
      yield* cache.setAccount(accountKey(2), account(2))
      assert.strictEqual(fs.readFileSync(victim, "utf8"), before)
      assert.isTrue(fs.lstatSync(path.join(directory, "token-cache.json")).isSymbolicLink())
    }))

  it.effect("a folder owned by another user is refused and never chmod'ed (as root: chown'ed to uid 65534)", () =>
    Effect.gen(function*() {
      if (!isRoot) return // Only root can give a folder away; other users' runs are bound by the modes anyway.
      const directory = path.join(tempDir(), "theirs")
      fs.mkdirSync(directory, { mode: 0o777 })
      fs.chmodSync(directory, 0o777)
      fs.chownSync(directory, 65534, 65534)
      const cache = yield* make({ directory })
      const error = yield* Effect.flip(cache.ensureWritable)
      assert.strictEqual(error.reason, "Unsafe")
      assert.include(error.message, "owned by uid 65534")
      yield* cache.setAccount(accountKey(1), account(1))
      assert.strictEqual(fs.statSync(directory).mode & 0o777, 0o777)
      assert.deepStrictEqual(fs.readdirSync(directory), [])
    }))

  it.effect("reading a cache file of ours with a loose mode warns and tightens it to 0600", () =>
    Effect.gen(function*() {
      const directory = tempDir()
      const file = path.join(directory, "token-cache.json")
      fs.writeFileSync(
        file,
        JSON.stringify({ version: 1, accounts: { [accountKey(1)]: stored(1) }, accessTokens: {}, redemptions: {} })
      )
      fs.chmodSync(file, 0o644)
      const [accounts, logs] = yield* withLogs(Effect.flatMap(make({ directory }), (c) => c.listAccounts))
      assert.lengthOf(accounts, 1)
      assert.match(logs.join("\n"), /had mode 0644, open to other users; changed to 0600/)
      assert.strictEqual(fs.statSync(file).mode & 0o777, 0o600)
    }))

  it.live("a lock stamped in the future is judged stale like an old one", () =>
    Effect.gen(function*() {
      const directory = tempDir()
      const lock = path.join(directory, "token-cache.json.lock")
      const future = Date.now() + 3_600_000
      fs.writeFileSync(lock, `${os.hostname().replace(/\s+/g, "_")} ${process.pid} abcdef012345 ${future}`)
      fs.utimesSync(lock, new Date(future), new Date(future))
      const cache = yield* make({ directory, lockTimeout: "2 seconds" })
      yield* cache.ensureWritable
      assert.isFalse(fs.existsSync(lock))
    }))

  it.effect("a full disk leaves no lock, lease or temporary file behind", () =>
    Effect.gen(function*() {
      const directory = tempDir()
      const cache = yield* FileTokenCache.make({ directory }).pipe(
        Effect.provide(fullDisk),
        Effect.provide(NodeContext.layer)
      )
      const error = yield* Effect.flip(cache.ensureWritable)
      assert.strictEqual(error.reason, "WriteFailed")
      assert.include(error.message, "ENOSPC")
      yield* cache.setAccount(accountKey(1), account(1))
      assert.include(Option.getOrThrow(yield* cache.lastWriteError).message, "ENOSPC")
      assert.isTrue(Option.isSome(yield* cache.getAccount(accountKey(1))), "kept in memory")
      const ran = yield* cache.withLease("k", Duration.seconds(5), Effect.succeed("ran"))
      assert.deepStrictEqual(ran, Option.some("ran"), "without a lease file, the work runs in-process")
      assert.deepStrictEqual(fs.readdirSync(directory), [])
    }))
})
