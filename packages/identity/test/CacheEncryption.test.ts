import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, Option, Redacted } from "effect"
import * as Crypto from "node:crypto"
import * as CacheEncryption from "../src/CacheEncryption.js"

const ringOf = (...keys: Array<Buffer>) => CacheEncryption.fromBuffers(keys as [Buffer, ...Array<Buffer>])

describe("CacheEncryption", () => {
  it("one key format: 64 hex digits, base64, base64url or 32 raw bytes; anything else is refused without echo", () => {
    const bytes = Crypto.randomBytes(32)
    for (const text of [bytes.toString("hex"), bytes.toString("base64"), bytes.toString("base64url")]) {
      assert.deepStrictEqual(CacheEncryption.decodeKey(Redacted.make(text)), Either.right(bytes), text)
    }
    assert.deepStrictEqual(CacheEncryption.decodeKey(Redacted.make(new Uint8Array(bytes))), Either.right(bytes))
    for (const bad of ["c2hvcnQ=", Crypto.randomBytes(16).toString("hex"), Crypto.randomBytes(48).toString("base64")]) {
      const result = CacheEncryption.decodeKey(Redacted.make(bad))
      assert.isTrue(Either.isLeft(result))
      if (Either.isLeft(result)) {
        assert.include(result.left, "expected 32 bytes")
        assert.notInclude(result.left, bad)
      }
    }
  })

  it("a key id is the first 8 hex digits of the key's SHA-256: stable, distinct, and not the key", () => {
    const key = Crypto.randomBytes(32)
    const id = CacheEncryption.keyId(key)
    assert.match(id, /^[0-9a-f]{8}$/)
    assert.strictEqual(id, Crypto.createHash("sha256").update(key).digest("hex").slice(0, 8))
    assert.notStrictEqual(CacheEncryption.keyId(Crypto.randomBytes(32)), id)
    assert.notInclude(key.toString("hex"), id)
    const ring = CacheEncryption.makeKeyRing(Redacted.make(key.toString("base64")))
    assert.strictEqual(Either.getOrThrow(ring).currentId, id)
  })

  it("makeKeyRing names the bad key by position (0 current, 1.. previous), never by value", () => {
    const good = Redacted.make(Crypto.randomBytes(32).toString("hex"))
    const bad = Redacted.make("not-a-key")
    assert.deepStrictEqual(
      Either.getLeft(CacheEncryption.makeKeyRing(bad)).pipe(Option.map((e) => e.index)),
      Option.some(0)
    )
    const previous = CacheEncryption.makeKeyRing(good, [good, bad])
    assert.deepStrictEqual(Either.getLeft(previous).pipe(Option.map((e) => e.index)), Option.some(2))
  })

  it("rotation: sealed with the old key, opened by a ring whose previous key it is; the new key alone cannot", () => {
    const oldKey = Crypto.randomBytes(32)
    const newKey = Crypto.randomBytes(32)
    const sealed = CacheEncryption.sealCompact(ringOf(oldKey), "k", "hello")
    const rotated = CacheEncryption.openCompact(ringOf(newKey, oldKey), "k", sealed)
    assert.deepStrictEqual(
      rotated,
      Option.some({ plaintext: "hello", keyId: CacheEncryption.keyId(oldKey), current: false })
    )
    assert.isTrue(Option.isNone(CacheEncryption.openCompact(ringOf(newKey), "k", sealed)))
    const resealed = CacheEncryption.sealCompact(ringOf(newKey, oldKey), "k", "hello")
    assert.isTrue(Option.getOrThrow(CacheEncryption.openCompact(ringOf(newKey), "k", resealed)).current)
    // The additional data binds the value to where it is stored.
    assert.isTrue(Option.isNone(CacheEncryption.openCompact(ringOf(newKey), "other", resealed)))
  })

  it("opens the compact values the Redis cache has always written (aesgcm1.<iv>.<tag>.<data>, AAD = Redis key)", () =>
    Effect.sync(() => {
      const key = Crypto.randomBytes(32)
      const iv = Crypto.randomBytes(12)
      const cipher = Crypto.createCipheriv("aes-256-gcm", key, iv)
      cipher.setAAD(Buffer.from("redis-key", "utf8"))
      const data = Buffer.concat([cipher.update("legacy", "utf8"), cipher.final()])
      const stored = `aesgcm1.${iv.toString("base64url")}.${cipher.getAuthTag().toString("base64url")}.${
        data.toString("base64url")
      }`
      assert.strictEqual(
        Option.getOrThrow(CacheEncryption.openCompact(ringOf(key), "redis-key", stored)).plaintext,
        "legacy"
      )
      assert.isTrue(Option.isNone(CacheEncryption.openCompact(ringOf(key), "redis-key", stored.slice(0, -2))))
    }))

  it("splitKeyList takes commas or spaces between keys", () => {
    const list = CacheEncryption.splitKeyList(Redacted.make(" a, b ,c d,,"))
    assert.deepStrictEqual(list.map(Redacted.value), ["a", "b", "c", "d"])
  })
})
