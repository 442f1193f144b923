/**
 * Access tokens and redeemed-code records: L1 first, Redis behind it. A token is trusted from L1 in the first
 * half of its life; after that it is read from Redis with its account in one round trip, so a token another
 * process renewed is adopted, with the newest refresh token.
 *
 * @internal
 */
import * as TokenCache from "@effect-entra/identity/TokenCache"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { accountFields, type AccountReply, type Accounts } from "./accounts.js"
import { codecs, isNewer, type Reader, type Store, trustedUntil } from "./entries.js"

/**
 * The token from Redis, and its account in the same round trip: a process that adopted another's redemption or
 * renewal thereby holds the newest refresh token in L1 too, and can go on alone if Redis goes away. `removed`
 * when the account was signed out (its removal marker is there): L1 has then been cleared.
 */
const readAccessTokenL2 = (store: Store, reader: Reader, accounts: Accounts) => (key: string) =>
  Effect.gen(function*() {
    const { keys, memory, ops } = store
    const accountKey = TokenCache.accountKeyOfToken(key)
    const reply = yield* ops.run(
      "getAccessToken",
      (client) =>
        client.pipeline().get(keys.accessToken(key)).hmget(keys.account(accountKey), ...accountFields).exists(
          keys.removedAccount(accountKey)
        ).exec()
    )
    if (Option.isNone(reply) || reply.value === null) return Option.none<TokenCache.AccessTokenEntry>()
    const [[tokenError, token], [accountError, account], [removedError, removed]] = reply.value as Array<
      [Error | null, unknown]
    >
    if (accountError === null && Array.isArray(account)) {
      const remote = yield* accounts.readAccount(accountKey, account as AccountReply)
      if (Option.isSome(remote)) yield* memory.setAccount(accountKey, remote.value)
      else if (removedError === null && removed === 1) {
        return yield* Effect.as(accounts.forget(accountKey), "removed" as const)
      }
    }
    if (tokenError !== null) return Option.none<TokenCache.AccessTokenEntry>()
    return yield* reader.read(keys.accessToken(key), token as string | null, codecs.decodeAccessToken)
  })

/** Redis's tokens of an account merged with this process's, the newer of each. */
const listAccessTokens =
  (store: Store, reader: Reader) => (accountKey: string): Effect.Effect<ReadonlyArray<TokenCache.AccessTokenEntry>> =>
    Effect.gen(function*() {
      const { keys, memory, ops } = store
      const local = yield* memory.listAccessTokens(accountKey)
      const index = keys.tokenIndex(accountKey)
      const reply = yield* ops.run("listAccessTokens", async (client) => {
        const members = await client.smembers(index)
        const values = members.length === 0 ? [] : await client.mget(...members.map(keys.accessToken))
        return members.map((member, i) => [member, values[i] ?? null] as const)
      })
      if (Option.isNone(reply)) return local
      const merged = new Map<string, TokenCache.AccessTokenEntry>()
      // Only expired members are pruned: a token this process cannot open stays indexed for the others.
      const expired: Array<string> = []
      for (const [member, value] of reply.value) {
        if (value === null) expired.push(member)
        const entry = yield* reader.read(keys.accessToken(member), value, codecs.decodeAccessToken)
        if (Option.isSome(entry)) merged.set(member, entry.value)
      }
      if (expired.length > 0) yield* ops.run("pruneAccessTokens", (client) => client.srem(index, ...expired))
      for (const entry of local) {
        const key = TokenCache.accessTokenKeyOfEntry(accountKey, entry)
        const remote = merged.get(key)
        if (remote === undefined || isNewer(entry, remote)) merged.set(key, entry)
      }
      return Array.from(merged.values())
    })

/** Redeemed-code records: L1, then Redis. */
const redemptions = (store: Store, reader: Reader) => {
  const { encryption, keys, memory, ops } = store
  const getRedemption = (codeKey: string): Effect.Effect<Option.Option<string>> =>
    Effect.flatMap(memory.getRedemption(codeKey), (local) => {
      if (Option.isSome(local)) return Effect.succeed(local)
      const redisKey = keys.redemption(codeKey)
      return ops.run("getRedemption", (client) => client.get(redisKey)).pipe(
        Effect.flatMap((reply) =>
          Option.isNone(reply) ? Effect.succeedNone : reader.read(redisKey, reply.value, codecs.decodeRedemption)
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
        const value = encryption.seal(redisKey, codecs.encodeRedemption({ homeAccountId }))
        return ops.run("setRedemption", (client) => client.set(redisKey, value, "PX", ttlMs))
      })
    )

  return { getRedemption, setRedemption }
}

/** @internal */
export const make = (store: Store, reader: Reader, accounts: Accounts) => {
  const { clock, encryption, keys, memory, ops } = store
  const readAccessTokenL2FromRedis = readAccessTokenL2(store, reader, accounts)

  const getAccessToken = (key: string): Effect.Effect<Option.Option<TokenCache.AccessTokenEntry>> =>
    Effect.suspend(() => {
      const local = memory.peekAccessToken(key)
      if (local !== undefined && clock.unsafeCurrentTimeMillis() < trustedUntil(local)) {
        return Effect.succeed(Option.some(local))
      }
      return Effect.flatMap(readAccessTokenL2FromRedis(key), (remote) => {
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
      const value = encryption.seal(redisKey, codecs.encodeAccessToken(entry))
      return ops.run(
        "setAccessToken",
        (client) =>
          client.effectEntraSetAccessToken(
            redisKey,
            keys.tokenIndex(TokenCache.accountKeyOfToken(key)),
            value,
            ttlMs,
            key,
            store.accountTtlMs
          )
      )
    })

  return {
    getAccessToken,
    setAccessToken,
    listAccessTokens: listAccessTokens(store, reader),
    ...redemptions(store, reader)
  }
}
