/**
 * A two-level `TokenCache` for the credential: the in-process memory cache (L1) in front of Redis (L2), shared by
 * every process of a fleet.
 *
 * - Reads go L1 → L2 (an L2 hit fills L1); writes go to both. `peekAccessToken` reads L1 only, so the hot path
 *   costs what the memory cache costs. An access token in the second half of its life (or past Entra's
 *   `refresh_in`) is also looked up in Redis, so a token another process already renewed is adopted instead of
 *   renewed again.
 * - Redis entries expire with what they hold: access tokens at `expiresOn`, accounts (refresh tokens) after
 *   `accountTtl` (default 90 days, extended by every write), redeemed-code records after their ttl.
 * - Accounts are written with a versioned compare-and-swap script, so an older refresh token never overwrites a
 *   newer one; accounts are read from Redis first (it is the arbiter) and from L1 when Redis cannot answer.
 * - `removeAccount` (a sign-out) leaves a removal marker in Redis for `accountTtl`: while it exists no process
 *   writes its older copy of the account back (not a refresh, not a repair, not a resync after a reconnect), and a
 *   process that meets the marker drops its own copy and the account's tokens. A new sign-in (an account written
 *   at version 1) is numbered above the removed version and clears the marker.
 * - `withLease` is a Redis lease: one process of the fleet redeems a code or refreshes a key ({@link Lease}).
 * - With an encryption key every value is sealed with AES-256-GCM, bound to its Redis key.
 * - Redis down, slow or refusing: each operation is bounded by `operationTimeout` (default 100 ms), a
 *   rate-limited warning is logged, and the cache answers from L1; leases fall back to this process. Nothing
 *   fails because the cache did. Undecodable entries (foreign, corrupted, tampered, wrong schema) are ignored with
 *   a warning.
 *
 * @since 0.1.0
 */
import { InvalidOptionError } from "@effect-entra/identity/AuthenticationError"
import * as TokenCache from "@effect-entra/identity/TokenCache"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Runtime from "effect/Runtime"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Encryption from "./Encryption.js"
import * as Ops from "./internal/ops.js"
import * as Warnings from "./internal/warnings.js"
import * as Lease from "./Lease.js"
import * as RedisConnection from "./RedisConnection.js"

/**
 * What the cache itself needs (the connection is configured by {@link RedisConnection.Options}).
 *
 * @since 0.1.0
 * @category models
 */
export interface CacheOptions {
  /** Prefix of every key, so one Redis serves several deployments. Default `effect-entra:`. */
  readonly namespace?: string | undefined
  /** A 32-byte AES-256-GCM key (64 hex digits or base64): values are encrypted at rest. */
  readonly encryptionKey?: Encryption.KeyInput | undefined
  /** Keys still accepted for decryption while rotating to `encryptionKey`. */
  readonly previousEncryptionKeys?: ReadonlyArray<Encryption.KeyInput> | undefined
  /** How long an account (and its refresh token) stays in Redis after its last write. Default 90 days. */
  readonly accountTtl?: Duration.DurationInput | undefined
  /** Bound of every Redis operation; past it the cache answers from memory. Default 100 ms. */
  readonly operationTimeout?: Duration.DurationInput | undefined
  /** How long a finished lease turns late arrivals away (see {@link Lease}). Default 1 second. */
  readonly leaseSettle?: Duration.DurationInput | undefined
  /** First and longest pause between polls of a lease held elsewhere. Default 25 ms and 200 ms. */
  readonly leasePollInitial?: Duration.DurationInput | undefined
  readonly leasePollMax?: Duration.DurationInput | undefined
  /** At most one warning of a kind per this interval. Default 10 seconds. */
  readonly warnInterval?: Duration.DurationInput | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Options extends RedisConnection.Options, CacheOptions {}

const AccessTokenJson = Schema.parseJson(TokenCache.AccessTokenEntry)
const AccountJson = Schema.parseJson(TokenCache.AccountEntry)
const RedemptionJson = Schema.parseJson(Schema.Struct({ homeAccountId: Schema.String }))
const decodeAccessToken = Schema.decodeUnknownEither(AccessTokenJson)
const decodeAccount = Schema.decodeUnknownEither(AccountJson)
const decodeRedemption = Schema.decodeUnknownEither(RedemptionJson)
const encodeAccessToken = Schema.encodeSync(AccessTokenJson)
const encodeAccount = Schema.encodeSync(AccountJson)
const encodeRedemption = Schema.encodeSync(RedemptionJson)

const millis = (input: Duration.DurationInput | undefined, fallback: Duration.DurationInput) =>
  Duration.toMillis(Duration.decode(input ?? fallback))

/** The account key is the first four fields of an access-token key (`account|authority|client|home`). */
const accountKeyOfToken = (tokenKey: string): string => {
  let index = -1
  for (let field = 0; field < 4; field++) {
    index = tokenKey.indexOf("|", index + 1)
    if (index === -1) return tokenKey
  }
  return tokenKey.slice(0, index)
}

const tokenKeyOfEntry = (accountKey: string, entry: TokenCache.AccessTokenEntry) =>
  `${accountKey}|${entry.tenantId.toLowerCase()}|${entry.cae ? "cae" : "std"}|${entry.scopes.join(" ")}`

/** Until then an L1 token is served without asking Redis: nobody renews a token in the first half of its life. */
const trustedUntil = (entry: TokenCache.AccessTokenEntry) => {
  const halfLife = entry.issuedOn + (entry.expiresOn - entry.issuedOn) / 2
  return entry.refreshOn === undefined ? halfLife : Math.min(entry.refreshOn, halfLife)
}

const isNewer = (candidate: TokenCache.AccessTokenEntry, than: TokenCache.AccessTokenEntry) =>
  candidate.issuedOn > than.issuedOn || (candidate.issuedOn === than.issuedOn && candidate.expiresOn > than.expiresOn)

const decodeKeys = (
  options: CacheOptions
): Either.Either<Encryption.Encryption, InvalidOptionError> => {
  if (options.encryptionKey === undefined) return Either.right(Encryption.none)
  const keys: Array<Buffer> = []
  for (const [index, input] of [options.encryptionKey, ...(options.previousEncryptionKeys ?? [])].entries()) {
    const decoded = Encryption.decodeKey(input)
    if (Either.isLeft(decoded)) {
      return Either.left(
        new InvalidOptionError({
          field: index === 0 ? "encryptionKey" : "previousEncryptionKeys",
          reason: decoded.left
        })
      )
    }
    keys.push(decoded.right)
  }
  return Either.right(Encryption.make(keys as [Buffer, ...Array<Buffer>]))
}

/**
 * The cache over an existing connection. Its reconnect listener is removed when the scope closes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeWithConnection = (
  connection: RedisConnection.Service,
  options: CacheOptions = {}
): Effect.Effect<TokenCache.Service, InvalidOptionError, Scope.Scope> =>
  Effect.gen(function*() {
    const encryption = yield* decodeKeys(options)
    const clock = yield* Effect.clock
    const memory = yield* TokenCache.makeMemory
    const namespace = options.namespace ?? "effect-entra:"
    const accountTtlMs = millis(options.accountTtl, "90 days")
    const warnings = Warnings.make(millis(options.warnInterval, "10 seconds"))
    const ops = Ops.make(connection, Duration.decode(options.operationTimeout ?? "100 millis"), warnings)
    const lease = Lease.make(ops, {
      namespace,
      settle: options.leaseSettle,
      pollInitial: options.leasePollInitial,
      pollMax: options.leasePollMax
    })
    const keys = {
      accessToken: (key: string) => `${namespace}at:${key}`,
      tokenIndex: (accountKey: string) => `${namespace}at-index:${accountKey}`,
      account: (key: string) => `${namespace}account:${key}`,
      removedAccount: (key: string) => `${namespace}removed:${key}`,
      accountIndex: `${namespace}accounts`,
      redemption: (codeKey: string) => `${namespace}code:${codeKey}`
    }

    const ignored = (redisKey: string, why: string) =>
      warnings.warn("invalid-entry", `Ignoring a Redis token cache entry: ${why}`).pipe(
        Effect.annotateLogs("redis.key", redisKey.slice(0, namespace.length + 16))
      )

    /** Opens (decrypts) and decodes a stored value; anything that does not check out is ignored with a warning. */
    const read = <A>(
      redisKey: string,
      stored: string | null | undefined,
      decode: (input: unknown) => Either.Either<A, unknown>
    ): Effect.Effect<Option.Option<A>> => {
      if (stored === null || stored === undefined) return Effect.succeedNone
      const opened = encryption.open(redisKey, stored)
      if (Option.isNone(opened)) {
        return Effect.as(
          ignored(
            redisKey,
            encryption.enabled ? "it does not decrypt for its key (tampered or moved)" : "it is encrypted"
          ),
          Option.none()
        )
      }
      // Never log the parse error: it quotes the offending values, which may be tokens.
      const decoded = decode(opened.value)
      return Either.isLeft(decoded)
        ? Effect.as(ignored(redisKey, "it does not match the schema"), Option.none())
        : Effect.succeed(Option.some(decoded.right))
    }

    const readAccount = (key: string, reply: ReadonlyArray<string | null> | null | undefined) =>
      Effect.gen(function*() {
        const redisKey = keys.account(key)
        const [version, payload] = reply ?? [null, null]
        if (payload === null || payload === undefined) return Option.none<TokenCache.AccountEntry>()
        const entry = yield* read(redisKey, payload, decodeAccount)
        if (Option.isSome(entry) && String(entry.value.version) === version) return entry
        if (Option.isSome(entry)) yield* ignored(redisKey, "its version field does not match its payload")
        // Drop it (unless a writer replaced it meanwhile) so the versioned write is not blocked by garbage.
        yield* ops.run("dropAccount", (client) => client.effectEntraDropAccountIf(redisKey, payload))
        return Option.none<TokenCache.AccountEntry>()
      })

    /** The account was removed elsewhere (a sign-out): this process forgets its copy and the account's tokens. */
    const forget = (accountKey: string) => memory.removeAccount(accountKey)

    /**
     * The token from Redis, and its account in the same round trip: a process that adopted another's redemption or
     * renewal thereby holds the newest refresh token in L1 too, and can go on alone if Redis goes away. `removed`
     * when the account was signed out (its removal marker is there): L1 has then been cleared.
     */
    const readAccessTokenL2 = (key: string) =>
      Effect.gen(function*() {
        const accountKey = accountKeyOfToken(key)
        const reply = yield* ops.run(
          "getAccessToken",
          (client) =>
            client.pipeline().get(keys.accessToken(key)).hmget(keys.account(accountKey), "v", "d").exists(
              keys.removedAccount(accountKey)
            ).exec()
        )
        if (Option.isNone(reply) || reply.value === null) return Option.none<TokenCache.AccessTokenEntry>()
        const [[tokenError, token], [accountError, account], [removedError, removed]] = reply.value as Array<
          [Error | null, unknown]
        >
        if (accountError === null && Array.isArray(account)) {
          const remote = yield* readAccount(accountKey, account as Array<string | null>)
          if (Option.isSome(remote)) yield* memory.setAccount(accountKey, remote.value)
          else if (removedError === null && removed === 1) {
            return yield* Effect.as(forget(accountKey), "removed" as const)
          }
        }
        if (tokenError !== null) return Option.none<TokenCache.AccessTokenEntry>()
        return yield* read(keys.accessToken(key), token as string | null, decodeAccessToken)
      })

    /**
     * The versioned write. `newSignIn` lets it clear a removal marker (when numbered above it). Replies 1 (stored),
     * 0 (refused: Redis holds the same or a newer version) or `-(removed + 1)` (refused: removed at `removed`).
     */
    const writeAccountL2 = (key: string, entry: TokenCache.AccountEntry, newSignIn = false) => {
      const redisKey = keys.account(key)
      const payload = encryption.seal(redisKey, encodeAccount(entry))
      return ops.run(
        "setAccount",
        (client) =>
          client.effectEntraSetAccount(
            redisKey,
            keys.accountIndex,
            keys.removedAccount(key),
            entry.version,
            payload,
            accountTtlMs,
            key,
            newSignIn ? "1" : "0"
          )
      )
    }
    const wasRemoved = (reply: Option.Option<number>) => Option.isSome(reply) && reply.value < 0

    const getAccessToken = (key: string): Effect.Effect<Option.Option<TokenCache.AccessTokenEntry>> =>
      Effect.suspend(() => {
        const local = memory.peekAccessToken(key)
        if (local !== undefined && clock.unsafeCurrentTimeMillis() < trustedUntil(local)) {
          return Effect.succeed(Option.some(local))
        }
        return Effect.flatMap(readAccessTokenL2(key), (remote) => {
          if (remote === "removed") return Effect.succeedNone
          if (Option.isNone(remote)) return Effect.succeed(Option.fromNullable(local))
          if (local !== undefined && !isNewer(remote.value, local)) return Effect.succeed(Option.some(local))
          return Effect.as(memory.setAccessToken(key, remote.value), remote)
        })
      })

    const setAccessToken = (key: string, entry: TokenCache.AccessTokenEntry): Effect.Effect<void> =>
      Effect.flatMap(memory.setAccessToken(key, entry), () => {
        const ttlMs = Math.floor(entry.expiresOn - clock.unsafeCurrentTimeMillis())
        if (ttlMs <= 0) return Effect.void
        const redisKey = keys.accessToken(key)
        const value = encryption.seal(redisKey, encodeAccessToken(entry))
        return ops.run(
          "setAccessToken",
          (client) =>
            client.effectEntraSetAccessToken(
              redisKey,
              keys.tokenIndex(accountKeyOfToken(key)),
              value,
              ttlMs,
              key,
              accountTtlMs
            )
        )
      })

    const getAccount = (key: string): Effect.Effect<Option.Option<TokenCache.AccountEntry>> =>
      Effect.gen(function*() {
        const reply = yield* ops.run("getAccount", (client) => client.hmget(keys.account(key), "v", "d"))
        const local = yield* memory.getAccount(key)
        if (Option.isNone(reply)) return local
        const remote = yield* readAccount(key, reply.value)
        if (Option.isSome(remote) && (Option.isNone(local) || remote.value.version >= local.value.version)) {
          if (Option.isNone(local) || remote.value.version > local.value.version) {
            yield* memory.setAccount(key, remote.value)
          }
          return remote
        }
        // Redis lost it (restart without persistence, eviction) or holds an older one: repair it from memory,
        // unless it was signed out (the write is refused on the removal marker): then forget it here too.
        if (Option.isSome(local) && wasRemoved(yield* writeAccountL2(key, local.value))) {
          yield* forget(key)
          return Option.none()
        }
        return local
      })

    const setAccount = (key: string, entry: TokenCache.AccountEntry): Effect.Effect<boolean> =>
      Effect.gen(function*() {
        // Version 1 is a new sign-in (the credential numbers an account it has no copy of from 1).
        const newSignIn = entry.version === 1
        const stored = yield* writeAccountL2(key, entry, newSignIn)
        if (Option.isNone(stored)) return yield* memory.setAccount(key, entry)
        if (stored.value === 1) return yield* Effect.as(memory.setAccount(key, entry), true)
        if (stored.value === 0) return false
        // Signed out elsewhere: drop this process's copy; a new sign-in is numbered above the removed version, so
        // every copy another process still holds is older than it.
        yield* forget(key)
        if (!newSignIn) return false
        const renumbered = { ...entry, version: -stored.value }
        const again = yield* writeAccountL2(key, renumbered, true)
        if (Option.isSome(again) && again.value !== 1) return false
        return yield* memory.setAccount(key, renumbered)
      })

    const removeAccount = (key: string): Effect.Effect<void> =>
      Effect.gen(function*() {
        const local = yield* memory.getAccount(key)
        yield* memory.removeAccount(key)
        const version = Option.match(local, { onNone: () => 0, onSome: (entry) => entry.version })
        yield* ops.run("removeAccount", async (client) => {
          await client.effectEntraRemoveAccount(
            keys.account(key),
            keys.removedAccount(key),
            keys.accountIndex,
            version,
            accountTtlMs,
            key
          )
          const members = await client.smembers(keys.tokenIndex(key))
          const multi = client.multi()
          for (const member of members) multi.del(keys.accessToken(member))
          await multi.del(keys.tokenIndex(key)).exec()
        })
      })

    const listAccounts: Effect.Effect<ReadonlyArray<TokenCache.AccountEntry>> = Effect.gen(function*() {
      const local = yield* memory.listAccounts
      const reply = yield* ops.run("listAccounts", async (client) => {
        const members = await client.smembers(keys.accountIndex)
        if (members.length === 0) return []
        const pipeline = client.pipeline()
        for (const member of members) pipeline.hmget(keys.account(member), "v", "d")
        const results = (await pipeline.exec()) ?? []
        return members.map((member, index) => {
          const [error, value] = results[index] ?? [null, null]
          return [member, error === null ? value as Array<string | null> : null] as const
        })
      })
      if (Option.isNone(reply)) return local
      const merged = new Map<string, TokenCache.AccountEntry>()
      const missing: Array<string> = []
      for (const [member, value] of reply.value) {
        const entry = yield* readAccount(member, value)
        if (Option.isSome(entry)) merged.set(member, entry.value)
        else missing.push(member)
      }
      if (missing.length > 0) yield* ops.run("pruneAccounts", (client) => client.srem(keys.accountIndex, ...missing))
      // Accounts only this process holds: signed out elsewhere (a removal marker) or lost by Redis.
      const localOnly = local.filter((entry) => !merged.has(TokenCache.accountKey(entry)))
      const markers = localOnly.length === 0 ? Option.some([]) : yield* ops.run(
        "listAccounts",
        (client) => client.mget(...localOnly.map((entry) => keys.removedAccount(TokenCache.accountKey(entry))))
      )
      for (const [index, entry] of localOnly.entries()) {
        const marker = Option.isSome(markers) ? markers.value[index] : null
        if (marker === null || marker === undefined) continue
        yield* forget(TokenCache.accountKey(entry))
      }
      for (const entry of yield* memory.listAccounts) {
        const key = TokenCache.accountKey(entry)
        const remote = merged.get(key)
        if (remote === undefined || remote.version < entry.version) merged.set(key, entry)
      }
      return Array.from(merged.values())
    })

    const listAccessTokens = (accountKey: string): Effect.Effect<ReadonlyArray<TokenCache.AccessTokenEntry>> =>
      Effect.gen(function*() {
        const local = yield* memory.listAccessTokens(accountKey)
        const index = keys.tokenIndex(accountKey)
        const reply = yield* ops.run("listAccessTokens", async (client) => {
          const members = await client.smembers(index)
          const values = members.length === 0 ? [] : await client.mget(...members.map(keys.accessToken))
          return members.map((member, i) => [member, values[i] ?? null] as const)
        })
        if (Option.isNone(reply)) return local
        const merged = new Map<string, TokenCache.AccessTokenEntry>()
        const missing: Array<string> = []
        for (const [member, value] of reply.value) {
          const entry = yield* read(keys.accessToken(member), value, decodeAccessToken)
          if (Option.isSome(entry)) merged.set(member, entry.value)
          else missing.push(member)
        }
        if (missing.length > 0) yield* ops.run("pruneAccessTokens", (client) => client.srem(index, ...missing))
        for (const entry of local) {
          const key = tokenKeyOfEntry(accountKey, entry)
          const remote = merged.get(key)
          if (remote === undefined || isNewer(entry, remote)) merged.set(key, entry)
        }
        return Array.from(merged.values())
      })

    const getRedemption = (codeKey: string): Effect.Effect<Option.Option<string>> =>
      Effect.flatMap(memory.getRedemption(codeKey), (local) => {
        if (Option.isSome(local)) return Effect.succeed(local)
        const redisKey = keys.redemption(codeKey)
        return ops.run("getRedemption", (client) => client.get(redisKey)).pipe(
          Effect.flatMap((reply) =>
            Option.isNone(reply) ? Effect.succeedNone : read(redisKey, reply.value, decodeRedemption)
          ),
          Effect.map(Option.map((record) => record.homeAccountId))
        )
      })

    const setRedemption = (codeKey: string, homeAccountId: string, ttl: Duration.Duration): Effect.Effect<void> =>
      Effect.zipRight(
        memory.setRedemption(codeKey, homeAccountId, ttl),
        Effect.suspend(() => {
          const redisKey = keys.redemption(codeKey)
          const ttlMs = Math.max(1, Math.ceil(Duration.toMillis(ttl)))
          const value = encryption.seal(redisKey, encodeRedemption({ homeAccountId }))
          return ops.run("setRedemption", (client) => client.set(redisKey, value, "PX", ttlMs))
        })
      )

    /**
     * After Redis comes back (possibly empty: a restart without persistence), put back what this process holds:
     * accounts through the versioned write, access tokens only where Redis has none.
     */
    const resync = Effect.gen(function*() {
      const now = clock.unsafeCurrentTimeMillis()
      for (const entry of yield* memory.listAccounts) {
        const accountKey = TokenCache.accountKey(entry)
        // Signed out elsewhere while this process was cut off: forget it rather than put it back.
        if (wasRemoved(yield* writeAccountL2(accountKey, entry))) {
          yield* forget(accountKey)
          continue
        }
        for (const token of yield* memory.listAccessTokens(accountKey)) {
          const key = tokenKeyOfEntry(accountKey, token)
          const ttlMs = Math.floor(token.expiresOn - now)
          if (ttlMs <= 0) continue
          const redisKey = keys.accessToken(key)
          const value = encryption.seal(redisKey, encodeAccessToken(token))
          yield* ops.run("resync", (client) =>
            client.multi().set(redisKey, value, "PX", ttlMs, "NX").sadd(keys.tokenIndex(accountKey), key).pexpire(
              keys.tokenIndex(accountKey),
              accountTtlMs
            ).exec())
        }
      }
    })
    const runtime = yield* Effect.runtime<never>()
    // Unregistered with the scope: on a shared connection a closed cache must not linger or push its accounts.
    yield* Effect.acquireRelease(
      Effect.sync(() =>
        connection.onReconnect(() =>
          Runtime.runFork(runtime)(resync)
        )
      ),
      (unregister) => Effect.sync(unregister)
    )

    return TokenCache.TokenCache.of({
      peekAccessToken: memory.peekAccessToken,
      getAccessToken,
      setAccessToken,
      getAccount,
      setAccount,
      removeAccount,
      listAccounts,
      listAccessTokens,
      getRedemption,
      setRedemption,
      withLease: lease.withLease
    })
  })

/**
 * Opens a connection (closed with the scope) and builds the cache on it.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: Options = {}
): Effect.Effect<TokenCache.Service, InvalidOptionError, Scope.Scope> =>
  Effect.flatMap(
    Effect.suspend(() => decodeKeys(options)),
    () => Effect.flatMap(RedisConnection.make(options), (connection) => makeWithConnection(connection, options))
  )

/**
 * The cache as a `TokenCache` layer with its own connection.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<TokenCache.TokenCache, InvalidOptionError> =>
  Layer.scoped(TokenCache.TokenCache, make(options))

/**
 * The cache on a connection provided separately (to share one connection).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerWithoutConnection = (
  options: CacheOptions = {}
): Layer.Layer<TokenCache.TokenCache, InvalidOptionError, RedisConnection.RedisConnection> =>
  Layer.scoped(
    TokenCache.TokenCache,
    Effect.flatMap(RedisConnection.RedisConnection, (connection) => makeWithConnection(connection, options))
  )

/**
 * The settings read from the environment: `REDIS_URL` (default `redis://127.0.0.1:6379`; `rediss://` for TLS),
 * `REDIS_USERNAME`, `REDIS_PASSWORD`, `EFFECT_ENTRA_REDIS_KEY` (encryption key), `EFFECT_ENTRA_REDIS_NAMESPACE`,
 * `EFFECT_ENTRA_REDIS_TIMEOUT` and `EFFECT_ENTRA_REDIS_ACCOUNT_TTL` (durations, e.g. `100 millis`, `90 days`).
 * The URL, the password and the key are read with `Config.redacted`.
 *
 * @since 0.1.0
 * @category config
 */
export const config: Config.Config<Options> = Config.all({
  url: Config.withDefault(Config.redacted("REDIS_URL"), Redacted.make("redis://127.0.0.1:6379")),
  username: Config.option(Config.string("REDIS_USERNAME")),
  password: Config.option(Config.redacted("REDIS_PASSWORD")),
  encryptionKey: Config.option(Config.redacted("EFFECT_ENTRA_REDIS_KEY")),
  namespace: Config.withDefault(Config.string("EFFECT_ENTRA_REDIS_NAMESPACE"), "effect-entra:"),
  operationTimeout: Config.option(Config.duration("EFFECT_ENTRA_REDIS_TIMEOUT")),
  accountTtl: Config.option(Config.duration("EFFECT_ENTRA_REDIS_ACCOUNT_TTL"))
}).pipe(Config.map((c): Options => ({
  url: c.url,
  namespace: c.namespace,
  username: Option.getOrUndefined(c.username),
  password: Option.getOrUndefined(c.password),
  encryptionKey: Option.getOrUndefined(c.encryptionKey),
  operationTimeout: Option.getOrUndefined(c.operationTimeout),
  accountTtl: Option.getOrUndefined(c.accountTtl)
})))

/**
 * The cache from configuration: {@link config} by default, or any `Config` of the options.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options: Config.Config.Wrap<Options> = config
): Layer.Layer<TokenCache.TokenCache, InvalidOptionError | ConfigError.ConfigError> =>
  Layer.unwrapEffect(Effect.map(Config.unwrap(options), layer))
