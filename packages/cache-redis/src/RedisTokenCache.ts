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
 * - With an encryption key every value is sealed with AES-256-GCM, bound to its Redis key. An entry this process
 *   cannot open (sealed with a key it does not hold, or encrypted while it has none) is a miss for this process:
 *   it is never removed, and an account sealed so is never overwritten by it (a rate-limited warning names the
 *   keys by their ids). Replicas can thus roll to a new key (`previousEncryptionKeys`) without signing anyone out.
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
import type * as Scope from "effect/Scope"
import * as Encryption from "./Encryption.js"
import * as AccessTokens from "./internal/accessTokens.js"
import * as Accounts from "./internal/accounts.js"
import * as Entries from "./internal/entries.js"
import * as Ops from "./internal/ops.js"
import * as Resync from "./internal/resync.js"
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

const millis = (input: Duration.DurationInput | undefined, fallback: Duration.DurationInput) =>
  Duration.toMillis(Duration.decode(input ?? fallback))

/** The decoded keys, current first (empty without encryption). */
const decodeKeys = (options: CacheOptions): Either.Either<ReadonlyArray<Buffer>, InvalidOptionError> => {
  if (options.encryptionKey === undefined) return Either.right([])
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
  return Either.right(keys)
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
    const decodedKeys = yield* decodeKeys(options)
    const namespace = options.namespace ?? "effect-entra:"
    const warnings = Warnings.make(millis(options.warnInterval, "10 seconds"))
    const ops = Ops.make(connection, Duration.decode(options.operationTimeout ?? "100 millis"), warnings)
    const store: Entries.Store = {
      memory: yield* TokenCache.makeMemory,
      ops,
      encryption: decodedKeys.length === 0
        ? Encryption.none
        : Encryption.make(decodedKeys as unknown as readonly [Buffer, ...Array<Buffer>]),
      keyIds: Entries.keyIdsOf(decodedKeys),
      keys: Entries.makeKeys(namespace),
      namespace,
      accountTtlMs: millis(options.accountTtl, "90 days"),
      clock: yield* Effect.clock
    }
    const reader = Entries.makeReader(store)
    const accounts = Accounts.make(store, reader)
    const tokens = AccessTokens.make(store, reader, accounts)
    const lease = Lease.make(ops, {
      namespace,
      settle: options.leaseSettle,
      pollInitial: options.leasePollInitial,
      pollMax: options.leasePollMax
    })
    const resync = Resync.make(store, accounts)
    const runtime = yield* Effect.runtime<never>()
    // Unregistered with the scope: on a shared connection a closed cache must not linger or push its accounts.
    yield* Effect.acquireRelease(
      Effect.sync(() => connection.onReconnect(() => Runtime.runFork(runtime)(resync))),
      (unregister) => Effect.sync(unregister)
    )

    return TokenCache.TokenCache.of({
      peekAccessToken: store.memory.peekAccessToken,
      getAccessToken: tokens.getAccessToken,
      setAccessToken: tokens.setAccessToken,
      getAccount: accounts.getAccount,
      setAccount: accounts.setAccount,
      removeAccount: accounts.removeAccount,
      listAccounts: accounts.listAccounts,
      listAccessTokens: tokens.listAccessTokens,
      getRedemption: tokens.getRedemption,
      setRedemption: tokens.setRedemption,
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
