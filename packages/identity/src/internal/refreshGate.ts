/**
 * The back-off gate after a failed proactive refresh: key → epoch ms before which that key is not retried.
 * Expired entries are dropped when read, and swept when the map grows past `maxEntries`, so keys that are never
 * asked for again cannot pile up.
 *
 * @internal
 */
export interface RefreshGate {
  /** True while `key` is backing off; an expired entry is removed. */
  readonly blocked: (key: string, now: number) => boolean
  readonly block: (key: string, until: number, now: number) => void
  readonly clear: (key: string) => void
  readonly size: () => number
}

/** @internal */
export const makeRefreshGate = (maxEntries = 1_000): RefreshGate => {
  const notBefore = new Map<string, number>()
  return {
    blocked: (key, now) => {
      const until = notBefore.get(key)
      if (until === undefined) return false
      if (now < until) return true
      notBefore.delete(key)
      return false
    },
    block: (key, until, now) => {
      notBefore.delete(key)
      if (notBefore.size >= maxEntries) {
        for (const [other, otherUntil] of notBefore) {
          if (now >= otherUntil) notBefore.delete(other)
        }
        // Every entry still live (a burst of failures): drop the oldest; at worst that key is retried early.
        for (const other of notBefore.keys()) {
          if (notBefore.size < maxEntries) break
          notBefore.delete(other)
        }
      }
      notBefore.set(key, until)
    },
    clear: (key) => void notBefore.delete(key),
    size: () => notBefore.size
  }
}
