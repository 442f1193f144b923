/**
 * After Redis comes back (possibly empty: a restart without persistence), put back what this process holds:
 * accounts through the versioned write, access tokens only where Redis has none.
 *
 * @internal
 */
import * as TokenCache from "@effect-entra/identity/TokenCache"
import * as Effect from "effect/Effect"
import type { Accounts } from "./accounts.js"
import { codecs, type Store } from "./entries.js"

/** @internal */
export const make = (store: Store, accounts: Accounts): Effect.Effect<void> =>
  Effect.gen(function*() {
    const { clock, encryption, keys, memory, ops } = store
    const now = clock.unsafeCurrentTimeMillis()
    for (const entry of yield* memory.listAccounts) {
      const accountKey = TokenCache.accountKey(entry)
      // Signed out elsewhere while this process was cut off: forget it rather than put it back.
      if (accounts.wasRemoved(yield* accounts.writeAccountL2(accountKey, entry))) {
        yield* accounts.forget(accountKey)
        continue
      }
      for (const token of yield* memory.listAccessTokens(accountKey)) {
        const key = TokenCache.accessTokenKeyOfEntry(accountKey, token)
        const ttlMs = Math.floor(token.expiresOn - now)
        if (ttlMs <= 0) continue
        const redisKey = keys.accessToken(key)
        const value = encryption.seal(redisKey, codecs.encodeAccessToken(token))
        yield* ops.run("resync", (client) =>
          client.multi().set(redisKey, value, "PX", ttlMs, "NX").sadd(keys.tokenIndex(accountKey), key).pexpire(
            keys.tokenIndex(accountKey),
            store.accountTtlMs
          ).exec())
      }
    }
  })
