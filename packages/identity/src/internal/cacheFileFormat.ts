/**
 * The token cache file: `{version: 1, accounts, accessTokens, redemptions}` as JSON, optionally sealed in
 * `{v: 1, alg: "A256GCM", iv, tag, data}`. Decoding is per entry: one unreadable or absurd entry is dropped (and
 * counted) without losing the others.
 */
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as CacheEncryption from "../CacheEncryption.js"
import * as TokenCache from "../TokenCache.js"

export interface Redemption {
  readonly homeAccountId: string
  readonly expiresOn: number
}

export interface State {
  readonly accounts: Map<string, TokenCache.AccountEntry>
  readonly accessTokens: Map<string, TokenCache.AccessTokenEntry>
  readonly redemptions: Map<string, Redemption>
}

export const emptyState = (): State => ({ accounts: new Map(), accessTokens: new Map(), redemptions: new Map() })

export const copyState = (state: State): State => ({
  accounts: new Map(state.accounts),
  accessTokens: new Map(state.accessTokens),
  redemptions: new Map(state.redemptions)
})

const Redemption = Schema.Struct({ homeAccountId: Schema.String, expiresOn: Schema.Number })

const Contents = Schema.Struct({
  version: Schema.Literal(1),
  accounts: Schema.Record({ key: Schema.String, value: TokenCache.AccountEntry }),
  accessTokens: Schema.Record({ key: Schema.String, value: TokenCache.AccessTokenEntry }),
  redemptions: Schema.Record({ key: Schema.String, value: Redemption })
})
const encodeContents = Schema.encodeSync(Schema.parseJson(Contents))

const Envelope = Schema.Struct({
  v: Schema.Literal(1),
  alg: Schema.Literal("A256GCM"),
  iv: Schema.String,
  tag: Schema.String,
  data: Schema.String
})
const decodeEnvelope = Schema.decodeUnknownEither(Schema.parseJson(Envelope))

/** Additional authenticated data: binds the ciphertext to this format. */
const aad = "effect-entra/token-cache/v1"

/** Later than any real expiry or update: a time past it (or not finite, or negative) is absurd. */
const maxTime = Date.UTC(2100, 0, 1)
const isTime = (value: number | undefined) =>
  value !== undefined && Number.isFinite(value) && value >= 0 &&
  value <= maxTime

/** Decodes one entry, or `undefined` when it does not decode or holds an absurd number. */
const entryDecoder = <A, I>(schema: Schema.Schema<A, I>, sane: (entry: A) => boolean) => {
  const decode = Schema.decodeUnknownEither(schema)
  return (value: unknown): A | undefined => {
    const entry = decode(value)
    return Either.isRight(entry) && sane(entry.right) ? entry.right : undefined
  }
}

const decodeAccount = entryDecoder(
  TokenCache.AccountEntry,
  (e) => isTime(e.updatedOn) && Number.isSafeInteger(e.version) && e.version >= 0
)
const decodeAccessToken = entryDecoder(
  TokenCache.AccessTokenEntry,
  (e) => isTime(e.issuedOn) && isTime(e.expiresOn) && (e.refreshOn === undefined || isTime(e.refreshOn))
)
const decodeRedemption = entryDecoder(Redemption, (e) => isTime(e.expiresOn))

/**
 * - `Ok`: what decoded, how many entries were dropped, and the id of the key that opened it (if encrypted).
 * - `Foreign`: not a cache file this process can use, and not encrypted for it either: it may be set aside and
 *   replaced.
 * - `Locked`: encrypted, and this process cannot open it (no key, another key, or modified): never replaced.
 */
export type Decoded =
  | {
    readonly _tag: "Ok"
    readonly state: State
    readonly dropped: number
    readonly keyId: string | undefined
    readonly staleKey: boolean
  }
  | { readonly _tag: "Foreign"; readonly why: string }
  | { readonly _tag: "Locked"; readonly why: string }

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const foreign: Decoded = { _tag: "Foreign", why: "it is not a token cache file (corrupt or another format)" }

/** Decodes the JSON contents entry by entry. The parse errors are dropped on purpose: they would quote values. */
const decodeContents = (plain: string): { readonly state: State; readonly dropped: number } | undefined => {
  let parsed: unknown
  try {
    parsed = JSON.parse(plain)
  } catch {
    return undefined
  }
  if (!isRecord(parsed) || parsed.version !== 1) return undefined
  const state = emptyState()
  let dropped = 0
  const section = <A>(entries: unknown, decode: (value: unknown) => A | undefined, target: Map<string, A>) => {
    if (entries === undefined) return
    if (!isRecord(entries)) return void (dropped += 1)
    for (const [key, value] of Object.entries(entries)) {
      const entry = decode(value)
      if (entry !== undefined) target.set(key, entry)
      else dropped += 1
    }
  }
  section(parsed.accounts, decodeAccount, state.accounts)
  section(parsed.accessTokens, decodeAccessToken, state.accessTokens)
  section(parsed.redemptions, decodeRedemption, state.redemptions)
  return { state, dropped }
}

/** Decodes a file's text with the keys of `ring` (none: plaintext). */
export const decodeFile = (text: string, ring: CacheEncryption.KeyRing | undefined): Decoded => {
  const envelope = decodeEnvelope(text)
  let plain = text
  let opened: CacheEncryption.Opened | undefined = undefined
  if (Either.isRight(envelope)) {
    if (ring === undefined) return { _tag: "Locked", why: "it is encrypted and no key is set (EFFECT_ENTRA_CACHE_KEY)" }
    const result = CacheEncryption.open(ring, aad, {
      iv: Buffer.from(envelope.right.iv, "base64"),
      tag: Buffer.from(envelope.right.tag, "base64"),
      ciphertext: Buffer.from(envelope.right.data, "base64")
    })
    if (Option.isNone(result)) {
      const ids = ring.keys.map((key) => key.id).join(", ")
      return {
        _tag: "Locked",
        why: `it could not be decrypted with EFFECT_ENTRA_CACHE_KEY or a previous key (key ids ${ids}): it was ` +
          "written with another key, or modified"
      }
    }
    opened = result.value
    plain = opened.plaintext
  } else if (ring !== undefined) {
    return { _tag: "Foreign", why: "it is not an encrypted cache file" }
  }
  const contents = decodeContents(plain)
  if (contents === undefined) return foreign
  return { _tag: "Ok", ...contents, keyId: opened?.keyId, staleKey: opened !== undefined && !opened.current }
}

/** The file's text for `state`, sealed with the current key of `ring` when there is one. */
export const encodeFile = (state: State, ring: CacheEncryption.KeyRing | undefined): string => {
  const json = encodeContents({
    version: 1,
    accounts: Object.fromEntries(state.accounts),
    accessTokens: Object.fromEntries(state.accessTokens),
    redemptions: Object.fromEntries(state.redemptions)
  })
  if (ring === undefined) return json
  const sealed = CacheEncryption.seal(ring, aad, json)
  return JSON.stringify({
    v: 1,
    alg: "A256GCM",
    iv: sealed.iv.toString("base64"),
    tag: sealed.tag.toString("base64"),
    data: sealed.ciphertext.toString("base64")
  })
}
