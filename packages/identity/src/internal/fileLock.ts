/**
 * Lock and lease files shared by processes (and by hosts on a shared volume): created exclusively, holding
 * "<hostname> <pid> <nonce> <epoch ms>", taken over when stale.
 *
 * Wall-clock time on purpose, here and in the age checks: other processes and file mtimes share no Effect clock.
 */
import type * as FileSystem from "@effect/platform/FileSystem"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import { randomBytes } from "node:crypto"
import * as os from "node:os"
import { FileTokenCacheError, isAlreadyExists, reasonOf } from "./fileCacheError.js"
import { createExclusive } from "./secureFiles.js"

const hostName = os.hostname().replace(/\s+/g, "_") || "unknown-host"

// The host says whether the pid can be checked here (on a shared volume another host's pid means nothing locally),
// the nonce tells two bodies written in the same millisecond apart.
const lockBody = () => `${hostName} ${process.pid} ${randomBytes(6).toString("hex")} ${Date.now()}`

/** Waits on the real clock: locks are shared with other processes, so a `TestClock` must not stall them. */
export const realSleep = (ms: number): Effect.Effect<void> =>
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

const mtimeOf = (info: FileSystem.File.Info) => Option.getOrElse(Option.map(info.mtime, (d) => d.getTime()), () => 0)

/**
 * A time is a sign of life when it is at most `maxAgeMs` old, and at most as far in the future (clock skew between
 * hosts): a stamp further ahead is as stale as an old one, else a lock stamped in the future would never expire.
 */
const isRecent = (time: number, now: number, maxAgeMs: number) => time >= now - maxAgeMs && time <= now + maxAgeMs

interface Judged {
  readonly stale: boolean
  readonly body: string
  readonly mtime: number
}

/**
 * Whether the lock or lease file at `target` may be taken over, with the body and mtime that were judged (so a
 * take-over can tell whether what it moved aside is still that file). A file that is gone is not stale.
 */
const judge = (fs: FileSystem.FileSystem, target: string, maxAgeMs: number) =>
  Effect.gen(function*() {
    const body = yield* Effect.orElseSucceed(fs.readFileString(target), () => "")
    const info = yield* Effect.either(fs.stat(target))
    if (Either.isLeft(info)) return { stale: false, body, mtime: 0 }
    const mtime = mtimeOf(info.right)
    const now = Date.now()
    const fields = body.split(" ")
    const time = Number(fields[fields.length - 1])
    if (fields.length === 4 && Number.isFinite(time)) {
      // A lease holder renews the file's mtime while it works: either time is a sign of life.
      if (fields[0] === hostName && !isAlive(Number(fields[1]))) return { stale: true, body, mtime }
      return { stale: !isRecent(time, now, maxAgeMs) && !isRecent(mtime, now, maxAgeMs), body, mtime }
    }
    // The old "<pid> <epoch ms>" body names no host, so its pid cannot be trusted: its time alone decides. (A
    // partly written new body, "<hostname> <pid>", ends in a pid, far below any epoch ms since 2001.)
    if (fields.length === 2 && time > 1e12) return { stale: !isRecent(time, now, maxAgeMs), body, mtime }
    // An empty or partial body may belong to a holder that has just created the file and not yet written it
    // (`wx` creates, then writes): only the file's age can tell, else two processes would both take it.
    return { stale: !isRecent(mtime, now, maxAgeMs), body, mtime }
  })

/**
 * Removes a lock judged stale. Renaming it aside first means that of two processes taking over the same stale
 * lock only one removes it; the other's rename may catch the fresh lock the first has created since, so what
 * was moved aside is checked and, when it is not the judged file, put back (`link` fails if yet another lock
 * exists by then). True when the stale lock was removed.
 */
const takeOver = (fs: FileSystem.FileSystem, target: string, judged: Judged) =>
  Effect.gen(function*() {
    const aside = `${target}.${randomBytes(8).toString("hex")}.stale`
    if (Either.isLeft(yield* Effect.either(fs.rename(target, aside)))) return false
    const body = yield* Effect.orElseSucceed(fs.readFileString(aside), () => "")
    const info = yield* Effect.either(fs.stat(aside))
    const unchanged = body === judged.body && Either.isRight(info) && mtimeOf(info.right) <= judged.mtime
    if (!unchanged) {
      const restored = yield* Effect.either(fs.link(aside, target))
      // Without hard links (some network file systems), recreate it, still never over a newer lock.
      if (Either.isLeft(restored) && !isAlreadyExists(restored.left)) {
        yield* Effect.ignore(createExclusive(fs, target, body))
      }
    }
    yield* Effect.ignore(fs.remove(aside))
    return unchanged
  })

const releaseIfOurs = (fs: FileSystem.FileSystem, target: string, body: string) =>
  Effect.gen(function*() {
    const current = yield* Effect.orElseSucceed(fs.readFileString(target), () => "")
    if (current === body) yield* Effect.ignore(fs.remove(target))
  })

/**
 * Runs `effect` holding the lock file `lockPath` (created exclusively; a stale one is taken over), waiting for it at
 * most `timeoutMs`. A write that fails (a full disk) leaves no lock behind.
 */
export const withLock = <A, E>(
  fs: FileSystem.FileSystem,
  options: {
    readonly lockPath: string
    readonly errorPath: string
    readonly staleMs: number
    readonly timeoutMs: number
  },
  effect: Effect.Effect<A, E>
): Effect.Effect<A, E | FileTokenCacheError> => {
  const acquire = Effect.gen(function*() {
    const started = Date.now()
    while (true) {
      const body = lockBody()
      const created = yield* Effect.either(createExclusive(fs, options.lockPath, body))
      if (Either.isRight(created)) return body
      if (!isAlreadyExists(created.left)) {
        return yield* new FileTokenCacheError({
          reason: "WriteFailed",
          path: options.errorPath,
          detail: reasonOf(created.left),
          cause: created.left
        })
      }
      if (Date.now() - started > options.timeoutMs) {
        return yield* new FileTokenCacheError({
          reason: "LockTimeout",
          path: options.errorPath,
          detail: `another process has held ${options.lockPath} for too long`
        })
      }
      const judged = yield* judge(fs, options.lockPath, options.staleMs)
      if (judged.stale) yield* takeOver(fs, options.lockPath, judged)
      yield* realSleep(5 + Math.floor(Math.random() * 20))
    }
  })
  return Effect.acquireUseRelease(acquire, () => effect, (body) => releaseIfOurs(fs, options.lockPath, body))
}

/** Keeps a held lease alive: its mtime is renewed every third of the ttl until the work ends or it is lost. */
const keepLease = (fs: FileSystem.FileSystem, target: string, body: string, ttlMs: number) =>
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

/**
 * Runs `effect` holding the lease file `target`, renewed while it runs. When another process holds it, waits while
 * it is held and renewed (until it is released, or its holder stops renewing it for a ttl) and returns `None`: the
 * caller reads the cache again. When the folder cannot be written, no other process can share it either: runs
 * in-process.
 */
export const withLease = <A, E>(
  fs: FileSystem.FileSystem,
  ensureDirectory: Effect.Effect<void, FileTokenCacheError>,
  target: string,
  ttl: Duration.Duration,
  effect: Effect.Effect<A, E>
): Effect.Effect<Option.Option<A>, E> =>
  Effect.gen(function*() {
    const ttlMs = Duration.toMillis(ttl)
    const tryAcquire = Effect.gen(function*() {
      const body = lockBody()
      const created = yield* Effect.either(Effect.zipRight(ensureDirectory, createExclusive(fs, target, body)))
      if (Either.isRight(created)) return { _tag: "Held", body } as const
      if (!isAlreadyExists(created.left)) return { _tag: "Unavailable" } as const
      const judged = yield* judge(fs, target, ttlMs)
      if (judged.stale && (yield* takeOver(fs, target, judged))) return { _tag: "Retry" } as const
      return { _tag: "Busy" } as const
    })
    let attempt = yield* tryAcquire
    if (attempt._tag === "Retry") attempt = yield* tryAcquire
    if (attempt._tag === "Unavailable") return Option.some(yield* effect)
    if (attempt._tag === "Held") {
      const body = attempt.body
      return yield* Effect.scoped(
        Effect.zipRight(Effect.forkScoped(keepLease(fs, target, body, ttlMs)), Effect.asSome(effect))
      ).pipe(Effect.ensuring(releaseIfOurs(fs, target, body)))
    }
    while (yield* Effect.orElseSucceed(fs.exists(target), () => false)) {
      if ((yield* judge(fs, target, ttlMs)).stale) break
      yield* realSleep(25)
    }
    return Option.none()
  })
