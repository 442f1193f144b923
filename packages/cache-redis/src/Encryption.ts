/**
 * Encryption at rest for cache entries: AES-256-GCM with a random 96-bit IV per write and the Redis key as
 * additional authenticated data, so an entry copied under another key (another user, another app) fails to
 * decrypt instead of being served. Older keys can be kept for decryption while rotating.
 *
 * A thin adapter over `@effect-entra/identity/CacheEncryption`, which the file cache shares: one key format and
 * one key id.
 *
 * @since 0.1.0
 */
import * as CacheEncryption from "@effect-entra/identity/CacheEncryption"
import type * as Either from "effect/Either"
import * as Option from "effect/Option"

/**
 * @since 0.1.0
 * @category models
 */
export interface Encryption {
  /** `true` when entries are encrypted; then a plaintext entry is rejected as tampered. */
  readonly enabled: boolean
  readonly seal: (key: string, plaintext: string) => string
  /** `None` when the value was not sealed for this key by one of the configured keys. */
  readonly open: (key: string, stored: string) => Option.Option<string>
  /** The current key's id (first 8 hex digits of its SHA-256), for messages; absent without encryption. */
  readonly keyId?: string | undefined
}

/**
 * A 32-byte key: raw bytes, or a string of 64 hex digits or base64/base64url of 32 bytes.
 *
 * @since 0.1.0
 * @category models
 */
export type KeyInput = CacheEncryption.KeyInput

/**
 * Decodes a key, or explains (without echoing it) why it is not one.
 *
 * @since 0.1.0
 * @category constructors
 */
export const decodeKey: (input: KeyInput) => Either.Either<Buffer, string> = CacheEncryption.decodeKey

/**
 * No encryption: values are stored as they are (JSON).
 *
 * @since 0.1.0
 * @category constructors
 */
export const none: Encryption = {
  enabled: false,
  seal: (_key, plaintext) => plaintext,
  open: (_key, stored) => CacheEncryption.isCompact(stored) ? Option.none() : Option.some(stored)
}

/**
 * Seals with the first key; opens with any of them (the others are previous keys kept while rotating).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (keys: readonly [Buffer, ...Array<Buffer>]): Encryption => {
  const ring = CacheEncryption.fromBuffers(keys)
  return {
    enabled: true,
    keyId: ring.currentId,
    seal: (key, plaintext) => CacheEncryption.sealCompact(ring, key, plaintext),
    open: (key, stored) => Option.map(CacheEncryption.openCompact(ring, key, stored), (opened) => opened.plaintext)
  }
}
