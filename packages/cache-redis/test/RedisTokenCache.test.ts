import * as Certificates from "@effect-entra/emulator/Certificates"
import { TokenCache } from "@effect-entra/identity"
import { assert, it } from "@effect/vitest"
import { ConfigProvider, Duration, Effect, Either, Exit, Layer, Option, Redacted, Ref } from "effect"
import { Redis } from "ioredis"
import * as Crypto from "node:crypto"
import { afterAll, beforeAll } from "vitest"
import { Encryption, RedisConnection, RedisTokenCache } from "../src/index.js"
import { accessToken, account, accountKeyOf, tokenKeyOf } from "./fixtures/Entries.js"
import * as Logs from "./fixtures/Logs.js"
import { describeRedis, type RedisServer, startRedisServer } from "./fixtures/RedisServer.js"

const key32 = Crypto.randomBytes(32).toString("base64")

describeRedis("RedisTokenCache", () => {
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

  /** A fresh cache (own connection, own L1) in a fresh namespace unless one is given. */
  const cache = (options: RedisTokenCache.Options = {}) => RedisTokenCache.make({ url: server.url, ...options })
  const freshNamespace = () => `test-${Crypto.randomUUID().slice(0, 8)}:`

  it.live("an L2 hit fills L1; peekAccessToken reads L1 only", () =>
    Effect.gen(function*() {
      const namespace = freshNamespace()
      const writer = yield* cache({ namespace })
      const reader = yield* cache({ namespace })
      const key = tokenKeyOf("app-1", "uid.utid")
      const entry = accessToken("at-1", Date.now())
      yield* writer.setAccessToken(key, entry)
      assert.strictEqual(Redacted.value(writer.peekAccessToken(key)!.token), "at-1")
      assert.isUndefined(reader.peekAccessToken(key))
      const read = yield* reader.getAccessToken(key)
      assert.strictEqual(Redacted.value(Option.getOrThrow(read).token), "at-1")
      assert.strictEqual(Redacted.value(reader.peekAccessToken(key)!.token), "at-1")
    }).pipe(Effect.scoped))

  it.live("a token in the second half of its life is revalidated against Redis and a newer one adopted", () =>
    Effect.gen(function*() {
      const namespace = freshNamespace()
      const a = yield* cache({ namespace })
      const b = yield* cache({ namespace })
      const key = tokenKeyOf("app-1", "uid.utid")
      const now = Date.now()
      // Issued 40 minutes ago, 1 hour lifetime: past half-life.
      yield* a.setAccessToken(key, { ...accessToken("old", now - 2_400_000), expiresOn: now + 1_200_000 })
      assert.strictEqual(Redacted.value(Option.getOrThrow(yield* b.getAccessToken(key)).token), "old")
      yield* a.setAccessToken(key, accessToken("renewed", now))
      assert.strictEqual(Redacted.value(Option.getOrThrow(yield* b.getAccessToken(key)).token), "renewed")
      assert.strictEqual(Redacted.value(b.peekAccessToken(key)!.token), "renewed")
      // A fresh L1 token is served without asking Redis: an older L2 value does not replace it.
      yield* Effect.promise(() => admin.del(`${namespace}at:${key}`))
      assert.strictEqual(Redacted.value(Option.getOrThrow(yield* b.getAccessToken(key)).token), "renewed")
    }).pipe(Effect.scoped))

  it.live("entries expire in Redis with what they hold (PTTL)", () =>
    Effect.gen(function*() {
      const namespace = freshNamespace()
      const c = yield* cache({ namespace, accountTtl: "7 days" })
      const key = tokenKeyOf("app-1", "uid.utid")
      const accountKey = accountKeyOf("app-1", "uid.utid")
      yield* c.setAccessToken(key, accessToken("at", Date.now(), { lifetimeMs: 60_000 }))
      yield* c.setAccount(accountKey, account("app-1", "uid.utid", 1))
      yield* c.setRedemption("code-hash", "uid.utid", Duration.minutes(15))
      const [tokenTtl, accountTtl, redemptionTtl] = yield* Effect.promise(() =>
        Promise.all([
          admin.pttl(`${namespace}at:${key}`),
          admin.pttl(`${namespace}account:${accountKey}`),
          admin.pttl(`${namespace}code:code-hash`)
        ])
      )
      assert.isTrue(tokenTtl > 55_000 && tokenTtl <= 60_000, `token PTTL ${tokenTtl}`)
      assert.isTrue(accountTtl > 7 * 86_400_000 - 10_000 && accountTtl <= 7 * 86_400_000, `account PTTL ${accountTtl}`)
      assert.isTrue(redemptionTtl > 890_000 && redemptionTtl <= 900_000, `redemption PTTL ${redemptionTtl}`)
      // An already expired token is not written to Redis at all.
      const expiredKey = tokenKeyOf("app-1", "uid.utid", "api://x/other")
      yield* c.setAccessToken(expiredKey, accessToken("gone", Date.now() - 10_000, { lifetimeMs: 5_000 }))
      assert.strictEqual(yield* Effect.promise(() => admin.exists(`${namespace}at:${expiredKey}`)), 0)
    }).pipe(Effect.scoped))

  it.live("the versioned compare-and-swap keeps the newest account under concurrent writers", () =>
    Effect.gen(function*() {
      const namespace = freshNamespace()
      const writers = yield* Effect.all(Array.from({ length: 10 }, () => cache({ namespace })))
      const key = accountKeyOf("app-1", "uid.utid")
      const versions = Array.from({ length: 40 }, (_, i) => i + 1).sort(() => Math.random() - 0.5)
      const results = yield* Effect.forEach(
        versions,
        (version, i) => writers[i % writers.length].setAccount(key, account("app-1", "uid.utid", version)),
        { concurrency: "unbounded" }
      )
      assert.isTrue(results.some((stored) => stored))
      const fresh = yield* cache({ namespace })
      const stored = Option.getOrThrow(yield* fresh.getAccount(key))
      assert.strictEqual(stored.version, 40)
      assert.strictEqual(Redacted.value(stored.refreshToken!), "rt-40")
      assert.isFalse(yield* fresh.setAccount(key, account("app-1", "uid.utid", 39, "older")))
      assert.isFalse(yield* fresh.setAccount(key, account("app-1", "uid.utid", 40, "same-version")))
      assert.isTrue(yield* fresh.setAccount(key, account("app-1", "uid.utid", 41)))
      // A writer whose L1 lags behind still reads the newest from Redis.
      const lagging = Option.getOrThrow(yield* writers[0].getAccount(key))
      assert.strictEqual(lagging.version, 41)
    }).pipe(Effect.scoped))

  it.live("a lease is held by exactly one of many processes; the others wait and get None", () =>
    Effect.gen(function*() {
      const namespace = freshNamespace()
      const caches = yield* Effect.all(Array.from({ length: 8 }, () => cache({ namespace })))
      const runs = yield* Ref.make(0)
      const started = Date.now()
      const results = yield* Effect.forEach(
        caches,
        (c) =>
          c.withLease(
            "refresh|k",
            Duration.seconds(5),
            Effect.zipRight(Ref.update(runs, (n) => n + 1), Effect.sleep("150 millis"))
          ),
        { concurrency: "unbounded" }
      )
      assert.strictEqual(yield* Ref.get(runs), 1)
      assert.strictEqual(results.filter(Option.isSome).length, 1)
      // The waiters returned once the holder released (not after the 5 s ttl).
      assert.isBelow(Date.now() - started, 1_500)
      assert.strictEqual(yield* Effect.promise(() => admin.exists(`${namespace}lease:refresh|k`)), 0)
      // Arriving right after a holder finished: told the work was just done.
      assert.isTrue(Option.isNone(yield* caches[0].withLease("refresh|k", Duration.seconds(5), Effect.void)))
    }).pipe(Effect.scoped))

  it.live("a dead holder's lease expires and another process takes over; a failed holder leaves no marker", () =>
    Effect.gen(function*() {
      const namespace = freshNamespace()
      const c = yield* cache({ namespace })
      // A process that took the lease and died: nobody extends or releases it.
      yield* Effect.promise(() => admin.set(`${namespace}lease:redeem|abc`, "dead-holder", "PX", 400))
      const started = Date.now()
      const waited = yield* c.withLease("redeem|abc", Duration.seconds(30), Effect.succeed("ran"))
      assert.isTrue(Option.isNone(waited))
      const elapsed = Date.now() - started
      assert.isTrue(elapsed >= 300 && elapsed < 1_500, `waited ${elapsed} ms`)
      assert.deepStrictEqual(
        yield* c.withLease("redeem|abc", Duration.seconds(30), Effect.succeed("ran")),
        Option.some("ran")
      )
      // A holder that fails releases without a "done" marker, so the next one tries at once.
      const failed = yield* Effect.exit(c.withLease("refresh|f", Duration.seconds(30), Effect.fail("boom")))
      assert.isTrue(Exit.isFailure(failed))
      assert.deepStrictEqual(yield* c.withLease("refresh|f", Duration.seconds(30), Effect.succeed(1)), Option.some(1))
    }).pipe(Effect.scoped))

  it.live("a holder working past the ttl keeps its lease (it is extended)", () =>
    Effect.gen(function*() {
      const namespace = freshNamespace()
      const [a, b] = yield* Effect.all([cache({ namespace }), cache({ namespace })])
      const runs = yield* Ref.make(0)
      const work = Effect.zipRight(Ref.update(runs, (n) => n + 1), Effect.sleep("700 millis"))
      const holder = yield* Effect.fork(a.withLease("refresh|long", Duration.millis(300), work))
      yield* Effect.sleep("450 millis")
      const other = yield* b.withLease("refresh|long", Duration.millis(300), work)
      yield* holder.await
      assert.isTrue(Option.isNone(other))
      assert.strictEqual(yield* Ref.get(runs), 1)
    }).pipe(Effect.scoped))

  it.live("encryption: sealed at rest, bound to its key (AAD), tampering and wrong keys are rejected", () =>
    Effect.gen(function*() {
      const logs = Logs.capture()
      const namespace = freshNamespace()
      const encryptionKey = Redacted.make(key32)
      const a = yield* cache({ namespace, encryptionKey })
      const alice = tokenKeyOf("app-1", "alice")
      const bob = tokenKeyOf("app-1", "bob")
      yield* a.setAccessToken(alice, accessToken("secret-token-alice", Date.now(), { homeAccountId: "alice" }))
      yield* a.setAccount(accountKeyOf("app-1", "alice"), account("app-1", "alice", 1, "secret-rt"))
      const raw = yield* Effect.promise(() => admin.get(`${namespace}at:${alice}`))
      assert.match(raw!, /^aesgcm1\./)
      assert.notInclude(raw!, "secret-token-alice")
      const rawAccount = yield* Effect.promise(() =>
        admin.hget(`${namespace}account:${accountKeyOf("app-1", "alice")}`, "d")
      )
      assert.notInclude(rawAccount!, "secret-rt")
      // Round trip through another process with the same key.
      const b = yield* cache({ namespace, encryptionKey })
      assert.strictEqual(Redacted.value(Option.getOrThrow(yield* b.getAccessToken(alice)).token), "secret-token-alice")
      assert.strictEqual(
        Redacted.value(Option.getOrThrow(yield* b.getAccount(accountKeyOf("app-1", "alice"))).refreshToken!),
        "secret-rt"
      )
      // Copied under bob's key: the AAD does not match.
      yield* Effect.promise(() => admin.set(`${namespace}at:${bob}`, raw!, "PX", 60_000))
      assert.isTrue(Option.isNone(yield* logs.provide(b.getAccessToken(bob))))
      // One flipped character in the ciphertext.
      const tampered = raw!.slice(0, -3) + (raw!.at(-3) === "A" ? "B" : "A") + raw!.slice(-2)
      yield* Effect.promise(() => admin.set(`${namespace}at:${alice}`, tampered, "PX", 60_000))
      const c = yield* cache({ namespace, encryptionKey, warnInterval: 0 })
      assert.isTrue(Option.isNone(yield* logs.provide(c.getAccessToken(alice))))
      // Another key cannot read; a rotated key can (previousEncryptionKeys).
      yield* a.setAccessToken(alice, accessToken("secret-token-alice-2", Date.now(), { homeAccountId: "alice" }))
      const stranger = yield* cache({ namespace, encryptionKey: Redacted.make(Crypto.randomBytes(32).toString("hex")) })
      assert.isTrue(Option.isNone(yield* logs.provide(stranger.getAccessToken(alice))))
      const rotated = yield* cache({
        namespace,
        encryptionKey: Redacted.make(Crypto.randomBytes(32).toString("hex")),
        previousEncryptionKeys: [encryptionKey]
      })
      assert.strictEqual(
        Redacted.value(Option.getOrThrow(yield* rotated.getAccessToken(alice)).token),
        "secret-token-alice-2"
      )
      // A plaintext entry is not accepted when encryption is on.
      yield* Effect.promise(() => admin.set(`${namespace}at:${bob}`, "{\"token\":\"x\"}", "PX", 60_000))
      assert.isTrue(Option.isNone(yield* logs.provide(c.getAccessToken(bob))))
      const warnings = logs.lines.filter((line) => line.level === "WARN")
      assert.isAtLeast(warnings.length, 3)
      for (const line of warnings) {
        assert.include(line.message, "Ignoring a Redis token cache entry")
        assert.notInclude(JSON.stringify(line), "secret")
      }
    }).pipe(Effect.scoped))

  it.live("an invalid encryption key fails the layer without echoing it", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(cache({ encryptionKey: Redacted.make("too-short-secret-value") }))
      assert.isTrue(Exit.isFailure(exit))
      assert.notInclude(JSON.stringify(exit), "too-short-secret-value")
      assert.include(String(exit), "encryptionKey")
    }).pipe(Effect.scoped))

  it.live("partitions: two apps and two users never see each other's entries; namespaces are separate", () =>
    Effect.gen(function*() {
      const namespace = freshNamespace()
      const c = yield* cache({ namespace })
      const cells = [["app-1", "alice"], ["app-1", "bob"], ["app-2", "alice"], ["app-2", "bob"]] as const
      for (const [app, user] of cells) {
        yield* c.setAccessToken(
          tokenKeyOf(app, user),
          accessToken(`${app}/${user}`, Date.now(), { homeAccountId: user })
        )
        yield* c.setAccount(accountKeyOf(app, user), account(app, user, 1, `rt-${app}/${user}`))
      }
      const reader = yield* cache({ namespace })
      for (const [app, user] of cells) {
        const token = Option.getOrThrow(yield* reader.getAccessToken(tokenKeyOf(app, user)))
        assert.strictEqual(Redacted.value(token.token), `${app}/${user}`)
        const stored = Option.getOrThrow(yield* reader.getAccount(accountKeyOf(app, user)))
        assert.strictEqual(Redacted.value(stored.refreshToken!), `rt-${app}/${user}`)
        const listed = yield* reader.listAccessTokens(accountKeyOf(app, user))
        assert.deepStrictEqual(listed.map((entry) => Redacted.value(entry.token)), [`${app}/${user}`])
      }
      assert.strictEqual((yield* reader.listAccounts).length, 4)
      yield* reader.removeAccount(accountKeyOf("app-1", "alice"))
      const other = yield* cache({ namespace })
      assert.isTrue(Option.isNone(yield* other.getAccessToken(tokenKeyOf("app-1", "alice"))))
      assert.isTrue(Option.isNone(yield* other.getAccount(accountKeyOf("app-1", "alice"))))
      assert.isTrue(Option.isSome(yield* other.getAccessToken(tokenKeyOf("app-2", "alice"))))
      assert.strictEqual((yield* other.listAccounts).length, 3)
      const elsewhere = yield* cache({ namespace: freshNamespace() })
      assert.isTrue(Option.isNone(yield* elsewhere.getAccessToken(tokenKeyOf("app-2", "alice"))))
      assert.strictEqual((yield* elsewhere.listAccounts).length, 0)
    }).pipe(Effect.scoped))

  it.live("bad data in Redis is ignored with a warning and does not block later writes", () =>
    Effect.gen(function*() {
      const logs = Logs.capture()
      const namespace = freshNamespace()
      const c = yield* cache({ namespace, warnInterval: 0 })
      const key = tokenKeyOf("app-1", "uid.utid")
      const accountKey = accountKeyOf("app-1", "uid.utid")
      const bad: Array<[string, string]> = [
        ["not json", "{not json"],
        ["wrong schema", JSON.stringify({ token: 42, expiresOn: "soon" })],
        ["foreign", "hello"]
      ]
      for (const [, value] of bad) {
        yield* Effect.promise(() => admin.set(`${namespace}at:${key}`, value))
        assert.isTrue(Option.isNone(yield* logs.provide(c.getAccessToken(key))))
      }
      // A corrupted account hash, and a foreign type under the account key.
      yield* Effect.promise(() => admin.hset(`${namespace}account:${accountKey}`, "v", "999", "d", "{garbage"))
      assert.isTrue(Option.isNone(yield* logs.provide(c.getAccount(accountKey))))
      assert.isTrue(yield* c.setAccount(accountKey, account("app-1", "uid.utid", 1)))
      yield* Effect.promise(() => admin.del(`${namespace}account:${accountKey}`))
      yield* Effect.promise(() => admin.set(`${namespace}account:${accountKey}`, "a string"))
      assert.isTrue(yield* c.setAccount(accountKeyOf("app-1", "uid.utid"), account("app-1", "uid.utid", 2)))
      const fresh = yield* cache({ namespace })
      assert.strictEqual(Option.getOrThrow(yield* fresh.getAccount(accountKey)).version, 2)
      const warnings = logs.lines.filter((line) => line.level === "WARN")
      assert.isAtLeast(warnings.length, 4)
      assert.isTrue(warnings.some((line) => line.message.includes("does not match the schema")))
      for (const line of warnings) assert.notInclude(JSON.stringify(line), "garbage")
    }).pipe(Effect.scoped))

  it.live("authenticated Redis: the password from config works; a wrong one degrades to memory", () =>
    Effect.gen(function*() {
      const secured = yield* Effect.acquireRelease(
        Effect.promise(() => startRedisServer({ password: "s3cret-pass" })),
        (s) => Effect.promise(() => s.stop())
      )
      const logs = Logs.capture()
      const good = yield* RedisTokenCache.make({ url: secured.url, password: Redacted.make("s3cret-pass") })
      const key = tokenKeyOf("app-1", "uid.utid")
      yield* good.setAccessToken(key, accessToken("authed", Date.now()))
      const probe = new Redis(secured.url, { password: "s3cret-pass" })
      assert.strictEqual(yield* Effect.promise(() => probe.exists(`effect-entra:at:${key}`)), 1)
      probe.disconnect()
      const wrong = yield* logs.provide(
        RedisTokenCache.make({
          url: Redacted.make(`redis://:wrong-pass@127.0.0.1:${secured.port}`),
          connectTimeout: 300
        })
      )
      yield* logs.provide(wrong.setAccessToken(key, accessToken("local", Date.now())))
      assert.strictEqual(Redacted.value(Option.getOrThrow(yield* wrong.getAccessToken(key)).token), "local")
      for (const line of logs.lines) assert.notInclude(JSON.stringify(line), "wrong-pass")
    }).pipe(Effect.scoped))

  it.live("TLS (rediss://) with a private CA and an ACL user; without the CA it degrades to memory", () =>
    Effect.gen(function*() {
      const identity = yield* Certificates.generate
      const secured = yield* Effect.acquireRelease(
        Effect.promise(() => startRedisServer({ tls: identity, aclUser: ["tokens", "acl-pass"] })),
        (s) => Effect.promise(() => s.stop())
      )
      assert.match(secured.url, /^rediss:/)
      const logs = Logs.capture()
      const key = tokenKeyOf("app-1", "uid.utid")
      const good = yield* RedisTokenCache.make({
        url: secured.url,
        tls: { ca: identity.ca },
        username: "tokens",
        password: Redacted.make("acl-pass")
      })
      yield* good.setAccessToken(key, accessToken("over-tls", Date.now()))
      const reader = yield* RedisTokenCache.make({
        url: Redacted.make(`rediss://tokens:acl-pass@127.0.0.1:${secured.port}`),
        tls: { ca: identity.ca }
      })
      assert.strictEqual(Redacted.value(Option.getOrThrow(yield* reader.getAccessToken(key)).token), "over-tls")
      const untrusted = yield* logs.provide(RedisTokenCache.make({ url: secured.url, connectTimeout: 300 }))
      assert.isTrue(Option.isNone(yield* logs.provide(untrusted.getAccessToken(key))))
      assert.isTrue(logs.lines.some((line) => line.level === "WARN"))
      for (const line of logs.lines) assert.notInclude(JSON.stringify(line), "acl-pass")
    }).pipe(Effect.scoped))

  it.live("layerConfig reads REDIS_URL, the namespace and the encryption key", () =>
    Effect.gen(function*() {
      const namespace = freshNamespace()
      const provider = ConfigProvider.fromMap(
        new Map([
          ["REDIS_URL", server.url],
          ["EFFECT_ENTRA_REDIS_KEY", key32],
          ["EFFECT_ENTRA_REDIS_NAMESPACE", namespace],
          ["EFFECT_ENTRA_REDIS_TIMEOUT", "250 millis"]
        ])
      )
      const key = tokenKeyOf("app-1", "uid.utid")
      yield* Effect.gen(function*() {
        const c = yield* TokenCache.TokenCache
        yield* c.setAccessToken(key, accessToken("from-config", Date.now()))
      }).pipe(
        Effect.provide(RedisTokenCache.layerConfig().pipe(Layer.provide(Layer.setConfigProvider(provider))))
      )
      const raw = yield* Effect.promise(() => admin.get(`${namespace}at:${key}`))
      assert.match(raw ?? "", /^aesgcm1\./)
      const bad = yield* Effect.exit(
        Layer.build(RedisTokenCache.layerConfig()).pipe(
          Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["EFFECT_ENTRA_REDIS_KEY", "nope"]]))),
          Effect.scoped
        )
      )
      assert.isTrue(Exit.isFailure(bad))
    }))

  it.live("Redis down or hung: operations give up within the time-out and the cache answers from L1; warnings are rate-limited", () =>
    Effect.gen(function*() {
      const logs = Logs.capture()
      const doomed = yield* Effect.acquireRelease(
        Effect.promise(() => startRedisServer()),
        (s) => Effect.promise(() => s.stop())
      )
      const c = yield* logs.provide(RedisTokenCache.make({ url: doomed.url }))
      const key = tokenKeyOf("app-1", "uid.utid")
      const accountKey = accountKeyOf("app-1", "uid.utid")
      const now = Date.now()
      yield* c.setAccessToken(key, { ...accessToken("cached", now - 2_400_000), expiresOn: now + 1_200_000 })
      yield* c.setAccount(accountKey, account("app-1", "uid.utid", 3))
      // Hung: the process is stopped, connections stay open and nothing answers (a slow or overloaded Redis).
      doomed.pause()
      const timed = yield* logs.provide(Effect.timed(c.getAccessToken(key)))
      const hungAccount = yield* logs.provide(Effect.timed(c.getAccount(accountKey)))
      doomed.resume()
      assert.isBelow(Duration.toMillis(timed[0]), 150)
      assert.strictEqual(Redacted.value(Option.getOrThrow(timed[1]).token), "cached")
      // The L1 miss had to ask Redis and gave up at the 100 ms time-out, answering from memory.
      assert.isAtLeast(Duration.toMillis(hungAccount[0]), 90)
      assert.isBelow(Duration.toMillis(hungAccount[0]), 150)
      assert.strictEqual(Option.getOrThrow(hungAccount[1]).version, 3)
      // Down.
      yield* Effect.promise(() => doomed.stop())
      const ops = [
        c.getAccessToken(key),
        c.getAccount(accountKey),
        c.setAccessToken(key, accessToken("new", Date.now())),
        c.setAccount(accountKey, account("app-1", "uid.utid", 4)),
        c.withLease("refresh|x", Duration.seconds(5), Effect.succeed(1)),
        c.getRedemption("code"),
        c.listAccounts
      ] as const
      for (const op of ops) {
        const [elapsed] = yield* logs.provide(Effect.timed(op))
        assert.isBelow(Duration.toMillis(elapsed), 150)
      }
      assert.strictEqual(Redacted.value(Option.getOrThrow(yield* c.getAccessToken(key)).token), "new")
      assert.strictEqual(Option.getOrThrow(yield* c.getAccount(accountKey)).version, 4)
      assert.deepStrictEqual(yield* c.withLease("refresh|x", Duration.seconds(5), Effect.succeed(2)), Option.some(2))
      for (let i = 0; i < 50; i++) yield* logs.provide(c.getAccount(accountKey))
      const unavailable = logs.lines.filter((line) => line.annotations["redis.kind"] === "unavailable")
      assert.isAtLeast(unavailable.length, 1)
      assert.isAtMost(unavailable.length, 2)
    }).pipe(Effect.scoped))

  it.live("after a restart the connection comes back by itself, puts back what Redis lost, and writes resume", () =>
    Effect.gen(function*() {
      const logs = Logs.capture()
      const flaky = yield* Effect.acquireRelease(
        Effect.promise(() => startRedisServer()),
        (s) => Effect.promise(() => s.stop())
      )
      const c = yield* logs.provide(RedisTokenCache.make({ url: flaky.url, maxReconnectDelay: "200 millis" }))
      const accountKey = accountKeyOf("app-1", "uid.utid")
      const key = tokenKeyOf("app-1", "uid.utid")
      yield* c.setAccount(accountKey, account("app-1", "uid.utid", 1))
      yield* c.setAccessToken(key, accessToken("before", Date.now()))
      yield* Effect.promise(() => flaky.stop())
      yield* logs.provide(c.setAccount(accountKey, account("app-1", "uid.utid", 2)))
      yield* Effect.promise(() => flaky.start())
      const probe = new Redis(flaky.url)
      // Redis came back empty (no persistence): the cache reconnects and puts back its account and token.
      let stored: string | null = null
      for (let i = 0; i < 50 && stored === null; i++) {
        yield* Effect.sleep("100 millis")
        stored = yield* Effect.promise(() => probe.hget(`effect-entra:account:${accountKey}`, "v"))
      }
      assert.strictEqual(stored, "2")
      assert.strictEqual(yield* Effect.promise(() => probe.exists(`effect-entra:at:${key}`)), 1)
      const other = yield* RedisTokenCache.make({ url: flaky.url })
      assert.strictEqual(Redacted.value(Option.getOrThrow(yield* other.getAccessToken(key)).token), "before")
      yield* c.setAccessToken(key, accessToken("after-restart", Date.now() + 1))
      const fresh = yield* RedisTokenCache.make({ url: flaky.url })
      assert.strictEqual(Redacted.value(Option.getOrThrow(yield* fresh.getAccessToken(key)).token), "after-restart")
      probe.disconnect()
    }).pipe(Effect.scoped))

  it.live("a cache built while Redis is down starts at once and connects when Redis appears", () =>
    Effect.gen(function*() {
      const logs = Logs.capture()
      const late = yield* Effect.acquireRelease(
        Effect.promise(() => startRedisServer()),
        (s) => Effect.promise(() => s.stop())
      )
      yield* Effect.promise(() => late.stop())
      const [built, c] = yield* logs.provide(
        Effect.timed(RedisTokenCache.make({ url: late.url, maxReconnectDelay: "200 millis" }))
      )
      assert.isBelow(Duration.toMillis(built), 1_000)
      const accountKey = accountKeyOf("app-1", "uid.utid")
      yield* logs.provide(c.setAccount(accountKey, account("app-1", "uid.utid", 1)))
      assert.strictEqual(Option.getOrThrow(yield* logs.provide(c.getAccount(accountKey))).version, 1)
      yield* Effect.promise(() => late.start())
      const probe = new Redis(late.url)
      let version: string | null = null
      for (let i = 0; i < 50 && version === null; i++) {
        yield* Effect.sleep("100 millis")
        version = yield* Effect.promise(() => probe.hget(`effect-entra:account:${accountKey}`, "v"))
      }
      probe.disconnect()
      assert.strictEqual(version, "1")
      assert.isTrue(logs.lines.some((line) => line.level === "WARN"))
    }).pipe(Effect.scoped))

  it.live("a sign-out sticks: other processes' copies, refreshes, repairs and resyncs do not bring it back", () =>
    Effect.gen(function*() {
      const namespace = freshNamespace()
      const [a, b, c, d, e, f] = yield* Effect.all(Array.from({ length: 6 }, () => cache({ namespace })))
      const accountKey = accountKeyOf("app-1", "uid.utid")
      const key = tokenKeyOf("app-1", "uid.utid")
      const redisAccount = `${namespace}account:${accountKey}`
      const marker = `${namespace}removed:${accountKey}`
      yield* a.setAccount(accountKey, account("app-1", "uid.utid", 1))
      yield* a.setAccount(accountKey, account("app-1", "uid.utid", 3))
      // Every other process holds the account (and a token) in memory.
      for (const other of [b, c, d, e, f]) {
        assert.strictEqual(Option.getOrThrow(yield* other.getAccount(accountKey)).version, 3)
        yield* other.setAccessToken(key, accessToken("at", Date.now()))
      }
      yield* a.removeAccount(accountKey)
      assert.strictEqual(yield* Effect.promise(() => admin.exists(redisAccount)), 0)
      assert.strictEqual(yield* Effect.promise(() => admin.get(marker)), "3")
      const markerTtl = yield* Effect.promise(() => admin.pttl(marker))
      assert.isTrue(markerTtl > 90 * 86_400_000 - 10_000, `marker PTTL ${markerTtl}`)

      // The repair path (Redis lacks what L1 holds) finds the marker: B forgets instead of writing it back.
      assert.isTrue(Option.isNone(yield* b.getAccount(accountKey)))
      assert.isUndefined(b.peekAccessToken(key))
      assert.isTrue(Option.isNone(yield* b.getAccount(accountKey)))
      // A refresh that read the account before the sign-out (same or next version) is refused; C forgets it too.
      assert.isFalse(yield* c.setAccount(accountKey, account("app-1", "uid.utid", 3)))
      assert.isFalse(yield* c.setAccount(accountKey, account("app-1", "uid.utid", 4, "rt-in-flight")))
      assert.isUndefined(c.peekAccessToken(key))
      // Listing accounts drops signed-out copies.
      assert.deepStrictEqual(yield* f.listAccounts, [])
      assert.isUndefined(f.peekAccessToken(key))
      // A reconnect (resync) does not push D's copy back either, and D forgets it.
      yield* Effect.promise(() => admin.client("KILL", "SKIPME", "yes", "TYPE", "normal"))
      for (let i = 0; i < 50 && d.peekAccessToken(key) !== undefined; i++) yield* Effect.sleep("100 millis")
      assert.isUndefined(d.peekAccessToken(key))
      assert.strictEqual(yield* Effect.promise(() => admin.exists(redisAccount)), 0)
      assert.strictEqual(yield* Effect.promise(() => admin.get(marker)), "3")

      // A new sign-in (version 1) works, numbered above the removed version; the marker goes.
      assert.isTrue(yield* b.setAccount(accountKey, account("app-1", "uid.utid", 1, "rt-new-sign-in")))
      assert.strictEqual(yield* Effect.promise(() => admin.hget(redisAccount, "v")), "4")
      assert.strictEqual(yield* Effect.promise(() => admin.exists(marker)), 0)
      // E never saw the sign-out: its old copy (version 3) is older than the new sign-in and does not replace it.
      const adopted = Option.getOrThrow(yield* e.getAccount(accountKey))
      assert.strictEqual(adopted.version, 4)
      assert.strictEqual(Redacted.value(adopted.refreshToken!), "rt-new-sign-in")
      // Refreshes after the new sign-in are written as usual.
      assert.isTrue(yield* c.setAccount(accountKey, { ...adopted, version: 5 }))
      assert.strictEqual(Option.getOrThrow(yield* d.getAccount(accountKey)).version, 5)
    }).pipe(Effect.scoped))

  it.live("a cache on a shared connection stops listening for reconnects when its scope closes", () =>
    Effect.gen(function*() {
      const flaky = yield* Effect.acquireRelease(
        Effect.promise(() => startRedisServer()),
        (s) => Effect.promise(() => s.stop())
      )
      const connection = yield* RedisConnection.make({ url: flaky.url, maxReconnectDelay: "200 millis" })
      const closedKey = accountKeyOf("app-1", "closed")
      const openKey = accountKeyOf("app-1", "open")
      yield* Effect.scoped(Effect.gen(function*() {
        const closed = yield* RedisTokenCache.makeWithConnection(connection)
        yield* closed.setAccount(closedKey, account("app-1", "closed", 1))
      }))
      const open = yield* RedisTokenCache.makeWithConnection(connection)
      yield* open.setAccount(openKey, account("app-1", "open", 1))
      yield* Effect.promise(() => flaky.stop())
      yield* Effect.promise(() => flaky.start())
      const probe = new Redis(flaky.url)
      let openStored = 0
      for (let i = 0; i < 50 && openStored === 0; i++) {
        yield* Effect.sleep("100 millis")
        openStored = yield* Effect.promise(() => probe.exists(`effect-entra:account:${openKey}`))
      }
      yield* Effect.sleep("300 millis")
      const closedStored = yield* Effect.promise(() => probe.exists(`effect-entra:account:${closedKey}`))
      probe.disconnect()
      // The open cache resynced; the closed one left no listener behind to push its account back.
      assert.strictEqual(openStored, 1)
      assert.strictEqual(closedStored, 0)
      // Unregistering is per registration and idempotent.
      let calls = 0
      const unregister = connection.onReconnect(() => calls++)
      unregister()
      unregister()
      assert.strictEqual(calls, 0)
    }).pipe(Effect.scoped, Logs.capture().provide))

  it("the key decoder accepts hex and base64 and refuses anything else", () => {
    assert.isTrue(Either.isRight(Encryption.decodeKey(Redacted.make(Crypto.randomBytes(32).toString("hex")))))
    assert.isTrue(Either.isRight(Encryption.decodeKey(Redacted.make(Crypto.randomBytes(32).toString("base64url")))))
    assert.isTrue(Either.isRight(Encryption.decodeKey(Redacted.make(new Uint8Array(32)))))
    assert.isTrue(Either.isLeft(Encryption.decodeKey(Redacted.make(Crypto.randomBytes(16).toString("hex")))))
  })
})
