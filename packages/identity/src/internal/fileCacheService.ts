import type * as FileSystem from "@effect/platform/FileSystem"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as CacheEncryption from "../CacheEncryption.js"
import type { Options, Service } from "../FileTokenCache.js"
import { FileTokenCacheError } from "./fileCacheError.js"
import * as FileLock from "./fileLock.js"
import type * as FileStore from "./fileStore.js"

/**
 * The key ring of the options, or why a key is unusable.
 *
 * @internal
 */
export const keyRingOf = (
  options: Options
): Either.Either<CacheEncryption.KeyRing | undefined, FileTokenCacheError> => {
  if (options.encryptionKey === undefined) return Either.right(undefined)
  return Either.mapLeft(
    CacheEncryption.makeKeyRing(options.encryptionKey, options.previousEncryptionKeys),
    ({ index, reason }) =>
      new FileTokenCacheError({
        reason: "InvalidKey",
        path: "",
        detail: index === 0 ? reason : `previous key ${index}: ${reason}`
      })
  )
}

/**
 * The cache service over the file store: reads from its in-memory copy, writes merged under its lock.
 *
 * @internal
 */
export const serviceOf = (
  store: FileStore.Store,
  fs: FileSystem.FileSystem,
  filePath: string,
  ring: CacheEncryption.KeyRing | undefined,
  leasePath: (leaseKey: string) => string
): Service => {
  const state = store.current
  const prefixed = <A>(map: Map<string, A>, k: string) => {
    const prefix = `${k}|`
    const result: Array<A> = []
    for (const [key, entry] of map) if (key.startsWith(prefix)) result.push(entry)
    return result
  }
  return {
    filePath,
    keyId: ring?.currentId,
    ensureWritable: store.ensureWritable,
    ensureSafe: store.ensureSafe,
    lastWriteError: Effect.sync(() => Option.fromNullable(store.lastWriteError())),
    peekAccessToken: (k) => state().accessTokens.get(k),
    getAccessToken: (k) => Effect.map(store.refresh, () => Option.fromNullable(state().accessTokens.get(k))),
    setAccessToken: (k, entry) => store.mutate("setAccessToken", (target) => void target.accessTokens.set(k, entry)),
    getAccount: (k) => Effect.map(store.refresh, () => Option.fromNullable(state().accounts.get(k))),
    setAccount: (k, entry) =>
      store.mutate("setAccount", (target) => {
        const current = target.accounts.get(k)
        if (current !== undefined && current.version >= entry.version) return false
        target.accounts.set(k, entry)
        return true
      }),
    removeAccount: (k) =>
      store.mutate("removeAccount", (target) => {
        target.accounts.delete(k)
        for (const tokenKey of Array.from(target.accessTokens.keys())) {
          if (tokenKey.startsWith(`${k}|`)) target.accessTokens.delete(tokenKey)
        }
      }),
    listAccounts: Effect.map(store.refresh, () => Array.from(state().accounts.values())),
    listAccessTokens: (k) => Effect.map(store.refresh, () => prefixed(state().accessTokens, k)),
    getRedemption: (codeKey) =>
      Effect.gen(function*() {
        yield* store.refresh
        const now = yield* Clock.currentTimeMillis
        const entry = state().redemptions.get(codeKey)
        return entry !== undefined && entry.expiresOn > now ? Option.some(entry.homeAccountId) : Option.none()
      }),
    setRedemption: (codeKey, homeAccountId, ttl) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        store.mutate("setRedemption", (target) => {
          target.redemptions.set(codeKey, { homeAccountId, expiresOn: now + Duration.toMillis(ttl) })
        })),
    withLease: (leaseKey, ttl, effect) =>
      FileLock.withLease(fs, store.ensureDirectory, leasePath(leaseKey), ttl, effect)
  }
}
