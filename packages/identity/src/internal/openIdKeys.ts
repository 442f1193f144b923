/**
 * A tenant's OpenID metadata (issuer, `jwks_uri`) and signing keys, fetched once per authority and tenant, kept
 * in a bounded map, and fetched again on an unknown `kid` (Entra rolls its keys) at most once per interval.
 *
 * @internal
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Crypto from "node:crypto"
import { readBounded } from "./boundedBody.js"

/** @internal */
export interface TenantKeys {
  /** As published: may hold Entra's `{tenantid}` template (common, organizations). */
  readonly issuer: string
  readonly keys: ReadonlyMap<string, Crypto.KeyObject>
  readonly fetchedAt: number
}

const Discovery = Schema.Struct({ issuer: Schema.String, jwks_uri: Schema.String })
const Jwks = Schema.Struct({
  keys: Schema.Array(Schema.Struct({
    kty: Schema.String,
    kid: Schema.optional(Schema.String),
    use: Schema.optional(Schema.String),
    n: Schema.optional(Schema.String),
    e: Schema.optional(Schema.String)
  }))
})

/** Why the keys could not be had (never a secret: these are public documents). */
export class KeysUnavailable extends Error {}

const maxDocumentBytes = 256 * 1024

const getJson = <A, I>(client: HttpClient.HttpClient, url: string, schema: Schema.Schema<A, I>) =>
  client.execute(HttpClientRequest.get(url).pipe(HttpClientRequest.acceptJson)).pipe(
    Effect.flatMap((response) =>
      response.status !== 200
        ? Effect.fail(new KeysUnavailable(`${url} answered HTTP ${response.status}`))
        : readBounded(response, maxDocumentBytes)
    ),
    Effect.flatMap((body) =>
      body._tag === "Text"
        ? Schema.decodeUnknown(Schema.parseJson(schema))(body.text)
        : Effect.fail(new KeysUnavailable(`${url}: the body is too large or cut off`))
    ),
    Effect.timeout(Duration.seconds(30)),
    Effect.mapError((error) =>
      error instanceof KeysUnavailable ? error : new KeysUnavailable(`${url}: ${error._tag}`, { cause: error })
    ),
    Effect.scoped
  )

const toKeys = (jwks: typeof Jwks.Type): ReadonlyMap<string, Crypto.KeyObject> => {
  const keys = new Map<string, Crypto.KeyObject>()
  for (const jwk of jwks.keys) {
    if (jwk.kty !== "RSA" || jwk.kid === undefined || (jwk.use !== undefined && jwk.use !== "sig")) continue
    if (jwk.n === undefined || jwk.e === undefined) continue
    try {
      keys.set(jwk.kid, Crypto.createPublicKey({ key: { kty: "RSA", n: jwk.n, e: jwk.e }, format: "jwk" }))
    } catch {
      // A key that does not parse cannot have signed anything we accept.
    }
  }
  return keys
}

/** @internal */
export interface Settings {
  readonly refreshIntervalMs: number
  readonly maxTenants: number
}

/** @internal */
export const make = (client: HttpClient.HttpClient, settings: Settings) => {
  const entries = new Map<string, TenantKeys>()
  const inFlight = new Map<string, Effect.Effect<TenantKeys, KeysUnavailable>>()

  const fetch = (authority: string, tenantId: string) =>
    Effect.gen(function*() {
      const discovery = yield* getJson(
        client,
        `${authority}/${tenantId}/v2.0/.well-known/openid-configuration`,
        Discovery
      )
      const jwksUri = URL.canParse(discovery.jwks_uri) ? new URL(discovery.jwks_uri) : undefined
      // The keys come from the authority's host or the issuer's (an alias host may name the canonical one), over TLS.
      const issuerOrigin = URL.canParse(discovery.issuer) ? new URL(discovery.issuer).origin : undefined
      if (
        jwksUri === undefined || jwksUri.protocol !== "https:" ||
        (jwksUri.origin !== new URL(authority).origin && jwksUri.origin !== issuerOrigin)
      ) {
        return yield* Effect.fail(new KeysUnavailable("the jwks_uri is not on the authority's or the issuer's host"))
      }
      const jwks = yield* getJson(client, jwksUri.href, Jwks)
      return { issuer: discovery.issuer, keys: toKeys(jwks), fetchedAt: yield* Clock.currentTimeMillis }
    })

  // One fetch per key however many callers; a failure is not kept (the next call tries again).
  const load = (key: string, authority: string, tenantId: string) =>
    Effect.suspend(() => {
      const running = inFlight.get(key)
      if (running !== undefined) return running
      return Effect.flatMap(
        Effect.cached(Effect.ensuring(fetch(authority, tenantId), Effect.sync(() => inFlight.delete(key)))),
        (shared) => {
          inFlight.set(key, shared)
          return Effect.tap(shared, (loaded) =>
            Effect.sync(() => {
              entries.delete(key)
              // Bounded: the oldest entry goes first (insertion order).
              if (entries.size >= settings.maxTenants) entries.delete(entries.keys().next().value!)
              entries.set(key, loaded)
            }))
        }
      )
    })

  /** The tenant's keys; with `kid` unknown to them, fetched again unless that was done within the interval. */
  const keysFor = (authority: string, tenantId: string, kid: string) =>
    Effect.gen(function*() {
      const key = `${authority}|${tenantId.toLowerCase()}`
      const known = entries.get(key)
      if (known === undefined) return yield* load(key, authority, tenantId)
      if (known.keys.has(kid)) return known
      const now = yield* Clock.currentTimeMillis
      return now - known.fetchedAt < settings.refreshIntervalMs ? known : yield* load(key, authority, tenantId)
    })

  return { keysFor, size: () => entries.size }
}
