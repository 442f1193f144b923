import { FileSystem } from "@effect/platform"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Layer, Logger, Option, Redacted } from "effect"
import { execFile } from "node:child_process"
import { randomBytes } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import * as FileTokenCache from "../src/FileTokenCache.js"
import type * as TokenCache from "../src/TokenCache.js"
import { giveToUnprivileged, prepareUnprivileged } from "./fixtures/Unprivileged.js"

const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), "ftc-"))
const accountKey = "account|https://login.example|client|uid.utid"
const tokenKey = `${accountKey}|utid|std|api://x/y`

const account = (version: number, refreshToken = "refresh-secret-1"): TokenCache.AccountEntry => ({
  homeAccountId: "uid.utid",
  authority: "https://login.example",
  clientId: "client",
  tenantId: "utid",
  username: "alice@contoso.example",
  refreshToken: Redacted.make(refreshToken),
  version,
  updatedOn: 1
})

const token = (value = "access-secret-1", expiresOn = Date.now() + 3_600_000): TokenCache.AccessTokenEntry => ({
  token: Redacted.make(value),
  tokenType: "Bearer",
  issuedOn: Date.now(),
  expiresOn,
  scopes: ["api://x/y"],
  tenantId: "utid",
  homeAccountId: "uid.utid",
  cae: false
})

/** Runs `effect` with the Node platform and collects every log message. */
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

const key = () => Redacted.make(randomBytes(32).toString("base64"))

/** This host's name as a lock body writes it. */
const hostName = os.hostname().replace(/\s+/g, "_")

/** A lock or lease body in the "<hostname> <pid> <nonce> <epoch ms>" form. */
const lockBody = (host: string, pid: number, time = Date.now()) =>
  `${host} ${pid} ${randomBytes(6).toString("hex")} ${time}`

/**
 * The Node file system, except that the first `rename` of a lock or lease file first replaces it with `fresh`: as if
 * another process had taken over the same stale lock and created its own between our judgement and our rename.
 */
const racingFileSystem = (fresh: string) =>
  Layer.effect(
    FileSystem.FileSystem,
    Effect.map(FileSystem.FileSystem, (real) => {
      let raced = false
      return FileSystem.FileSystem.of({
        ...real,
        rename: (from, to) =>
          Effect.suspend(() => {
            if (!raced && from.endsWith(".lock")) {
              raced = true
              fs.writeFileSync(from, fresh)
            }
            return real.rename(from, to)
          })
      })
    })
  )

/** Where `cache` keeps the lease on `key`, found by holding it once; `body` is then written there. */
const plantLease = (cache: FileTokenCache.Service, directory: string, body: string) =>
  Effect.map(
    cache.withLease(
      "k",
      Duration.seconds(5),
      Effect.sync(() => fs.readdirSync(directory).find((name) => name.startsWith("lease-"))!)
    ),
    (name) => {
      const leasePath = path.join(directory, Option.getOrThrow(name))
      fs.writeFileSync(leasePath, body)
      return leasePath
    }
  )

const makeRacing = (options: FileTokenCache.Options, fresh: string) =>
  FileTokenCache.make(options).pipe(Effect.provide(racingFileSystem(fresh)), Effect.provide(NodeContext.layer))

describe("FileTokenCache", () => {
  it.effect("round-trips accounts, tokens and redemptions through the file", () =>
    Effect.gen(function*() {
      const directory = path.join(tempDir(), "nested", "cache")
      const writer = yield* make({ directory })
      assert.isTrue(yield* writer.setAccount(accountKey, account(1)))
      yield* writer.setAccessToken(tokenKey, token())
      yield* writer.setRedemption("code-hash", "uid.utid", Duration.minutes(10))
      assert.strictEqual(Redacted.value(writer.peekAccessToken(tokenKey)!.token), "access-secret-1")

      const reader = yield* make({ directory })
      assert.strictEqual(reader.peekAccessToken(tokenKey), undefined, "nothing read before first use")
      const read = yield* reader.getAccount(accountKey)
      assert.strictEqual(Redacted.value(Option.getOrThrow(read).refreshToken!), "refresh-secret-1")
      assert.strictEqual(Redacted.value(reader.peekAccessToken(tokenKey)!.token), "access-secret-1")
      assert.deepStrictEqual(yield* reader.getRedemption("code-hash"), Option.some("uid.utid"))
      assert.lengthOf(yield* reader.listAccessTokens(accountKey), 1)
      assert.lengthOf(yield* reader.listAccounts, 1)

      // Versioned: an older or equal version never replaces the stored account.
      assert.isFalse(yield* reader.setAccount(accountKey, account(1, "older")))
      assert.isTrue(yield* reader.setAccount(accountKey, account(2, "newer")))
      assert.isFalse(yield* writer.setAccount(accountKey, account(2, "stale")), "writer re-reads under the lock")
      const again = yield* writer.getAccount(accountKey)
      assert.strictEqual(Redacted.value(Option.getOrThrow(again).refreshToken!), "newer")

      yield* writer.removeAccount(accountKey)
      assert.isTrue(Option.isNone(yield* reader.getAccount(accountKey)))
      assert.lengthOf(yield* reader.listAccessTokens(accountKey), 0)
      assert.strictEqual(reader.peekAccessToken(tokenKey), undefined)
    }))

  it.effect("creates the folder 0700 (fixing its mode), the file 0600, and leaves no temporary or lock files", () =>
    Effect.gen(function*() {
      const root = tempDir()
      const directory = path.join(root, "cache")
      fs.mkdirSync(directory, { mode: 0o755 })
      fs.chmodSync(directory, 0o755)
      const cache = yield* make({ directory })
      yield* Effect.all([
        cache.setAccessToken(tokenKey, token()),
        cache.setAccount(accountKey, account(1)),
        cache.setAccessToken(`${tokenKey}2`, token())
      ], { concurrency: "unbounded" })
      assert.strictEqual(fs.statSync(directory).mode & 0o777, 0o700)
      assert.strictEqual(fs.statSync(cache.filePath).mode & 0o777, 0o600)
      assert.deepStrictEqual(fs.readdirSync(directory), ["token-cache.json"])
      assert.strictEqual(cache.filePath, path.join(directory, "token-cache.json"))
    }))

  it.live("drops expired access tokens when writing", () =>
    Effect.gen(function*() {
      const directory = tempDir()
      const cache = yield* make({ directory })
      yield* cache.setAccessToken("old", token("old", 1))
      yield* cache.setAccessToken(tokenKey, token())
      const contents = JSON.parse(fs.readFileSync(cache.filePath, "utf8"))
      assert.deepStrictEqual(Object.keys(contents.accessTokens), [tokenKey])
    }))

  it.effect("a corrupt or foreign file is a warning without its contents, read as empty, then replaced", () =>
    Effect.gen(function*() {
      for (const text of ["{not json SECRET-IN-FILE", JSON.stringify({ version: 2, secret: "SECRET-IN-FILE" })]) {
        const directory = tempDir()
        // 0600 as the cache writes it: a looser mode adds its own warning (and is tightened).
        fs.writeFileSync(path.join(directory, "token-cache.json"), text, { mode: 0o600 })
        const [accounts, logs] = yield* withLogs(Effect.flatMap(make({ directory }), (cache) => cache.listAccounts))
        assert.lengthOf(accounts, 0)
        assert.lengthOf(logs, 1)
        assert.match(logs[0], /not a token cache file/)
        assert.notInclude(logs.join("\n"), "SECRET-IN-FILE")
        const cache = yield* make({ directory })
        yield* cache.setAccount(accountKey, account(1))
        assert.strictEqual(JSON.parse(fs.readFileSync(cache.filePath, "utf8")).version, 1)
      }
    }))

  it.effect("encrypts at rest with AES-256-GCM; tampering or another key reads as empty with a warning", () =>
    Effect.gen(function*() {
      const directory = tempDir()
      const encryptionKey = key()
      const cache = yield* make({ directory, encryptionKey })
      yield* cache.setAccount(accountKey, account(1))
      yield* cache.setAccessToken(tokenKey, token())
      const raw = fs.readFileSync(cache.filePath, "utf8")
      assert.notInclude(raw, "refresh-secret-1")
      assert.notInclude(raw, "alice")
      assert.deepStrictEqual(Object.keys(JSON.parse(raw)).sort(), ["alg", "data", "iv", "tag", "v"])

      const same = yield* make({ directory, encryptionKey })
      assert.isTrue(Option.isSome(yield* same.getAccount(accountKey)))

      const [other, otherLogs] = yield* withLogs(
        Effect.flatMap(make({ directory, encryptionKey: key() }), (c) => c.getAccount(accountKey))
      )
      assert.isTrue(Option.isNone(other))
      assert.match(otherLogs.join("\n"), /could not be decrypted/)

      const [plain, plainLogs] = yield* withLogs(Effect.flatMap(make({ directory }), (c) => c.listAccounts))
      assert.lengthOf(plain, 0)
      assert.match(plainLogs.join("\n"), /encrypted and no key is set/)

      const envelope = JSON.parse(raw)
      const data = Buffer.from(envelope.data, "base64")
      data[0] ^= 1
      fs.writeFileSync(cache.filePath, JSON.stringify({ ...envelope, data: data.toString("base64") }))
      const [tampered, tamperedLogs] = yield* withLogs(
        Effect.flatMap(make({ directory, encryptionKey }), (c) => c.getAccount(accountKey))
      )
      assert.isTrue(Option.isNone(tampered))
      assert.match(tamperedLogs.join("\n"), /could not be decrypted/)
    }))

  it.effect("rejects a key that is not 32 bytes, without echoing it", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(make({ directory: tempDir(), encryptionKey: Redacted.make("c2hvcnQ=") }))
      assert.strictEqual(error.reason, "InvalidKey")
      assert.notInclude(error.message, "c2hvcnQ=")
    }))

  it.effect("a folder that cannot be created: ensureWritable fails, writes stay in memory with a warning", () =>
    Effect.gen(function*() {
      const file = path.join(tempDir(), "a-file")
      fs.writeFileSync(file, "")
      const cache = yield* make({ directory: path.join(file, "sub") })
      const error = yield* Effect.flip(cache.ensureWritable)
      assert.strictEqual(error._tag, "FileTokenCacheError")
      assert.strictEqual(error.reason, "WriteFailed")
      assert.include(error.message, path.join(file, "sub"))
      const [, logs] = yield* withLogs(cache.setAccessToken(tokenKey, token()))
      assert.match(logs.join("\n"), /cannot write the token cache/)
      assert.strictEqual(Redacted.value(cache.peekAccessToken(tokenKey)!.token), "access-secret-1")
      assert.isTrue(Option.isSome(yield* cache.lastWriteError))
    }))

  it.effect("a read-only (0555) folder is never made writable: ensureWritable fails and the mode is unchanged", () =>
    Effect.gen(function*() {
      const directory = path.join(tempDir(), "cache")
      fs.mkdirSync(directory)
      fs.chmodSync(directory, 0o555)
      const cache = yield* make({ directory })
      const error = yield* Effect.flip(cache.ensureWritable)
      assert.strictEqual(error.reason, "WriteFailed")
      assert.strictEqual(
        error.message,
        `cannot write the token cache at ${
          path.join(directory, "token-cache.json")
        }: its folder is read-only (mode 0555)`
      )
      const [, logs] = yield* withLogs(cache.setAccount(accountKey, account(1)))
      assert.match(logs.join("\n"), /its folder is read-only/)
      assert.isTrue(Option.isSome(yield* cache.getAccount(accountKey)), "kept in memory")
      assert.strictEqual(fs.statSync(directory).mode & 0o777, 0o555)
      assert.deepStrictEqual(fs.readdirSync(directory), [])
    }))

  it.effect("tightening a folder's mode only removes group and other bits", () =>
    Effect.gen(function*() {
      const directory = path.join(tempDir(), "cache")
      fs.mkdirSync(directory)
      fs.chmodSync(directory, 0o775)
      const cache = yield* make({ directory })
      yield* cache.ensureWritable
      assert.strictEqual(fs.statSync(directory).mode & 0o777, 0o700)
    }))

  it.effect("takes over a stale lock left by a dead process", () =>
    Effect.gen(function*() {
      const directory = tempDir()
      fs.writeFileSync(path.join(directory, "token-cache.json.lock"), lockBody(hostName, 999999999))
      const cache = yield* make({ directory, lockTimeout: "2 seconds" })
      yield* cache.ensureWritable
      yield* cache.setAccount(accountKey, account(1))
      assert.isTrue(Option.isSome(yield* cache.lastWriteError) === false)
      fs.writeFileSync(path.join(directory, "token-cache.json.lock"), `${process.ppid} ${Date.now() - 60_000}`)
      yield* cache.ensureWritable
      assert.isFalse(fs.existsSync(path.join(directory, "token-cache.json.lock")))
    }))

  it.live(
    "another host's lock is judged by its age alone, as is an old-format one; this host's dead pid is not",
    () =>
      Effect.gen(function*() {
        const directory = tempDir()
        const lock = path.join(directory, "token-cache.json.lock")
        const cache = yield* make({ directory, lockTimeout: "300 millis" })
        for (const body of [lockBody(`not-${hostName}`, 999999999), `999999999 ${Date.now()}`]) {
          fs.writeFileSync(lock, body)
          const error = yield* Effect.flip(cache.ensureWritable)
          assert.strictEqual(error.reason, "LockTimeout", body)
          assert.strictEqual(fs.readFileSync(lock, "utf8"), body, "left to its holder")
        }
        fs.writeFileSync(lock, lockBody(hostName, 999999999))
        yield* cache.ensureWritable
        assert.isFalse(fs.existsSync(lock))

        // The same for leases: another host's fresh lease is waited for, never taken; this host's dead one is.
        const lease = (body: string) =>
          Effect.gen(function*() {
            const ran: Array<string> = []
            const leasePath = yield* plantLease(cache, directory, body)
            const result = yield* cache.withLease("k", Duration.millis(300), Effect.sync(() => ran.push("ran")))
            fs.rmSync(leasePath, { force: true })
            return { result, ran }
          })
        const remote = yield* lease(lockBody(`not-${hostName}`, 999999999))
        assert.isTrue(Option.isNone(remote.result))
        assert.deepStrictEqual(remote.ran, [])
        const local = yield* lease(lockBody(hostName, 999999999))
        assert.isTrue(Option.isSome(local.result))
        assert.deepStrictEqual(local.ran, ["ran"])
      }),
    { timeout: 10_000 }
  )

  it.live(
    "a lease holder whose work outlasts the ttl keeps its lease: nobody else runs the work meanwhile",
    () =>
      Effect.gen(function*() {
        const directory = tempDir()
        const a = yield* make({ directory })
        const b = yield* make({ directory })
        const order: Array<string> = []
        const ttl = Duration.millis(300)
        const first = a.withLease(
          "k",
          ttl,
          Effect.sleep("1 second").pipe(Effect.zipRight(Effect.sync(() => order.push("a"))))
        )
        const second = Effect.sleep("600 millis").pipe(
          Effect.zipRight(b.withLease("k", ttl, Effect.sync(() => order.push("b")))),
          Effect.tap(() => Effect.sync(() => order.push("b returned")))
        )
        const [ra, rb] = yield* Effect.all([first, second], { concurrency: 2 })
        assert.isTrue(Option.isSome(ra))
        assert.isTrue(Option.isNone(rb))
        assert.deepStrictEqual(order, ["a", "b returned"], "b waited for the live holder, then got None")
        assert.deepStrictEqual(fs.readdirSync(directory), [], "the lease is released")
      }),
    { timeout: 10_000 }
  )

  it.live(
    "a take-over that moved aside a fresh lock (another process's) puts it back and does not proceed",
    () =>
      Effect.gen(function*() {
        const directory = tempDir()
        const lock = path.join(directory, "token-cache.json.lock")
        const fresh = lockBody(`not-${hostName}`, 999999999)
        fs.writeFileSync(lock, lockBody(hostName, 999999999))
        const cache = yield* makeRacing({ directory, lockTimeout: "300 millis" }, fresh)
        const error = yield* Effect.flip(cache.ensureWritable)
        assert.strictEqual(error.reason, "LockTimeout")
        assert.strictEqual(fs.readFileSync(lock, "utf8"), fresh, "the fresh lock is back in place")
        assert.deepStrictEqual(fs.readdirSync(directory), ["token-cache.json.lock"], "nothing left aside")

        // The same for a lease: the stale one is judged, the fresh one is restored, the work does not run here.
        const leaseDirectory = tempDir()
        const probe = yield* make({ directory: leaseDirectory })
        const leasePath = yield* plantLease(probe, leaseDirectory, lockBody(hostName, 999999999, Date.now() - 60_000))
        const racing = yield* makeRacing({ directory: leaseDirectory }, fresh)
        const ran: Array<string> = []
        const result = yield* racing.withLease("k", Duration.millis(300), Effect.sync(() => ran.push("ran")))
        assert.isTrue(Option.isNone(result))
        assert.deepStrictEqual(ran, [])
        assert.strictEqual(fs.readFileSync(leasePath, "utf8"), fresh)
        assert.deepStrictEqual(fs.readdirSync(leaseDirectory), [path.basename(leasePath)])
      }),
    { timeout: 10_000 }
  )

  it.live("withLease: one holder at a time, the other gets None after the release", () =>
    Effect.gen(function*() {
      const directory = tempDir()
      const a = yield* make({ directory })
      const b = yield* make({ directory })
      const order: Array<string> = []
      const first = a.withLease(
        "k",
        Duration.seconds(5),
        Effect.sleep("150 millis").pipe(Effect.zipRight(Effect.sync(() => order.push("a"))))
      )
      const second = Effect.sleep("30 millis").pipe(
        Effect.zipRight(b.withLease("k", Duration.seconds(5), Effect.sync(() => order.push("b"))))
      )
      const [ra, rb] = yield* Effect.all([first, second], { concurrency: 2 })
      assert.isTrue(Option.isSome(ra))
      assert.isTrue(Option.isNone(rb))
      assert.deepStrictEqual(order, ["a"])
      assert.isTrue(Option.isSome(yield* b.withLease("k", Duration.seconds(5), Effect.void)))
    }), { timeout: 10_000 })
})

describe("FileTokenCache across processes", () => {
  const worker = fileURLToPath(new URL("./fixtures/file-cache-worker.mjs", import.meta.url))
  const dist = fileURLToPath(new URL("../dist/FileTokenCache.js", import.meta.url))
  const run = (directory: string, name: string, count: number, encryptionKey?: string) =>
    new Promise<void>((resolve, reject) => {
      execFile(process.execPath, [worker, directory, name, String(count), encryptionKey ?? ""], (error, _out, err) => {
        if (error) reject(new Error(`${name}: ${err}`))
        else resolve()
      })
    })

  it(
    "a process that owns a read-only (0555) folder gets a clear error, never a writable folder or a crash",
    async () => {
      assert.isTrue(fs.existsSync(dist), "build first: npx tsc -b packages/identity")
      const root = tempDir()
      fs.chmodSync(root, 0o755)
      const directory = path.join(root, "cache")
      fs.mkdirSync(directory)
      giveToUnprivileged(directory)
      fs.chmodSync(directory, 0o555)
      // A copy `nobody` can reach: the checkout may live in a private folder.
      const kit = await prepareUnprivileged(worker)
      const { dispose, execPath = process.execPath, script = worker, ...runAs } = kit
      const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        execFile(
          execPath,
          [script, directory, "ro", "1", ""],
          runAs,
          (error, _out, stderr) =>
            resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : null, stderr })
        )
      }).finally(dispose)
      assert.strictEqual(result.code, 1, result.stderr)
      assert.include(
        result.stderr,
        `write error: cannot write the token cache at ${path.join(directory, "token-cache.json")}: ` +
          "its folder is read-only (mode 0555)"
      )
      assert.notMatch(result.stderr, /worker failed|\n\s+at /)
      assert.strictEqual(fs.statSync(directory).mode & 0o777, 0o555, "the folder's mode is left alone")
      assert.deepStrictEqual(fs.readdirSync(directory), [])
    },
    30_000
  )

  for (const encrypted of [false, true]) {
    it(`two processes writing at once lose no update (${encrypted ? "encrypted" : "plaintext"})`, async () => {
      assert.isTrue(fs.existsSync(dist), "build first: npx tsc -b packages/identity")
      const directory = tempDir()
      const encryptionKey = encrypted ? randomBytes(32).toString("base64") : undefined
      const count = 40
      await Promise.all([run(directory, "one", count, encryptionKey), run(directory, "two", count, encryptionKey)])
      const cache = await Effect.runPromise(
        make({ directory, ...(encryptionKey ? { encryptionKey: Redacted.make(encryptionKey) } : {}) })
      )
      const tokens = await Effect.runPromise(cache.listAccessTokens("account|a|c|h"))
      assert.strictEqual(tokens.length, 2 * count)
      const stored = Option.getOrThrow(await Effect.runPromise(cache.getAccount("account|a|c|h")))
      assert.strictEqual(stored.version, count, "versions never go backwards")
      assert.deepStrictEqual(fs.readdirSync(directory), ["token-cache.json"])
    }, 30_000)
  }
})
