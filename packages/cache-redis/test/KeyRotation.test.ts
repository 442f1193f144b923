/**
 * Replicas with different encryption keys on one Redis: a rolling key rotation signs nobody out, and a replica
 * with a missing or wrong key leaves what it cannot open exactly as it found it.
 */
import { CacheEncryption } from "@effect-entra/identity"
import { assert, it } from "@effect/vitest"
import { Effect, Exit, Option, Redacted, Scope } from "effect"
import { Redis } from "ioredis"
import * as Crypto from "node:crypto"
import { afterAll, beforeAll } from "vitest"
import { RedisTokenCache } from "../src/index.js"
import { accessToken, account, accountKeyOf, tokenKeyOf } from "./fixtures/Entries.js"
import * as Logs from "./fixtures/Logs.js"
import { describeRedis, type RedisServer, startRedisServer } from "./fixtures/RedisServer.js"

const newKey = () => Crypto.randomBytes(32)

describeRedis("encryption keys across replicas", () => {
  let server: RedisServer
  let admin: Redis
  beforeAll(async () => {
    server = await startRedisServer()
    admin = new Redis(server.url)
  })
  afterAll(async () => {
    admin?.disconnect()
    await server?.stop()
  })
  const freshNamespace = () => `keys-${Crypto.randomUUID().slice(0, 8)}:`
  const cache = (namespace: string, keys: ReadonlyArray<Buffer>) =>
    RedisTokenCache.make({
      url: server.url,
      namespace,
      warnInterval: 0,
      ...(keys.length === 0 ? {} : {
        encryptionKey: Redacted.make(keys[0].toString("base64")),
        previousEncryptionKeys: keys.slice(1).map((key) => Redacted.make(key.toString("hex")))
      })
    })

  /** Every key of the namespace with its type and contents (and whether it expires), to compare before/after. */
  const snapshot = (namespace: string) =>
    Effect.promise(async () => {
      const [, keys] = await admin.scan("0", "MATCH", `${namespace}*`, "COUNT", 10_000)
      const entries: Array<[string, unknown]> = []
      for (const key of keys.sort()) {
        const type = await admin.type(key)
        const value = type === "hash"
          ? await admin.hgetall(key)
          : type === "set"
          ? (await admin.smembers(key)).sort()
          : await admin.get(key)
        entries.push([key, { type, value, expires: (await admin.pttl(key)) > 0 }])
      }
      return entries
    })

  const accountKey = accountKeyOf("app-1", "uid.utid")
  const tokenKey = tokenKeyOf("app-1", "uid.utid")

  it.live("a replica with no key or a wrong key leaves the stored entries untouched; its warning names key ids", () =>
    Effect.gen(function*() {
      const namespace = freshNamespace()
      const keyB = newKey()
      const writer = yield* cache(namespace, [keyB])
      yield* writer.setAccount(accountKey, account("app-1", "uid.utid", 3))
      yield* writer.setAccessToken(tokenKey, accessToken("at-3", Date.now()))
      const before = yield* snapshot(namespace)
      assert.isAtLeast(before.length, 4)
      const keyC = newKey()
      for (const keys of [[], [keyC]]) {
        const logs = Logs.capture()
        const replica = yield* logs.provide(cache(namespace, keys))
        // Everything it cannot open is a miss for it.
        assert.isTrue(Option.isNone(yield* logs.provide(replica.getAccessToken(tokenKey))))
        assert.isTrue(Option.isNone(yield* logs.provide(replica.getAccount(accountKey))))
        assert.deepStrictEqual(yield* logs.provide(replica.listAccounts), [])
        assert.deepStrictEqual(yield* logs.provide(replica.listAccessTokens(accountKey)), [])
        // Its own newer copy is kept in its memory; the entry it cannot open is not replaced.
        assert.isTrue(yield* logs.provide(replica.setAccount(accountKey, account("app-1", "uid.utid", 9, "rt-own"))))
        assert.strictEqual(Option.getOrThrow(yield* logs.provide(replica.getAccount(accountKey))).version, 9)
        assert.deepStrictEqual(yield* snapshot(namespace), before)
        const unreadable = logs.lines.filter((line) => line.annotations["redis.kind"] === "unreadable-entry")
        assert.isAtLeast(unreadable.length, 1)
        const ownId = keys.length === 0 ? "none" : CacheEncryption.keyId(keyC)
        assert.strictEqual(unreadable[0].annotations["redis.keyId"], ownId)
        assert.isTrue(unreadable.some((line) => line.annotations["redis.entryKeyId"] === CacheEncryption.keyId(keyB)))
        const printed = JSON.stringify(logs.lines)
        for (const secret of [keyB, keyC]) {
          assert.notInclude(printed, secret.toString("base64"))
          assert.notInclude(printed, secret.toString("hex"))
        }
      }
      // The writer's fleet still has the account.
      const again = yield* cache(namespace, [keyB])
      assert.strictEqual(Option.getOrThrow(yield* again.getAccount(accountKey)).version, 3)
    }).pipe(Effect.scoped))

  it.live("a rolling rotation (old pod key A, new pod B + previous A, then the old pod stops) keeps the account", () =>
    Effect.gen(function*() {
      const namespace = freshNamespace()
      const [keyA, keyB] = [newKey(), newKey()]
      const hash = `${namespace}account:${accountKey}`
      const oldPodScope = yield* Scope.make()
      const oldPod = yield* Scope.extend(cache(namespace, [keyA]), oldPodScope)
      // The old pod signs the user in.
      assert.isTrue(yield* oldPod.setAccount(accountKey, account("app-1", "uid.utid", 1, "rt-1")))
      // The new pod reads it with the previous key and renews: its copy is sealed with B.
      const newPod = yield* cache(namespace, [keyB, keyA])
      assert.strictEqual(Option.getOrThrow(yield* newPod.getAccount(accountKey)).version, 1)
      assert.isTrue(yield* newPod.setAccount(accountKey, account("app-1", "uid.utid", 2, "rt-2")))
      yield* newPod.setAccessToken(tokenKey, accessToken("at-2", Date.now()))
      const renewed = yield* snapshot(namespace)
      assert.strictEqual(yield* Effect.promise(() => admin.hget(hash, "k")), CacheEncryption.keyId(keyB))
      // The old pod cannot open B: it works from its own copy and touches nothing.
      assert.strictEqual(Option.getOrThrow(yield* oldPod.getAccount(accountKey)).version, 1)
      assert.isTrue(Option.isNone(yield* oldPod.getAccessToken(tokenKey)))
      // Its own renewal is kept in its memory (as when Redis is away), not written over B's entry.
      assert.isTrue(yield* oldPod.setAccount(accountKey, account("app-1", "uid.utid", 4, "rt-old")))
      yield* oldPod.listAccounts
      yield* oldPod.listAccessTokens(accountKey)
      assert.deepStrictEqual(yield* snapshot(namespace), renewed)
      yield* Scope.close(oldPodScope, Exit.void)
      // The old pod stops; the new pod keeps renewing, and a pod started afterwards finds the newest account.
      assert.isTrue(yield* newPod.setAccount(accountKey, account("app-1", "uid.utid", 5, "rt-5")))
      const later = yield* cache(namespace, [keyB])
      const found = Option.getOrThrow(yield* later.getAccount(accountKey))
      assert.strictEqual(found.version, 5)
      assert.strictEqual(Redacted.value(found.refreshToken!), "rt-5")
    }).pipe(Effect.scoped))
})
