/**
 * What every part of the Redis cache shares: the Redis keys, the codecs, and opening a stored value, which tells
 * an entry this process cannot open (sealed with a key it does not hold) from one that is broken.
 *
 * @internal
 */
import * as CacheEncryption from "@effect-entra/identity/CacheEncryption"
import * as RefreshPolicy from "@effect-entra/identity/RefreshPolicy"
import * as TokenCache from "@effect-entra/identity/TokenCache"
import type * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type * as Encryption from "../Encryption.js"
import type * as Ops from "./ops.js"

const AccessTokenJson = Schema.parseJson(TokenCache.AccessTokenEntry)
const AccountJson = Schema.parseJson(TokenCache.AccountEntry)
const RedemptionJson = Schema.parseJson(Schema.Struct({ homeAccountId: Schema.String }))

/** @internal */
export const codecs = {
  decodeAccessToken: Schema.decodeUnknownEither(AccessTokenJson),
  decodeAccount: Schema.decodeUnknownEither(AccountJson),
  decodeRedemption: Schema.decodeUnknownEither(RedemptionJson),
  encodeAccessToken: Schema.encodeSync(AccessTokenJson),
  encodeAccount: Schema.encodeSync(AccountJson),
  encodeRedemption: Schema.encodeSync(RedemptionJson)
}

// Nobody renews a token before half its life (or Entra's `refresh_in`) under the credential's default policy, whose
// floor is this one.
const earliestRenewal = RefreshPolicy.atFractionOfLifetime(0.5)

/**
 * Until then an L1 token is served without asking Redis: no process renews it earlier under the default policy.
 *
 * @internal
 */
export const trustedUntil = (entry: TokenCache.AccessTokenEntry) => earliestRenewal.renewAt(entry)

/** @internal */
export const isNewer = (candidate: TokenCache.AccessTokenEntry, than: TokenCache.AccessTokenEntry) =>
  candidate.issuedOn > than.issuedOn || (candidate.issuedOn === than.issuedOn && candidate.expiresOn > than.expiresOn)

/** @internal */
export const makeKeys = (namespace: string) => ({
  accessToken: (key: string) => `${namespace}at:${key}`,
  tokenIndex: (accountKey: string) => `${namespace}at-index:${accountKey}`,
  account: (key: string) => `${namespace}account:${key}`,
  removedAccount: (key: string) => `${namespace}removed:${key}`,
  accountIndex: `${namespace}accounts`,
  redemption: (codeKey: string) => `${namespace}code:${codeKey}`
})

/** @internal */
export type Keys = ReturnType<typeof makeKeys>

/**
 * The keys this process can open with, as the account script compares them: `,id1,id2,` (`plain` without a key).
 * An account sealed with a key outside this list is never overwritten by this process.
 *
 * @internal
 */
export interface KeyIds {
  /** Written beside an account: the id of the key that sealed it. */
  readonly sealing: string
  readonly readable: string
}

/** @internal */
export const keyIdsOf = (keys: ReadonlyArray<Uint8Array>): KeyIds =>
  keys.length === 0
    ? { sealing: "plain", readable: ",plain," }
    : { sealing: CacheEncryption.keyId(keys[0]), readable: `,${keys.map(CacheEncryption.keyId).join(",")},` }

/** Everything the cache's parts are built over. @internal */
export interface Store {
  readonly memory: TokenCache.Service
  readonly ops: Ops.Ops
  readonly encryption: Encryption.Encryption
  readonly keyIds: KeyIds
  readonly keys: Keys
  readonly namespace: string
  readonly accountTtlMs: number
  readonly clock: Clock.Clock
}

/**
 * A stored value: `Found`, `Sealed` (this process cannot open it: another key, or none; never this process's to
 * remove or replace) or `Invalid` (it opened but is not an entry: corrupted or foreign).
 *
 * @internal
 */
export type Stored<A> =
  | { readonly _tag: "Found"; readonly value: A }
  | { readonly _tag: "Sealed" }
  | { readonly _tag: "Invalid" }

/** @internal */
export const makeReader = (store: Store) => {
  const { encryption, namespace, ops } = store
  const shortKey = (redisKey: string) => redisKey.slice(0, namespace.length + 16)

  const invalid = (redisKey: string, why: string) =>
    ops.warnings.warn("invalid-entry", `Ignoring a Redis token cache entry: ${why}`).pipe(
      Effect.annotateLogs("redis.key", shortKey(redisKey))
    )

  /** Names this process's key by its id (a fingerprint), never the key; `sealedWith` when the entry says so. */
  const sealed = (redisKey: string, sealedWith: string | undefined) =>
    ops.warnings.warn(
      "unreadable-entry",
      encryption.enabled
        ? "Ignoring a Redis token cache entry this process cannot open (sealed with a key it does not hold, or " +
          "tampered); it is left in place for the processes that hold the key"
        : "Ignoring an encrypted Redis token cache entry: this process has no encryptionKey; it is left in place"
    ).pipe(Effect.annotateLogs({
      "redis.key": shortKey(redisKey),
      "redis.keyId": encryption.keyId ?? "none",
      ...(sealedWith === undefined ? {} : { "redis.entryKeyId": sealedWith })
    }))

  /** Opens (decrypts) and decodes a stored value. Never logs a parse error: it quotes values, maybe tokens. */
  const inspect = <A>(
    redisKey: string,
    stored: string,
    decode: (input: unknown) => Either.Either<A, unknown>,
    sealedWith?: string
  ): Effect.Effect<Stored<A>> => {
    const opened = encryption.open(redisKey, stored)
    if (Option.isNone(opened)) return Effect.as(sealed(redisKey, sealedWith), { _tag: "Sealed" } as const)
    const decoded = decode(opened.value)
    return Either.isLeft(decoded)
      ? Effect.as(invalid(redisKey, "it does not match the schema"), { _tag: "Invalid" } as const)
      : Effect.succeed({ _tag: "Found", value: decoded.right } as const)
  }

  /** The value, or `None` for anything absent or that does not check out (a miss for this process). */
  const read = <A>(
    redisKey: string,
    stored: string | null | undefined,
    decode: (input: unknown) => Either.Either<A, unknown>
  ): Effect.Effect<Option.Option<A>> =>
    stored === null || stored === undefined
      ? Effect.succeedNone
      : Effect.map(inspect(redisKey, stored, decode), (r) => r._tag === "Found" ? Option.some(r.value) : Option.none())

  return { inspect, read, invalid }
}

/** @internal */
export type Reader = ReturnType<typeof makeReader>
