/**
 * Where credentials keep access tokens, accounts (with their refresh token) and redeemed-code records.
 *
 * The interface is asynchronous and never fails: a backend that cannot read or write (a file, Redis) logs a
 * warning and answers "nothing cached", so no token request fails because the cache did. Account writes are
 * versioned compare-and-swap, so an older refresh token never overwrites a newer one. `withLease` lets a
 * distributed backend make one process among many redeem or refresh a given key.
 *
 * Keys are built with {@link accessTokenKey} and {@link accountKey} and contain no secret.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type { InvalidOptionError } from "./AuthenticationError.js"
import { normalizeScopes } from "./internal/scopes.js"

/**
 * A cached access token.
 *
 * @since 0.1.0
 * @category models
 */
export const AccessTokenEntry = Schema.Struct({
  token: Schema.Redacted(Schema.String),
  tokenType: Schema.String,
  /** Epoch ms when the request that produced it was sent (MSAL's rule: lifetimes count from the request). */
  issuedOn: Schema.Number,
  /** Epoch ms. */
  expiresOn: Schema.Number,
  /** Epoch ms from Entra's `refresh_in`, when it sent one. */
  refreshOn: Schema.optional(Schema.Number),
  /** The scopes the token was requested for, canonical (lower-case, sorted). */
  scopes: Schema.Array(Schema.String),
  tenantId: Schema.String,
  homeAccountId: Schema.String,
  cae: Schema.Boolean
})

/**
 * @since 0.1.0
 * @category models
 */
export interface AccessTokenEntry extends Schema.Schema.Type<typeof AccessTokenEntry> {}

/**
 * A signed-in account and its refresh token.
 *
 * @since 0.1.0
 * @category models
 */
export const AccountEntry = Schema.Struct({
  /** MSAL's home account id, `{uid}.{utid}` from `client_info`. */
  homeAccountId: Schema.String,
  /** The authority the account signed in with, e.g. `https://login.microsoftonline.com`. */
  authority: Schema.String,
  clientId: Schema.String,
  /** The home tenant of the account. */
  tenantId: Schema.String,
  username: Schema.optional(Schema.String),
  name: Schema.optional(Schema.String),
  refreshToken: Schema.optional(Schema.Redacted(Schema.String)),
  /** Grows by one with every write; a write with a version not above the stored one is refused. */
  version: Schema.Number,
  /** Epoch ms. */
  updatedOn: Schema.Number
})

/**
 * @since 0.1.0
 * @category models
 */
export interface AccountEntry extends Schema.Schema.Type<typeof AccountEntry> {}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /**
   * The in-process copy of an access token, read synchronously, for the cached hot path. A backend with no
   * in-process level returns `undefined` and the caller falls back to {@link Service.getAccessToken}.
   */
  readonly peekAccessToken: (key: string) => AccessTokenEntry | undefined
  readonly getAccessToken: (key: string) => Effect.Effect<Option.Option<AccessTokenEntry>>
  readonly setAccessToken: (key: string, entry: AccessTokenEntry) => Effect.Effect<void>
  readonly getAccount: (key: string) => Effect.Effect<Option.Option<AccountEntry>>
  /** Stores the entry unless the stored one has the same or a higher `version`; tells whether it was stored. */
  readonly setAccount: (key: string, entry: AccountEntry) => Effect.Effect<boolean>
  /** Removes the account, its refresh token and every access token cached for it. */
  readonly removeAccount: (key: string) => Effect.Effect<void>
  readonly listAccounts: Effect.Effect<ReadonlyArray<AccountEntry>>
  readonly listAccessTokens: (accountKey: string) => Effect.Effect<ReadonlyArray<AccessTokenEntry>>
  /** Which account a (hashed) authorization code was redeemed for, so no other process redeems it again. */
  readonly getRedemption: (codeKey: string) => Effect.Effect<Option.Option<string>>
  readonly setRedemption: (codeKey: string, homeAccountId: string, ttl: Duration.Duration) => Effect.Effect<void>
  /**
   * Runs `effect` while holding the lease on `key` among every user of this cache. When another holder has it,
   * waits until it is released or expires and returns `None`, so the caller reads the cache again.
   */
  readonly withLease: <A, E>(
    key: string,
    ttl: Duration.Duration,
    effect: Effect.Effect<A, E>
  ) => Effect.Effect<Option.Option<A>, E>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class TokenCache extends Context.Tag("@effect-entra/identity/TokenCache")<TokenCache, Service>() {}

/**
 * What partitions an account: the authority, the app and the account.
 *
 * @since 0.1.0
 * @category keys
 */
export interface AccountKeyParts {
  readonly authority: string
  readonly clientId: string
  readonly homeAccountId: string
}

/**
 * What partitions an access token: the account's parts plus tenant, CAE and the canonical scope set.
 *
 * @since 0.1.0
 * @category keys
 */
export interface AccessTokenKeyParts extends AccountKeyParts {
  readonly tenantId: string
  readonly cae: boolean
  /** Canonical scopes: see {@link canonicalScopes}. */
  readonly scopes: string
}

/**
 * @since 0.1.0
 * @category keys
 */
export const accountKey = (parts: AccountKeyParts): string =>
  `account|${parts.authority.toLowerCase()}|${parts.clientId.toLowerCase()}|${parts.homeAccountId.toLowerCase()}`

/**
 * The access-token key starts with its account key, so an account's tokens can be found and removed together.
 *
 * @since 0.1.0
 * @category keys
 */
export const accessTokenKey = (parts: AccessTokenKeyParts): string =>
  tokenKeyUnder(accountKey(parts), parts.tenantId, parts.cae, parts.scopes)

const tokenKeyUnder = (accountKey: string, tenantId: string, cae: boolean, scopes: string): string =>
  `${accountKey}|${tenantId.toLowerCase()}|${cae ? "cae" : "std"}|${scopes}`

/**
 * The account key an access-token key starts with (see {@link accessTokenKey}): for a cache backend that stores
 * an account's tokens beside it without parsing keys itself.
 *
 * @since 0.1.0
 * @category keys
 */
export const accountKeyOfToken = (tokenKey: string): string => {
  // The account key is the first four `|`-separated fields: `account|authority|client|home account`.
  let index = -1
  for (let field = 0; field < 4; field++) {
    index = tokenKey.indexOf("|", index + 1)
    if (index === -1) return tokenKey
  }
  return tokenKey.slice(0, index)
}

/**
 * The key a cached access token was stored under, rebuilt from its account's key and the entry (whose scopes are
 * canonical): `accessTokenKeyOfEntry(accountKeyOfToken(key), entry) === key` for every entry the credential writes.
 *
 * @since 0.1.0
 * @category keys
 */
export const accessTokenKeyOfEntry = (accountKey: string, entry: AccessTokenEntry): string =>
  tokenKeyUnder(accountKey, entry.tenantId, entry.cae, entry.scopes.join(" "))

/**
 * The scope set as a key: lower-cased, de-duplicated, sorted, space-joined. Order and case do not matter.
 *
 * @since 0.1.0
 * @category keys
 */
export const canonicalScopes = (scopes: ReadonlyArray<string>): string => {
  if (scopes.length === 1) return scopes[0].toLowerCase()
  return Array.from(new Set(scopes.map((scope) => scope.toLowerCase()))).sort().join(" ")
}

/**
 * Scopes as callers give them (one string, a space-separated string, or a list): trimmed and de-duplicated in
 * order, the way the credential reads a `getToken` call's scopes. An empty or non-string scope, or none at all,
 * is an `InvalidOptionError`.
 *
 * @since 0.1.0
 * @category keys
 */
export const parseScopes: (
  scopes: string | ReadonlyArray<string>
) => ReadonlyArray<string> | InvalidOptionError = normalizeScopes

/**
 * An in-memory cache: O(1) `Map` lookups, expired access tokens swept as new ones are written.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeMemory: Effect.Effect<Service> = Effect.clockWith((clock) =>
  Effect.sync(() => {
    const accessTokens = new Map<string, AccessTokenEntry>()
    const accounts = new Map<string, AccountEntry>()
    const redemptions = new Map<string, { readonly homeAccountId: string; readonly expiresOn: number }>()
    // Sweep expired tokens once per `sweepEvery` writes: amortised O(1), and the hot path never pays for it.
    let writesSinceSweep = 0
    const sweepEvery = 1024
    const sweep = (now: number) => {
      for (const [key, entry] of accessTokens) if (entry.expiresOn <= now) accessTokens.delete(key)
      for (const [key, entry] of redemptions) if (entry.expiresOn <= now) redemptions.delete(key)
    }

    return TokenCache.of({
      peekAccessToken: (key) => accessTokens.get(key),
      getAccessToken: (key) => Effect.sync(() => Option.fromNullable(accessTokens.get(key))),
      setAccessToken: (key, entry) =>
        Effect.sync(() => {
          accessTokens.set(key, entry)
          if (++writesSinceSweep >= sweepEvery) {
            writesSinceSweep = 0
            sweep(clock.unsafeCurrentTimeMillis())
          }
        }),
      getAccount: (key) => Effect.sync(() => Option.fromNullable(accounts.get(key))),
      setAccount: (key, entry) =>
        Effect.sync(() => {
          const current = accounts.get(key)
          if (current !== undefined && current.version >= entry.version) return false
          accounts.set(key, entry)
          return true
        }),
      removeAccount: (key) =>
        Effect.sync(() => {
          accounts.delete(key)
          const prefix = `${key}|`
          for (const tokenKey of accessTokens.keys()) if (tokenKey.startsWith(prefix)) accessTokens.delete(tokenKey)
        }),
      listAccounts: Effect.sync(() => Array.from(accounts.values())),
      listAccessTokens: (key) =>
        Effect.sync(() => {
          const prefix = `${key}|`
          const result: Array<AccessTokenEntry> = []
          for (const [tokenKey, entry] of accessTokens) if (tokenKey.startsWith(prefix)) result.push(entry)
          return result
        }),
      getRedemption: (codeKey) =>
        Effect.sync(() => {
          const entry = redemptions.get(codeKey)
          return entry !== undefined && entry.expiresOn > clock.unsafeCurrentTimeMillis()
            ? Option.some(entry.homeAccountId)
            : Option.none()
        }),
      setRedemption: (codeKey, homeAccountId, ttl) =>
        Effect.sync(() => {
          redemptions.set(codeKey, {
            homeAccountId,
            expiresOn: clock.unsafeCurrentTimeMillis() + Duration.toMillis(ttl)
          })
        }),
      // One process: the credential's own single-flight already serialises work per key.
      withLease: (_key, _ttl, effect) => Effect.asSome(effect)
    })
  })
)

/**
 * A fresh in-memory cache. Provide one instance to several credentials to share it (tokens stay partitioned by
 * authority, app, account, tenant and scopes).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory: Layer.Layer<TokenCache> = Layer.effect(TokenCache, makeMemory)
