/**
 * Accounts (and their refresh tokens) in Redis: a hash `{ v: version, d: sealed entry, k: id of the sealing key }`
 * written by the versioned compare-and-swap script, read from Redis first (it is the arbiter) and from L1 when
 * Redis cannot answer. A sign-out leaves a removal marker that refuses older copies. An account this process
 * cannot open (sealed with a key it does not hold) is a miss here and is neither removed nor replaced.
 *
 * @internal
 */
import * as TokenCache from "@effect-entra/identity/TokenCache"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { codecs, type Reader, type Store } from "./entries.js"

/** What the account script answered: stored, refused as older, refused as sealed with another key, or removed. */
const Stored = 1
const Older = 0
const SealedElsewhere = 2

/** @internal */
export type AccountReply = ReadonlyArray<string | null> | null | undefined

/** The fields read with every account. @internal */
export const accountFields = ["v", "d", "k"] as const

/** What the account operations share. */
interface Context {
  readonly store: Store
  readonly reader: Reader
}

const readAccount = ({ reader, store }: Context, key: string, reply: AccountReply) =>
  Effect.gen(function*() {
    const { keys, ops } = store
    const redisKey = keys.account(key)
    const [version, payload, sealedWith] = reply ?? [null, null, null]
    if (payload === null || payload === undefined) return Option.none<TokenCache.AccountEntry>()
    const stored = yield* reader.inspect(redisKey, payload, codecs.decodeAccount, sealedWith ?? undefined)
    // Another key's entry: a miss for this process, and the processes holding that key still need it.
    if (stored._tag === "Sealed") return Option.none<TokenCache.AccountEntry>()
    if (stored._tag === "Found" && String(stored.value.version) === version) return Option.some(stored.value)
    if (stored._tag === "Found") yield* reader.invalid(redisKey, "its version field does not match its payload")
    // It opened and is broken: drop it (unless a writer replaced it meanwhile) so it cannot block the versioned
    // write.
    yield* ops.run("dropAccount", (client) => client.effectEntraDropAccountIf(redisKey, payload))
    return Option.none<TokenCache.AccountEntry>()
  })

/** The account was removed elsewhere (a sign-out): this process forgets its copy and the account's tokens. */
const forget = (store: Store, accountKey: string) => store.memory.removeAccount(accountKey)

/**
 * The versioned write. `newSignIn` lets it clear a removal marker (when numbered above it). Replies 1 (stored),
 * 0 (refused: Redis holds the same or a newer version), 2 (refused: Redis holds it sealed with a key this
 * process does not have) or `-(removed + 1)` (refused: removed at `removed`).
 */
const writeAccountL2 = (store: Store, key: string, entry: TokenCache.AccountEntry, newSignIn = false) => {
  const { encryption, keyIds, keys, ops } = store
  const redisKey = keys.account(key)
  const payload = encryption.seal(redisKey, codecs.encodeAccount(entry))
  return ops.run(
    "setAccount",
    (client) =>
      client.effectEntraSetAccount(
        redisKey,
        keys.accountIndex,
        keys.removedAccount(key),
        entry.version,
        payload,
        store.accountTtlMs,
        key,
        newSignIn ? "1" : "0",
        keyIds.sealing,
        keyIds.readable
      )
  )
}
const wasRemoved = (reply: Option.Option<number>) => Option.isSome(reply) && reply.value < 0

const getAccount = (context: Context, key: string): Effect.Effect<Option.Option<TokenCache.AccountEntry>> =>
  Effect.gen(function*() {
    const { keys, memory, ops } = context.store
    const reply = yield* ops.run("getAccount", (client) => client.hmget(keys.account(key), ...accountFields))
    const local = yield* memory.getAccount(key)
    if (Option.isNone(reply)) return local
    const remote = yield* readAccount(context, key, reply.value)
    if (Option.isSome(remote) && (Option.isNone(local) || remote.value.version >= local.value.version)) {
      if (Option.isNone(local) || remote.value.version > local.value.version) {
        yield* memory.setAccount(key, remote.value)
      }
      return remote
    }
    // Redis lost it (restart without persistence, eviction) or holds an older one: repair it from memory,
    // unless it was signed out (the write is refused on the removal marker): then forget it here too. An entry
    // sealed with another key refuses the repair (the script checks its key id).
    if (Option.isSome(local) && wasRemoved(yield* writeAccountL2(context.store, key, local.value))) {
      yield* forget(context.store, key)
      return Option.none()
    }
    return local
  })

const setAccount = (store: Store, key: string, entry: TokenCache.AccountEntry): Effect.Effect<boolean> =>
  Effect.gen(function*() {
    const { memory } = store
    // Version 1 is a new sign-in (the credential numbers an account it has no copy of from 1).
    const newSignIn = entry.version === 1
    const stored = yield* writeAccountL2(store, key, entry, newSignIn)
    if (Option.isNone(stored)) return yield* memory.setAccount(key, entry)
    if (stored.value === Stored) return yield* Effect.as(memory.setAccount(key, entry), true)
    if (stored.value === Older) return false
    // Redis holds it under a key this process cannot open: keep this process's copy, as if Redis were away.
    if (stored.value === SealedElsewhere) return yield* memory.setAccount(key, entry)
    // Signed out elsewhere: drop this process's copy; a new sign-in is numbered above the removed version, so
    // every copy another process still holds is older than it.
    yield* forget(store, key)
    if (!newSignIn) return false
    const renumbered = { ...entry, version: -stored.value }
    const again = yield* writeAccountL2(store, key, renumbered, true)
    if (Option.isSome(again) && again.value !== Stored) return false
    return yield* memory.setAccount(key, renumbered)
  })

const removeAccount = (store: Store, key: string): Effect.Effect<void> =>
  Effect.gen(function*() {
    const { keys, memory, ops } = store
    const local = yield* memory.getAccount(key)
    yield* memory.removeAccount(key)
    const version = Option.match(local, { onNone: () => 0, onSome: (entry) => entry.version })
    yield* ops.run("removeAccount", async (client) => {
      await client.effectEntraRemoveAccount(
        keys.account(key),
        keys.removedAccount(key),
        keys.accountIndex,
        version,
        store.accountTtlMs,
        key
      )
      const members = await client.smembers(keys.tokenIndex(key))
      const multi = client.multi()
      for (const member of members) multi.del(keys.accessToken(member))
      await multi.del(keys.tokenIndex(key)).exec()
    })
  })

/** The namespace's accounts as Redis holds them; `null` for a member whose hash is gone (expired). */
const readIndex = ({ keys, ops }: Store) =>
  ops.run("listAccounts", async (client) => {
    const members = await client.smembers(keys.accountIndex)
    if (members.length === 0) return []
    const pipeline = client.pipeline()
    for (const member of members) pipeline.hmget(keys.account(member), ...accountFields)
    const results = (await pipeline.exec()) ?? []
    return members.map((member, index) => {
      const [error, value] = results[index] ?? [null, null]
      return [member, error === null ? value as Array<string | null> : null] as const
    })
  })

/** Accounts only this process holds: forgets those signed out elsewhere (their removal marker is there). */
const forgetRemoved = (store: Store, localOnly: ReadonlyArray<TokenCache.AccountEntry>) =>
  Effect.gen(function*() {
    const { keys, ops } = store
    if (localOnly.length === 0) return
    const keysOf = localOnly.map((entry) => keys.removedAccount(TokenCache.accountKey(entry)))
    const markers = yield* ops.run("listAccounts", (client) => client.mget(...keysOf))
    if (Option.isNone(markers)) return
    for (const [index, entry] of localOnly.entries()) {
      const marker = markers.value[index]
      if (marker !== null && marker !== undefined) yield* forget(store, TokenCache.accountKey(entry))
    }
  })

/** Redis's accounts merged with this process's, the newer of each. */
const listAccounts = (context: Context): Effect.Effect<ReadonlyArray<TokenCache.AccountEntry>> =>
  Effect.gen(function*() {
    const { keys, memory, ops } = context.store
    const local = yield* memory.listAccounts
    const reply = yield* readIndex(context.store)
    if (Option.isNone(reply)) return local
    const merged = new Map<string, TokenCache.AccountEntry>()
    // Only members whose entry is gone are pruned: one this process cannot open stays listed for the others.
    const gone: Array<string> = []
    for (const [member, value] of reply.value) {
      if (value !== null && (value[1] === null || value[1] === undefined)) gone.push(member)
      const entry = yield* readAccount(context, member, value)
      if (Option.isSome(entry)) merged.set(member, entry.value)
    }
    if (gone.length > 0) yield* ops.run("pruneAccounts", (client) => client.srem(keys.accountIndex, ...gone))
    yield* forgetRemoved(context.store, local.filter((entry) => !merged.has(TokenCache.accountKey(entry))))
    for (const entry of yield* memory.listAccounts) {
      const key = TokenCache.accountKey(entry)
      const remote = merged.get(key)
      if (remote === undefined || remote.version < entry.version) merged.set(key, entry)
    }
    return Array.from(merged.values())
  })

/** @internal */
export const make = (store: Store, reader: Reader) => {
  const context: Context = { store, reader }
  return {
    readAccount: (key: string, reply: AccountReply) => readAccount(context, key, reply),
    writeAccountL2: (key: string, entry: TokenCache.AccountEntry, newSignIn = false) =>
      writeAccountL2(store, key, entry, newSignIn),
    wasRemoved,
    forget: (accountKey: string) => forget(store, accountKey),
    getAccount: (key: string) => getAccount(context, key),
    setAccount: (key: string, entry: TokenCache.AccountEntry) => setAccount(store, key, entry),
    removeAccount: (key: string) => removeAccount(store, key),
    listAccounts: listAccounts(context)
  }
}

/** @internal */
export type Accounts = ReturnType<typeof make>
