/**
 * Encryption at rest for token caches (the file cache and the Redis cache share it): AES-256-GCM with a random
 * 96-bit IV per value, one key format, and rotation — values are sealed with the current key and opened with the
 * current key or any previous one, so replicas can roll to a new key without losing what the old key sealed.
 *
 * A key is 32 random bytes, given as 64 hex digits or as base64 / base64url (`openssl rand -base64 32`), or as raw
 * bytes. Every key has a {@link KeyRing.currentId key id}: the first 8 hex digits of its SHA-256, safe to print, so
 * warnings can say which key failed without saying what it is.
 *
 * @since 0.1.0
 */
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Crypto from "node:crypto"

/**
 * A 32-byte key: raw bytes, or a string of 64 hex digits or base64/base64url of 32 bytes.
 *
 * @since 0.1.0
 * @category models
 */
export type KeyInput = Redacted.Redacted<string> | Redacted.Redacted<Uint8Array>

/**
 * One decoded key and its id.
 *
 * @since 0.1.0
 * @category models
 */
export interface Key {
  /** First 8 hex digits of the SHA-256 of the key: names the key in messages without revealing it. */
  readonly id: string
  readonly bytes: Buffer
}

/**
 * The current key (seals) and the previous ones (only open), in that order in {@link KeyRing.keys}.
 *
 * @since 0.1.0
 * @category models
 */
export interface KeyRing {
  readonly current: Key
  readonly keys: readonly [Key, ...Array<Key>]
  /** The current key's id. */
  readonly currentId: string
}

/**
 * What a sealed value is made of.
 *
 * @since 0.1.0
 * @category models
 */
export interface Sealed {
  readonly iv: Buffer
  readonly tag: Buffer
  readonly ciphertext: Buffer
}

/**
 * What {@link open} recovered, and with which key (a previous key means the value should be sealed again).
 *
 * @since 0.1.0
 * @category models
 */
export interface Opened {
  readonly plaintext: string
  readonly keyId: string
  readonly current: boolean
}

const keyHelp = "expected 32 bytes, as 64 hex digits or base64 (create one with `openssl rand -base64 32`)"

/**
 * Decodes a key, or explains (without echoing it) why it is not one.
 *
 * @since 0.1.0
 * @category keys
 */
export const decodeKey = (input: KeyInput): Either.Either<Buffer, string> => {
  const value: unknown = Redacted.isRedacted(input) ? Redacted.value(input as Redacted.Redacted<unknown>) : undefined
  if (value instanceof Uint8Array) {
    return value.length === 32
      ? Either.right(Buffer.from(value))
      : Either.left(`expected 32 bytes, got ${value.length}`)
  }
  if (typeof value !== "string") return Either.left("the key must be a Redacted string or Uint8Array")
  const text = value.trim()
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Either.right(Buffer.from(text, "hex"))
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(text)) {
    const bytes = Buffer.from(text.replace(/-/g, "+").replace(/_/g, "/"), "base64")
    if (bytes.length === 32) return Either.right(bytes)
  }
  return Either.left(keyHelp)
}

/**
 * The key id: the first 8 hex digits of the key's SHA-256.
 *
 * @since 0.1.0
 * @category keys
 */
export const keyId = (key: Uint8Array): string => Crypto.createHash("sha256").update(key).digest("hex").slice(0, 8)

const toKey = (bytes: Buffer): Key => ({ id: keyId(bytes), bytes })

/**
 * A ring from decoded keys, the current one first.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromBuffers = (keys: readonly [Buffer, ...Array<Buffer>]): KeyRing => {
  const all = keys.map(toKey) as unknown as readonly [Key, ...Array<Key>]
  return { current: all[0], keys: all, currentId: all[0].id }
}

/**
 * Decodes the current key and the previous ones. On failure, tells which one (0 is the current key, 1 the first
 * previous key, ...) and why, never echoing a key.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeKeyRing = (
  current: KeyInput,
  previous: ReadonlyArray<KeyInput> = []
): Either.Either<KeyRing, { readonly index: number; readonly reason: string }> => {
  const decoded: Array<Buffer> = []
  for (const [index, input] of [current, ...previous].entries()) {
    const key = decodeKey(input)
    if (Either.isLeft(key)) return Either.left({ index, reason: key.left })
    decoded.push(key.right)
  }
  return Either.right(fromBuffers(decoded as [Buffer, ...Array<Buffer>]))
}

/**
 * Splits a list of previous keys as an environment variable holds them: comma- or whitespace-separated.
 *
 * @since 0.1.0
 * @category keys
 */
export const splitKeyList = (list: Redacted.Redacted<string>): Array<Redacted.Redacted<string>> =>
  Redacted.value(list).split(/[\s,]+/).filter((part) => part !== "").map((part) => Redacted.make(part))

const toAad = (aad: string | Uint8Array) => typeof aad === "string" ? Buffer.from(aad, "utf8") : aad

/**
 * Seals with the current key; `aad` binds the value to where it is stored (a Redis key, a file format).
 *
 * @since 0.1.0
 * @category sealing
 */
export const seal = (ring: KeyRing, aad: string | Uint8Array, plaintext: string): Sealed => {
  const iv = Crypto.randomBytes(12)
  const cipher = Crypto.createCipheriv("aes-256-gcm", ring.current.bytes, iv)
  cipher.setAAD(toAad(aad))
  const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()])
  return { iv, tag: cipher.getAuthTag(), ciphertext }
}

/**
 * Opens with the first key of the ring that authenticates the value; `None` when none does (another key, another
 * `aad`, or tampering).
 *
 * @since 0.1.0
 * @category sealing
 */
export const open = (ring: KeyRing, aad: string | Uint8Array, sealed: Sealed): Option.Option<Opened> => {
  if (sealed.iv.length !== 12 || sealed.tag.length !== 16) return Option.none()
  for (const key of ring.keys) {
    try {
      const decipher = Crypto.createDecipheriv("aes-256-gcm", key.bytes, sealed.iv)
      decipher.setAAD(toAad(aad))
      decipher.setAuthTag(sealed.tag)
      const plaintext = Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]).toString("utf8")
      return Option.some({ plaintext, keyId: key.id, current: key === ring.current })
    } catch {
      // Wrong key, wrong AAD or tampered: try the next key.
    }
  }
  return Option.none()
}

const compactPrefix = "aesgcm1."

/**
 * Whether `stored` is in the compact form of {@link sealCompact}.
 *
 * @since 0.1.0
 * @category compact form
 */
export const isCompact = (stored: string): boolean => stored.startsWith(compactPrefix)

/**
 * Seals into one string, `aesgcm1.<iv>.<tag>.<ciphertext>` (base64url parts), for stores of strings (Redis).
 *
 * @since 0.1.0
 * @category compact form
 */
export const sealCompact = (ring: KeyRing, aad: string | Uint8Array, plaintext: string): string => {
  const sealed = seal(ring, aad, plaintext)
  return `${compactPrefix}${sealed.iv.toString("base64url")}.${sealed.tag.toString("base64url")}.${
    sealed.ciphertext.toString("base64url")
  }`
}

/**
 * Opens what {@link sealCompact} made.
 *
 * @since 0.1.0
 * @category compact form
 */
export const openCompact = (ring: KeyRing, aad: string | Uint8Array, stored: string): Option.Option<Opened> => {
  if (!isCompact(stored)) return Option.none()
  const parts = stored.slice(compactPrefix.length).split(".")
  if (parts.length !== 3) return Option.none()
  return open(ring, aad, {
    iv: Buffer.from(parts[0], "base64url"),
    tag: Buffer.from(parts[1], "base64url"),
    ciphertext: Buffer.from(parts[2], "base64url")
  })
}
