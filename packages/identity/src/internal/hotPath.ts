/**
 * The credential's synchronous path for a fresh cached token. A call's arguments are resolved to their cache key
 * once and remembered, with the AccessToken last built for that key: canonicalising scopes, building the key
 * string and re-wrapping the entry on every call cost more than the map lookup itself.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import type { AccessToken } from "../AccessToken.js"
import { InvalidOptionError } from "../AuthenticationError.js"
import type * as CacheLookup from "../CacheLookup.js"
import type * as RefreshPolicy from "../RefreshPolicy.js"
import type * as TokenCache from "../TokenCache.js"
import type { GetTokenOptions } from "../TokenCredential.js"
import * as TokenRequest from "../TokenRequest.js"
import { toAccessToken } from "./tokenEntry.js"

/** Span options of `AuthorizationCodeCredential.getToken`. */
export interface SpanOptions {
  readonly captureStackTrace: false
  readonly attributes: Record<string, unknown>
}

/** @internal */
export const getTokenSpan = (request: TokenRequest.TokenRequest, extra?: Record<string, unknown>): SpanOptions => ({
  captureStackTrace: false,
  attributes: {
    "entra.tenant_id": request.tenantId,
    "entra.scopes": request.scopeKey,
    "entra.cae": request.cae,
    "entra.claims": request.bypassCache,
    ...extra
  }
})

/** One call shape, resolved. */
export interface Hot {
  readonly request: TokenRequest.TokenRequest
  readonly key: string
  /** The span of a hit, built once. */
  readonly span: SpanOptions
  entry: TokenCache.AccessTokenEntry | undefined
  token: AccessToken | undefined
  /** `Effect.succeed(token)`, built once per token: a hit allocates nothing. */
  served: Effect.Effect<AccessToken> | undefined
}

/** @internal */
export interface HotPath {
  /** The record for these arguments once the account is known; none for a claims request (never cached). */
  readonly hotFor: (scopes: string | ReadonlyArray<string>, options?: GetTokenOptions) => Hot | undefined
  /** The record's token if the cache holds a fresh one (counted as a hit). */
  readonly freshToken: (hot: Hot) => AccessToken | undefined
  /** {@link HotPath.freshToken} as an effect that succeeds with it. */
  readonly served: (hot: Hot) => Effect.Effect<AccessToken> | undefined
}

const maxHotKeys = 10_000

/** Other call forms (a scope list, a tenant, CAE: what the signed HttpClient sends), keyed by their arguments. */
const argumentsKey = (scopes: string | ReadonlyArray<string>, options: GetTokenOptions | undefined) => {
  const tenantId = options?.tenantId ?? ""
  if (typeof tenantId !== "string") return undefined
  const list = typeof scopes === "string" ? scopes : Array.isArray(scopes) ? scopes.join("\u0000") : undefined
  if (list === undefined) return undefined
  return `${options?.enableCae === true ? "cae" : "-"} ${typeof scopes} ${tenantId} ${list}`
}

/** @internal */
export const make = (options: {
  readonly client: TokenRequest.Client & TokenRequest.TenantPolicy
  readonly homeAccountId: () => string | undefined
  readonly lookup: CacheLookup.Service
  readonly policy: RefreshPolicy.RefreshPolicy
}): HotPath => {
  const { client, lookup, policy } = options
  const byScope = new Map<string, Hot>()
  const byArguments = new Map<string, Hot>()

  const record = (homeAccountId: string, scopes: string | ReadonlyArray<string>, call: GetTokenOptions | undefined) => {
    const plain = typeof scopes === "string" && call?.tenantId === undefined && call?.enableCae !== true
    const memo = plain ? byScope : byArguments
    const memoKey = plain ? scopes as string : argumentsKey(scopes, call)
    if (memoKey !== undefined) {
      const known = memo.get(memoKey)
      if (known !== undefined) return known
    }
    const request = TokenRequest.unsafeMake(client, scopes, call)
    if (request instanceof InvalidOptionError) return undefined
    const hot: Hot = {
      request,
      key: TokenRequest.accessTokenKey(client, homeAccountId, request),
      span: getTokenSpan(request, { "entra.cache.hit": true }),
      entry: undefined,
      token: undefined,
      served: undefined
    }
    // A key is only stored after its options passed validation.
    if (memoKey !== undefined) {
      if (memo.size >= maxHotKeys) memo.clear()
      memo.set(memoKey, hot)
    }
    return hot
  }

  const hotFor = (scopes: string | ReadonlyArray<string>, call?: GetTokenOptions): Hot | undefined => {
    const homeAccountId = options.homeAccountId()
    return homeAccountId === undefined || (call?.claims !== undefined && call.claims !== "")
      ? undefined
      : record(homeAccountId, scopes, call)
  }

  const freshToken = (hot: Hot): AccessToken | undefined => {
    const entry = lookup.peek(hot.key, policy)
    if (entry === undefined) return undefined
    if (hot.entry !== entry || hot.token === undefined) {
      hot.entry = entry
      hot.token = toAccessToken(entry)
      hot.served = Effect.succeed(hot.token)
    }
    return hot.token
  }

  const served = (hot: Hot) => freshToken(hot) === undefined ? undefined : hot.served

  return { hotFor, freshToken, served }
}
