/**
 * A {@link TokenCache.Service} persisted in one JSON file, so a signed-in account survives the process and several
 * processes (a CLI and the programs it starts) share it.
 *
 * - The folder is created with mode `0700`; an existing one loses its group and other bits, but a folder its owner
 *   cannot write (e.g. `0555`) is never made writable: writing fails with a {@link FileTokenCacheError}. The file
 *   has mode `0600` and is replaced atomically (a temporary file in the same folder, then `rename`).
 * - Writers serialise on an exclusive lock file (`open(..., "wx")`, holding hostname, pid, a nonce and time) and
 *   re-read, merge and write under it, so an account's `version` never goes backwards and no process loses another's
 *   update. A lock older than `staleLockAfter` (10 s) or held by a dead process on this host is taken over; another
 *   host's lock (a shared volume) is judged by its age alone.
 * - `withLease` holds a lease file of the same form, whose mtime is renewed every third of the ttl while its work
 *   runs, so a long redemption keeps it; it is taken over only when its holder stopped renewing it for a ttl.
 * - A corrupt or foreign file is logged as a warning (never with its contents) and read as empty.
 * - Plaintext by default, for development, as MSAL's persistence is on Linux without a keyring. With
 *   `encryptionKey` (32 random bytes, base64) the file holds `{v, alg, iv, tag, data}`, AES-256-GCM.
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
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto"
import * as os from "node:os"
import * as TokenCache from "./TokenCache.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The folder holding `token-cache.json`; created (mode 0700) when missing. */
  readonly directory: string
  /** 32 random bytes, base64 (`openssl rand -base64 32`). Without it the file is plaintext JSON (mode 0600). */
  readonly encryptionKey?: Redacted.Redacted<string> | undefined
  /** The file name inside `directory`. Default `token-cache.json`. */
  readonly fileName?: string | undefined
  /** A lock older than this is taken over. Default 10 seconds. */
  readonly staleLockAfter?: Duration.DurationInput | undefined
  /** How long a writer waits for the lock before giving up. Default 15 seconds. */
  readonly lockTimeout?: Duration.DurationInput | undefined
}

/**
 * The cache could not be set up or written. The message names the path and the operating-system reason, never
 * the file's contents.
 *
 * @since 0.1.0
 * @category errors
 */
export class FileTokenCacheError extends Data.TaggedError("FileTokenCacheError")<{
  readonly reason: "InvalidKey" | "WriteFailed" | "LockTimeout"
  readonly path: string
  readonly detail: string
  readonly cause?: unknown
}> {
  override get message(): string {
    switch (this.reason) {
      case "InvalidKey":
        return `token cache key: ${this.detail}`
      case "LockTimeout":
        return `token cache ${this.path}: ${this.detail}`
      case "WriteFailed":
        return `cannot write the token cache at ${this.path}: ${this.detail}`
    }
  }
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
  /** Creates the folder (0700) and takes and releases the lock once: fails when the cache cannot be written. */
  readonly ensureWritable: Effect.Effect<void, FileTokenCacheError>
  /** The last write that reached memory only, if any. */
  readonly lastWriteError: Effect.Effect<Option.Option<FileTokenCacheError>>
}

/**
 * The file cache, for callers that need {@link Service.ensureWritable} or the file path. The same instance is
 * provided as `TokenCache` by {@link layer}.
 *
 * @since 0.1.0
 * @category tags
 */
export class FileTokenCache extends Context.Tag("@effect-entra/identity/FileTokenCache")<FileTokenCache, Service>() {}

const Redemption = Schema.Struct({ homeAccountId: Schema.String, expiresOn: Schema.Number })

const Contents = Schema.Struct({
  version: Schema.Literal(1),
  accounts: Schema.Record({ key: Schema.String, value: TokenCache.AccountEntry }),
  accessTokens: Schema.Record({ key: Schema.String, value: TokenCache.AccessTokenEntry }),
  redemptions: Schema.Record({ key: Schema.String, value: Redemption })
})
const ContentsJson = Schema.parseJson(Contents)

const Envelope = Schema.Struct({
  v: Schema.Literal(1),
  alg: Schema.Literal("A256GCM"),
  iv: Schema.String,
  tag: Schema.String,
  data: Schema.String
})
const EnvelopeJson = Schema.parseJson(Envelope)

const decodeContents = Schema.decodeUnknownEither(ContentsJson)
const encodeContents = Schema.encodeSync(ContentsJson)
const decodeEnvelope = Schema.decodeUnknownEither(EnvelopeJson)

/** Additional authenticated data: binds the ciphertext to this format. */
const aad = Buffer.from("effect-entra/token-cache/v1")

interface State {
  readonly accounts: Map<string, TokenCache.AccountEntry>
  readonly accessTokens: Map<string, TokenCache.AccessTokenEntry>
  readonly redemptions: Map<string, { readonly homeAccountId: string; readonly expiresOn: number }>
}

const emptyState = (): State => ({ accounts: new Map(), accessTokens: new Map(), redemptions: new Map() })

type Decoded =
  | { readonly _tag: "Ok"; readonly state: State }
  | { readonly _tag: "Unreadable"; readonly why: string }

const decodeKey = (key: Redacted.Redacted<string>): Either.Either<Buffer, FileTokenCacheError> => {
  const bytes = Buffer.from(Redacted.value(key).trim(), "base64")
  return bytes.length === 32
    ? Either.right(bytes)
    : Either.left(
      new FileTokenCacheError({
        reason: "InvalidKey",
        path: "",
        detail: `expected 32 bytes in base64 (got ${bytes.length}); create one with \`openssl rand -base64 32\``
      })
    )
}

const encrypt = (key: Buffer, plaintext: string): string => {
  const iv = randomBytes(12)
  const cipher = createCipheriv("aes-256-gcm", key, iv)
  cipher.setAAD(aad)
  const data = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()])
  return JSON.stringify({
    v: 1,
    alg: "A256GCM",
    iv: iv.toString("base64"),
    tag: cipher.getAuthTag().toString("base64"),
    data: data.toString("base64")
  })
}

const decrypt = (key: Buffer, text: string): Either.Either<string, string> => {
  const envelope = decodeEnvelope(text)
  if (Either.isLeft(envelope)) return Either.left("it is not an encrypted cache file")
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(envelope.right.iv, "base64"))
    decipher.setAAD(aad)
    decipher.setAuthTag(Buffer.from(envelope.right.tag, "base64"))
    const plain = Buffer.concat([decipher.update(Buffer.from(envelope.right.data, "base64")), decipher.final()])
    return Either.right(plain.toString("utf8"))
  } catch {
    return Either.left("it could not be decrypted (another key, or the file was modified)")
  }
}

const toState = (contents: typeof Contents.Type): State => ({
  accounts: new Map(Object.entries(contents.accounts)),
  accessTokens: new Map(Object.entries(contents.accessTokens)),
  redemptions: new Map(Object.entries(contents.redemptions))
})

const fromState = (state: State): typeof Contents.Type => ({
  version: 1,
  accounts: Object.fromEntries(state.accounts),
  accessTokens: Object.fromEntries(state.accessTokens),
  redemptions: Object.fromEntries(state.redemptions)
})

/** Waits on the real clock: locks are shared with other processes, so a `TestClock` must not stall them. */
const realSleep = (ms: number): Effect.Effect<void> =>
  Effect.async<void>((resume) => {
    const timer = setTimeout(() => resume(Effect.void), ms)
    return Effect.sync(() => clearTimeout(timer))
  })

const isAlive = (pid: number): boolean => {
  if (!Number.isInteger(pid) || pid <= 0) return false
  if (pid === process.pid) return true
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"
  }
}

interface SystemErrorLike {
  readonly _tag: "SystemError"
  readonly reason: string
  readonly cause?: unknown
}

const asSystemError = (error: unknown): SystemErrorLike | undefined =>
  typeof error === "object" && error !== null && (error as { readonly _tag?: unknown })._tag === "SystemError"
    ? error as SystemErrorLike
    : undefined

const reasonOf = (error: unknown): string => {
  const system = asSystemError(error)
  if (system !== undefined) {
    const code = (system.cause as NodeJS.ErrnoException | undefined)?.code
    return code !== undefined ? `${system.reason} (${code})` : system.reason
  }
  if (error instanceof Error) return error.message
  return String(error)
}

const isAlreadyExists = (error: unknown): boolean => asSystemError(error)?.reason === "AlreadyExists"

const isNotFound = (error: unknown): boolean => asSystemError(error)?.reason === "NotFound"

/**
 * Builds the file cache. Nothing is read or created until first use; an invalid `encryptionKey` fails here.
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
    const key = options.encryptionKey === undefined ? undefined : yield* decodeKey(options.encryptionKey)
    const directory = path.resolve(options.directory)
    const filePath = path.join(directory, options.fileName ?? "token-cache.json")
    const lockPath = `${filePath}.lock`
    const staleAfterMs = Duration.toMillis(options.staleLockAfter ?? Duration.seconds(10))
    const lockTimeoutMs = Duration.toMillis(options.lockTimeout ?? Duration.seconds(15))
    const mutex = yield* Effect.makeSemaphore(1)

    let state = emptyState()
    let signature: string | undefined = undefined
    let directoryReady = false
    let lastWriteError: FileTokenCacheError | undefined = undefined

    const writeFailed = (detail: string, cause?: unknown) =>
      new FileTokenCacheError({ reason: "WriteFailed", path: filePath, detail, cause })

    const signatureOf = (info: FileSystem.File.Info) =>
      `${Option.getOrElse(info.ino, () => 0)}:${info.size}:${
        Option.match(info.mtime, { onNone: () => 0, onSome: (d) => d.getTime() })
      }`

    // Reads the file; `force` skips the unchanged-signature shortcut (used under the lock).
    const load = (force: boolean) =>
      Effect.gen(function*() {
        const info = yield* Effect.either(fs.stat(filePath))
        if (Either.isLeft(info)) {
          if (isNotFound(info.left)) {
            if (signature !== undefined) state = emptyState()
            signature = undefined
          } else {
            yield* Effect.logWarning(`token cache ${filePath} is not readable: ${reasonOf(info.left)}`)
          }
          return
        }
        const next = signatureOf(info.right)
        if (!force && next === signature) return
        const text = yield* Effect.either(fs.readFileString(filePath))
        if (Either.isLeft(text)) {
          if (isNotFound(text.left)) {
            state = emptyState()
            signature = undefined
          } else {
            yield* Effect.logWarning(`token cache ${filePath} is not readable: ${reasonOf(text.left)}`)
          }
          return
        }
        const decoded = decodeText(text.right)
        signature = next
        if (decoded._tag === "Ok") {
          state = decoded.state
        } else {
          state = emptyState()
          yield* Effect.logWarning(`token cache ${filePath} ignored, ${decoded.why}; starting from an empty cache`)
        }
      })

    const decodeText = (text: string): Decoded => {
      let plain = text
      if (key !== undefined) {
        const result = decrypt(key, text)
        if (Either.isLeft(result)) return { _tag: "Unreadable", why: result.left }
        plain = result.right
      } else if (Either.isRight(decodeEnvelope(text))) {
        return { _tag: "Unreadable", why: "it is encrypted and no key is set (EFFECT_ENTRA_CACHE_KEY)" }
      }
      const contents = decodeContents(plain)
      // The parse error is dropped on purpose: it would quote the file's values.
      return Either.isRight(contents)
        ? { _tag: "Ok", state: toState(contents.right) }
        : { _tag: "Unreadable", why: "it is not a token cache file (corrupt or another format)" }
    }

    const ensureDirectory = Effect.gen(function*() {
      if (directoryReady) return
      yield* fs.makeDirectory(directory, { recursive: true, mode: 0o700 })
      const info = yield* fs.stat(directory)
      if (info.type !== "Directory") return yield* writeFailed("it is not a directory")
      const mode = info.mode & 0o777
      // A folder its owner made read-only is a choice to respect: never add permissions, only take them away.
      if ((mode & 0o300) !== 0o300) {
        const octal = mode.toString(8).padStart(4, "0")
        return yield* writeFailed(
          (mode & 0o200) === 0
            ? `its folder is read-only (mode ${octal})`
            : `its folder cannot be entered by its owner (mode ${octal})`
        )
      }
      if ((mode & 0o077) !== 0) yield* fs.chmod(directory, mode & 0o700)
      directoryReady = true
    }).pipe(
      Effect.mapError((error) => error instanceof FileTokenCacheError ? error : writeFailed(reasonOf(error), error))
    )

    const hostName = os.hostname().replace(/\s+/g, "_") || "unknown-host"

    // "<hostname> <pid> <nonce> <epoch ms>": the host says whether the pid can be checked here (on a shared volume
    // another host's pid means nothing locally), the nonce tells two bodies written in the same millisecond apart.
    // Wall-clock time on purpose, here and in the age checks: other processes and file mtimes share no Effect clock.
    const lockBody = () => `${hostName} ${process.pid} ${randomBytes(6).toString("hex")} ${Date.now()}`

    const mtimeOf = (info: FileSystem.File.Info) =>
      Option.getOrElse(Option.map(info.mtime, (date) => date.getTime()), () => 0)

    /**
     * Whether the lock or lease file at `target` may be taken over, with the body and mtime that were judged (so a
     * take-over can tell whether what it moved aside is still that file). A file that is gone is not stale.
     */
    const judge = (target: string, maxAgeMs: number) =>
      Effect.gen(function*() {
        const body = yield* Effect.orElseSucceed(fs.readFileString(target), () => "")
        const info = yield* Effect.either(fs.stat(target))
        if (Either.isLeft(info)) return { stale: false, body, mtime: 0 }
        const mtime = mtimeOf(info.right)
        const fields = body.split(" ")
        const time = Number(fields[fields.length - 1])
        if (fields.length === 4 && Number.isFinite(time)) {
          // A lease holder renews the file's mtime while it works: the newest of the two is its last sign of life.
          if (fields[0] === hostName && !isAlive(Number(fields[1]))) return { stale: true, body, mtime }
          return { stale: Date.now() - Math.max(time, mtime) > maxAgeMs, body, mtime }
        }
        // The old "<pid> <epoch ms>" body names no host, so its pid cannot be trusted: its time alone decides. (A
        // partly written new body, "<hostname> <pid>", ends in a pid, far below any epoch ms since 2001.)
        if (fields.length === 2 && time > 1e12) return { stale: Date.now() - time > maxAgeMs, body, mtime }
        // An empty or partial body may belong to a holder that has just created the file and not yet written it
        // (`wx` creates, then writes): only the file's age can tell, else two processes would both take it.
        return { stale: Date.now() - mtime > maxAgeMs, body, mtime }
      })

    /**
     * Removes a lock judged stale. Renaming it aside first means that of two processes taking over the same stale
     * lock only one removes it; the other's rename may catch the fresh lock the first has created since, so what
     * was moved aside is checked and, when it is not the judged file, put back (`link` fails if yet another lock
     * exists by then). True when the stale lock was removed.
     */
    const takeOver = (target: string, judged: { readonly body: string; readonly mtime: number }) =>
      Effect.gen(function*() {
        const aside = `${target}.${process.pid}.${randomBytes(4).toString("hex")}.stale`
        if (Either.isLeft(yield* Effect.either(fs.rename(target, aside)))) return false
        const body = yield* Effect.orElseSucceed(fs.readFileString(aside), () => "")
        const info = yield* Effect.either(fs.stat(aside))
        const unchanged = body === judged.body && Either.isRight(info) && mtimeOf(info.right) <= judged.mtime
        if (!unchanged) {
          const restored = yield* Effect.either(fs.link(aside, target))
          // Without hard links (some network file systems), recreate it, still never over a newer lock.
          if (Either.isLeft(restored) && !isAlreadyExists(restored.left)) {
            yield* Effect.ignore(fs.writeFileString(target, body, { flag: "wx", mode: 0o600 }))
          }
        }
        yield* Effect.ignore(fs.remove(aside))
        return unchanged
      })

    const tryTakeStaleLock = Effect.gen(function*() {
      const judged = yield* judge(lockPath, staleAfterMs)
      if (judged.stale) yield* takeOver(lockPath, judged)
    })

    const acquireLock = Effect.gen(function*() {
      const started = Date.now()
      while (true) {
        const body = lockBody()
        const created = yield* Effect.either(fs.writeFileString(lockPath, body, { flag: "wx", mode: 0o600 }))
        if (Either.isRight(created)) return body
        if (!isAlreadyExists(created.left)) return yield* writeFailed(reasonOf(created.left), created.left)
        if (Date.now() - started > lockTimeoutMs) {
          return yield* new FileTokenCacheError({
            reason: "LockTimeout",
            path: filePath,
            detail: `another process has held ${lockPath} for too long`
          })
        }
        yield* tryTakeStaleLock
        yield* realSleep(5 + Math.floor(Math.random() * 20))
      }
    })

    const releaseLock = (body: string) =>
      Effect.gen(function*() {
        const current = yield* Effect.orElseSucceed(fs.readFileString(lockPath), () => "")
        if (current === body) yield* Effect.ignore(fs.remove(lockPath))
      })

    const withFileLock = <A, E>(effect: Effect.Effect<A, E>) =>
      mutex.withPermits(1)(
        Effect.acquireUseRelease(
          Effect.zipRight(ensureDirectory, acquireLock),
          () => effect,
          releaseLock
        )
      )

    const writeState = (next: State) =>
      Effect.gen(function*() {
        const json = encodeContents(fromState(next))
        const text = key === undefined ? json : encrypt(key, json)
        const temp = `${filePath}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`
        yield* fs.writeFileString(temp, text, { flag: "wx", mode: 0o600 }).pipe(
          Effect.zipRight(fs.rename(temp, filePath)),
          Effect.tapError(() => Effect.ignore(fs.remove(temp))),
          Effect.mapError((error) => writeFailed(reasonOf(error), error))
        )
        const info = yield* Effect.either(fs.stat(filePath))
        signature = Either.isRight(info) ? signatureOf(info.right) : undefined
        state = next
      })

    const sweep = (target: State, now: number) => {
      for (const [k, entry] of target.accessTokens) if (entry.expiresOn <= now) target.accessTokens.delete(k)
      for (const [k, entry] of target.redemptions) if (entry.expiresOn <= now) target.redemptions.delete(k)
    }

    /**
     * Applies `change` to the file under the lock (re-read first, so other processes' writes are merged), or,
     * when the disk cannot be written, to the in-memory copy only.
     */
    const mutate = <A>(name: string, change: (target: State) => A): Effect.Effect<A> =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const onDisk = withFileLock(
          Effect.gen(function*() {
            yield* load(true)
            const next: State = {
              accounts: new Map(state.accounts),
              accessTokens: new Map(state.accessTokens),
              redemptions: new Map(state.redemptions)
            }
            const result = change(next)
            sweep(next, now)
            yield* writeState(next)
            return result
          })
        )
        return yield* onDisk.pipe(
          Effect.tap(() =>
            Effect.sync(() => {
              lastWriteError = undefined
            })
          ),
          Effect.catchAll((error) =>
            Effect.gen(function*() {
              lastWriteError = error
              yield* Effect.logWarning(`${error.message}; the change is kept in memory only`)
              return change(state)
            })
          ),
          Effect.withSpan(`FileTokenCache.${name}`, { attributes: { path: filePath } })
        )
      })

    const refresh = mutex.withPermits(1)(load(false))

    const leasePath = (leaseKey: string) =>
      path.join(directory, `lease-${createHash("sha256").update(leaseKey).digest("hex").slice(0, 32)}.lock`)

    /** Keeps a held lease alive: its mtime is renewed every third of the ttl until the work ends or it is lost. */
    const keepLease = (target: string, body: string, ttlMs: number) =>
      Effect.gen(function*() {
        while (true) {
          yield* realSleep(Math.max(1, Math.floor(ttlMs / 3)))
          const current = yield* Effect.orElseSucceed(fs.readFileString(target), () => "")
          if (current !== body) {
            return yield* Effect.logWarning(`token cache lease ${target} was lost while its work was still running`)
          }
          const now = new Date()
          yield* Effect.ignore(fs.utimes(target, now, now))
        }
      })

    const withLease = <A, E>(
      leaseKey: string,
      ttl: Duration.Duration,
      effect: Effect.Effect<A, E>
    ): Effect.Effect<Option.Option<A>, E> =>
      Effect.gen(function*() {
        const target = leasePath(leaseKey)
        const ttlMs = Duration.toMillis(ttl)
        const tryAcquire = Effect.gen(function*() {
          const body = lockBody()
          const created = yield* Effect.either(
            Effect.zipRight(ensureDirectory, fs.writeFileString(target, body, { flag: "wx", mode: 0o600 }))
          )
          if (Either.isRight(created)) return { _tag: "Held", body } as const
          if (!isAlreadyExists(created.left)) return { _tag: "Unavailable" } as const
          const judged = yield* judge(target, ttlMs)
          if (judged.stale && (yield* takeOver(target, judged))) return { _tag: "Retry" } as const
          return { _tag: "Busy" } as const
        })
        let attempt = yield* tryAcquire
        if (attempt._tag === "Retry") attempt = yield* tryAcquire
        // The folder cannot be written: no other process can share this cache either, run in-process.
        if (attempt._tag === "Unavailable") return Option.some(yield* effect)
        if (attempt._tag === "Held") {
          const body = attempt.body
          return yield* Effect.scoped(
            Effect.zipRight(Effect.forkScoped(keepLease(target, body, ttlMs)), Effect.asSome(effect))
          ).pipe(
            Effect.ensuring(
              Effect.gen(function*() {
                const current = yield* Effect.orElseSucceed(fs.readFileString(target), () => "")
                if (current === body) yield* Effect.ignore(fs.remove(target))
              })
            )
          )
        }
        // Someone else holds it: wait while it is held and renewed (until it is released, or its holder stops
        // renewing it for a ttl), then the caller reads the cache again.
        while (yield* Effect.orElseSucceed(fs.exists(target), () => false)) {
          if ((yield* judge(target, ttlMs)).stale) break
          yield* realSleep(25)
        }
        return Option.none()
      })

    const service: Service = {
      filePath,
      ensureWritable: withFileLock(Effect.void),
      lastWriteError: Effect.sync(() => Option.fromNullable(lastWriteError)),
      peekAccessToken: (k) => state.accessTokens.get(k),
      getAccessToken: (k) =>
        Effect.as(refresh, undefined).pipe(Effect.map(() => Option.fromNullable(state.accessTokens.get(k)))),
      setAccessToken: (k, entry) =>
        mutate("setAccessToken", (target) => {
          target.accessTokens.set(k, entry)
        }),
      getAccount: (k) => Effect.map(refresh, () => Option.fromNullable(state.accounts.get(k))),
      setAccount: (k, entry) =>
        mutate("setAccount", (target) => {
          const current = target.accounts.get(k)
          if (current !== undefined && current.version >= entry.version) return false
          target.accounts.set(k, entry)
          return true
        }),
      removeAccount: (k) =>
        mutate("removeAccount", (target) => {
          target.accounts.delete(k)
          const prefix = `${k}|`
          for (const tokenKey of Array.from(target.accessTokens.keys())) {
            if (tokenKey.startsWith(prefix)) target.accessTokens.delete(tokenKey)
          }
        }),
      listAccounts: Effect.map(refresh, () => Array.from(state.accounts.values())),
      listAccessTokens: (k) =>
        Effect.map(refresh, () => {
          const prefix = `${k}|`
          const result: Array<TokenCache.AccessTokenEntry> = []
          for (const [tokenKey, entry] of state.accessTokens) if (tokenKey.startsWith(prefix)) result.push(entry)
          return result
        }),
      getRedemption: (codeKey) =>
        Effect.gen(function*() {
          yield* refresh
          const now = yield* Clock.currentTimeMillis
          const entry = state.redemptions.get(codeKey)
          return entry !== undefined && entry.expiresOn > now ? Option.some(entry.homeAccountId) : Option.none()
        }),
      setRedemption: (codeKey, homeAccountId, ttl) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          mutate("setRedemption", (target) => {
            target.redemptions.set(codeKey, { homeAccountId, expiresOn: now + Duration.toMillis(ttl) })
          })),
      withLease
    }
    return service
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
 * {@link layer} from configuration: `EFFECT_ENTRA_CACHE_DIR` (required) and `EFFECT_ENTRA_CACHE_KEY`
 * (optional, redacted), unless other configs are given.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options: Config.Config.Wrap<Options> = {
    directory: Config.string("EFFECT_ENTRA_CACHE_DIR"),
    encryptionKey: Config.option(Config.redacted("EFFECT_ENTRA_CACHE_KEY")).pipe(
      Config.map(Option.getOrUndefined)
    )
  }
): Layer.Layer<
  TokenCache.TokenCache | FileTokenCache,
  FileTokenCacheError | ConfigError.ConfigError,
  FileSystem.FileSystem | Path.Path
> => Layer.unwrapEffect(Effect.map(Config.unwrap(options), layer))
