/**
 * The Lua scripts of the Redis token cache. Each runs atomically on the server, so a compare-and-swap or a
 * compare-and-delete cannot interleave with another process's write. They are registered with ioredis's
 * `defineCommand`, which sends `EVALSHA` and falls back to `EVAL` after a restart flushed the script cache.
 *
 * @since 0.1.0
 */
import type { Redis } from "ioredis"

/**
 * Stores an access token with its own expiry and indexes it under its account.
 * `KEYS[1]` token key, `KEYS[2]` the account's token index; `ARGV` value, ttl ms, index member, index ttl ms.
 *
 * @since 0.1.0
 * @category scripts
 */
export const setAccessToken = `
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
local indexKind = redis.call('TYPE', KEYS[2]).ok
if indexKind ~= 'set' and indexKind ~= 'none' then redis.call('DEL', KEYS[2]) end
redis.call('SADD', KEYS[2], ARGV[3])
if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[4]) then redis.call('PEXPIRE', KEYS[2], ARGV[4]) end
return 1
`

/**
 * Versioned compare-and-swap of an account: stores only when the stored version is lower than the new one, so an
 * older refresh token never overwrites a newer one. A foreign value under the key (not a hash, or a version that
 * is not a number) is replaced. While the account's removal marker (a sign-out, see {@link removeAccount}) exists,
 * every write is refused, except a new sign-in (`ARGV[5]` = `1`) numbered above the removed version, which clears
 * the marker. An account sealed with a key the writer does not hold (its `k` field is not in the writer's list) is
 * never replaced: the writer could not read it, and the processes holding that key still need it.
 * `KEYS[1]` account hash, `KEYS[2]` the namespace's account index, `KEYS[3]` the removal marker; `ARGV` version,
 * payload, ttl ms, index member, new sign-in flag, id of the key sealing the payload, the ids the writer can open
 * (`,id1,id2,`). Returns 1 when stored, 0 when refused for an older version, 2 when refused because it is sealed
 * with another key, `-(removed + 1)` when refused because the account was removed at version `removed`.
 *
 * @since 0.1.0
 * @category scripts
 */
export const setAccount = `
local markerKind = redis.call('TYPE', KEYS[3]).ok
if markerKind ~= 'none' then
  local removed = markerKind == 'string' and tonumber(redis.call('GET', KEYS[3])) or nil
  if removed == nil then
    redis.call('DEL', KEYS[3])
  elseif ARGV[5] == '1' and tonumber(ARGV[1]) > removed then
    redis.call('DEL', KEYS[3])
  else
    return -(removed + 1)
  end
end
local kind = redis.call('TYPE', KEYS[1]).ok
if kind ~= 'hash' and kind ~= 'none' then redis.call('DEL', KEYS[1]) end
local sealedWith = redis.call('HGET', KEYS[1], 'k')
if sealedWith and not string.find(ARGV[7], ',' .. sealedWith .. ',', 1, true) then return 2 end
local current = tonumber(redis.call('HGET', KEYS[1], 'v'))
if current ~= nil and current >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'v', ARGV[1], 'd', ARGV[2], 'k', ARGV[6])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
local indexKind = redis.call('TYPE', KEYS[2]).ok
if indexKind ~= 'set' and indexKind ~= 'none' then redis.call('DEL', KEYS[2]) end
redis.call('SADD', KEYS[2], ARGV[4])
return 1
`

/**
 * Removes an account (a sign-out) and leaves a removal marker holding the highest version known (the stored one,
 * the remover's own, an earlier marker's), so no process holding an older copy writes it back. `KEYS[1]` account
 * hash, `KEYS[2]` removal marker, `KEYS[3]` the namespace's account index; `ARGV` the remover's version (0 when
 * it has none), marker ttl ms, index member. Returns the version recorded in the marker.
 *
 * @since 0.1.0
 * @category scripts
 */
export const removeAccount = `
local version = tonumber(ARGV[1]) or 0
if redis.call('TYPE', KEYS[1]).ok == 'hash' then
  local current = tonumber(redis.call('HGET', KEYS[1], 'v'))
  if current ~= nil and current > version then version = current end
end
if redis.call('TYPE', KEYS[2]).ok == 'string' then
  local removed = tonumber(redis.call('GET', KEYS[2]))
  if removed ~= nil and removed > version then version = removed end
end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('SET', KEYS[2], version, 'PX', ARGV[2])
if redis.call('TYPE', KEYS[3]).ok == 'set' then redis.call('SREM', KEYS[3], ARGV[3]) end
return version
`

/**
 * Drops an account entry that failed to decode, unless it changed since it was read (then a writer fixed it).
 * `KEYS[1]` account hash; `ARGV` the payload that was read.
 *
 * @since 0.1.0
 * @category scripts
 */
export const dropAccountIf = `
if redis.call('TYPE', KEYS[1]).ok ~= 'hash' then return redis.call('DEL', KEYS[1]) end
if redis.call('HGET', KEYS[1], 'd') == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`

/**
 * Takes a lease: `SET key token NX PX ttl`, unless a holder finished the same work moments ago (its "done"
 * marker is still there). `KEYS[1]` lease, `KEYS[2]` done marker; `ARGV` token, ttl ms.
 * Returns 1 when taken, 0 when someone holds it, 2 when the work was just done.
 *
 * @since 0.1.0
 * @category scripts
 */
export const acquireLease = `
if redis.call('EXISTS', KEYS[2]) == 1 then return 2 end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
return 0
`

/**
 * Releases a lease only if this holder still owns it (compare-and-delete), and on success leaves a short-lived
 * "done" marker. `KEYS[1]` lease, `KEYS[2]` done marker; `ARGV` token, marker ttl ms (0: no marker).
 *
 * @since 0.1.0
 * @category scripts
 */
export const releaseLease = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  if tonumber(ARGV[2]) > 0 then redis.call('SET', KEYS[2], '1', 'PX', ARGV[2]) end
  return 1
end
return 0
`

/**
 * Extends a lease this holder still owns (compare-and-pexpire). `KEYS[1]` lease; `ARGV` token, ttl ms.
 *
 * @since 0.1.0
 * @category scripts
 */
export const extendLease = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`

/**
 * A client with the scripts as commands.
 *
 * @since 0.1.0
 * @category models
 */
export interface ScriptedRedis extends Redis {
  effectEntraSetAccessToken(
    key: string,
    index: string,
    value: string,
    ttlMs: number,
    member: string,
    indexTtlMs: number
  ): Promise<number>
  effectEntraSetAccount(
    key: string,
    index: string,
    removed: string,
    version: number,
    payload: string,
    ttlMs: number,
    member: string,
    newSignIn: "0" | "1",
    sealingKeyId: string,
    readableKeyIds: string
  ): Promise<number>
  effectEntraRemoveAccount(
    key: string,
    removed: string,
    index: string,
    version: number,
    ttlMs: number,
    member: string
  ): Promise<number>
  effectEntraDropAccountIf(key: string, payload: string): Promise<number>
  effectEntraAcquireLease(key: string, doneKey: string, token: string, ttlMs: number): Promise<number>
  effectEntraReleaseLease(key: string, doneKey: string, token: string, doneTtlMs: number): Promise<number>
  effectEntraExtendLease(key: string, token: string, ttlMs: number): Promise<number>
}

/**
 * Registers the scripts on a client (idempotent).
 *
 * @since 0.1.0
 * @category constructors
 */
export const register = (client: Redis): ScriptedRedis => {
  const scripted = client as ScriptedRedis
  if (typeof scripted.effectEntraRemoveAccount === "function") return scripted
  client.defineCommand("effectEntraSetAccessToken", { numberOfKeys: 2, lua: setAccessToken })
  client.defineCommand("effectEntraSetAccount", { numberOfKeys: 3, lua: setAccount })
  client.defineCommand("effectEntraRemoveAccount", { numberOfKeys: 3, lua: removeAccount })
  client.defineCommand("effectEntraDropAccountIf", { numberOfKeys: 1, lua: dropAccountIf })
  client.defineCommand("effectEntraAcquireLease", { numberOfKeys: 2, lua: acquireLease })
  client.defineCommand("effectEntraReleaseLease", { numberOfKeys: 2, lua: releaseLease })
  client.defineCommand("effectEntraExtendLease", { numberOfKeys: 1, lua: extendLease })
  return scripted
}
