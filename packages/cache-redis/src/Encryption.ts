/**
 * Encryption at rest for cache entries: AES-256-GCM with a random 96-bit IV per write and the Redis key as
 * additional authenticated data, so an entry copied under another key (another user, another app) fails to
 * decrypt instead of being served. Older keys can be kept for decryption while rotating.
 *
 * @since 0.1.0
 */
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Crypto from "node:crypto"

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
}

/**
 * A 32-byte key: raw bytes, or a string of 64 hex digits or base64/base64url of 32 bytes.
 *
 * @since 0.1.0
 * @category models
 */
export type KeyInput = Redacted.Redacted<string> | Redacted.Redacted<Uint8Array>

const prefix = "aesgcm1."

/**
 * Decodes a key, or explains (without echoing it) why it is not one.
 *
 * @since 0.1.0
 * @category constructors
 */
export const decodeKey = (input: KeyInput): Either.Either<Buffer, string> => {
  const value: unknown = Redacted.isRedacted(input) ? Redacted.value(input as Redacted.Redacted<unknown>) : undefined
  if (value instanceof Uint8Array) {
    return value.length === 32 ? Either.right(Buffer.from(value)) : Either.left("the key must be 32 bytes")
  }
  if (typeof value !== "string") return Either.left("the key must be a Redacted string or Uint8Array")
  const text = value.trim()
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Either.right(Buffer.from(text, "hex"))
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(text)) {
    const bytes = Buffer.from(text.replace(/-/g, "+").replace(/_/g, "/"), "base64")
    if (bytes.length === 32) return Either.right(bytes)
  }
  return Either.left("the key must be 32 bytes, as 64 hex digits or base64 (e.g. `openssl rand -base64 32`)")
}

/**
 * No encryption: values are stored as they are (JSON).
 *
 * @since 0.1.0
 * @category constructors
 */
export const none: Encryption = {
  enabled: false,
  seal: (_key, plaintext) => plaintext,
  open: (_key, stored) => stored.startsWith(prefix) ? Option.none() : Option.some(stored)
}

/**
 * Seals with the first key; opens with any of them (the others are previous keys kept while rotating).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (keys: readonly [Buffer, ...Array<Buffer>]): Encryption => {
  const [current] = keys
  return {
    enabled: true,
    seal: (key, plaintext) => {
      const iv = Crypto.randomBytes(12)
      const cipher = Crypto.createCipheriv("aes-256-gcm", current, iv)
      cipher.setAAD(Buffer.from(key, "utf8"))
      const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()])
      const tag = cipher.getAuthTag()
      return `${prefix}${iv.toString("base64url")}.${tag.toString("base64url")}.${ciphertext.toString("base64url")}`
    },
    open: (key, stored) => {
      if (!stored.startsWith(prefix)) return Option.none()
      const parts = stored.slice(prefix.length).split(".")
      if (parts.length !== 3) return Option.none()
      const iv = Buffer.from(parts[0], "base64url")
      const tag = Buffer.from(parts[1], "base64url")
      const ciphertext = Buffer.from(parts[2], "base64url")
      if (iv.length !== 12 || tag.length !== 16) return Option.none()
      for (const secret of keys) {
        try {
          const decipher = Crypto.createDecipheriv("aes-256-gcm", secret, iv)
          decipher.setAAD(Buffer.from(key, "utf8"))
          decipher.setAuthTag(tag)
          return Option.some(Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString("utf8"))
        } catch {
          // Wrong key, wrong AAD or tampered: try the next key.
        }
      }
      return Option.none()
    }
  }
}
