/**
 * The ID token's validation, claim by claim, against an in-process tenant that publishes discovery and keys
 * (no network); the key cache (once per tenant, refetched on an unknown kid at most once a minute, bounded); and
 * RedeemCode with a validator: a failure is typed and caches nothing, a success names the account by its claims.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Redacted, TestClock } from "effect"
import * as Crypto from "node:crypto"
import type { AuthenticationError } from "../src/AuthenticationError.js"
import * as IdTokenValidator from "../src/IdTokenValidator.js"
import * as RedeemCode from "../src/RedeemCode.js"
import * as TokenCache from "../src/TokenCache.js"
import * as TokenEndpoint from "../src/TokenEndpoint.js"
import * as TokenRequest from "../src/TokenRequest.js"

const authority = "https://login.example"
const tenantGuid = "72f988bf-86f1-41af-91ab-2d7cd011db47"
const clientId = "client-1"
const now = 1_800_000_000_000
const seconds = now / 1000

const newKey = (kid: string) => ({ kid, ...Crypto.generateKeyPairSync("rsa", { modulusLength: 2048 }) })
type Key = ReturnType<typeof newKey>
const trusted = newKey("k1")
const foreign = newKey("k1")

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url")

const sign = (claims: Record<string, unknown>, key: Key = trusted, header: Record<string, unknown> = {}) => {
  const input = `${b64({ typ: "JWT", alg: "RS256", kid: key.kid, ...header })}.${b64(claims)}`
  return `${input}.${Crypto.sign("sha256", Buffer.from(input), key.privateKey).toString("base64url")}`
}

const goodClaims = (overrides: Record<string, unknown> = {}) => ({
  aud: clientId,
  iss: `${authority}/${tenantGuid}/v2.0`,
  iat: seconds,
  nbf: seconds,
  exp: seconds + 3600,
  oid: "oid-alice",
  tid: tenantGuid,
  name: "Alice",
  preferred_username: "alice@contoso.example",
  ...overrides
})

/** A tenant publishing discovery (the `{tenantid}` template for multi-tenant aliases) and its keys. */
const makeTenant = () => {
  const fetched: Array<string> = []
  const state = { keys: [trusted] as Array<Key>, jwksHost: authority, failDiscovery: false }
  const client = HttpClient.make((request, url) => {
    fetched.push(url.pathname)
    const [, tenant, , kind] = url.pathname.split("/")
    const json = (body: unknown, status = 200) =>
      Effect.succeed(HttpClientResponse.fromWeb(request, new Response(JSON.stringify(body), { status })))
    if (kind === ".well-known") {
      if (state.failDiscovery) return json({ error: "unavailable" }, 503)
      const multi = ["common", "organizations"].includes(tenant!)
      return json({
        issuer: `${authority}/${multi ? "{tenantid}" : tenant}/v2.0`,
        jwks_uri: `${state.jwksHost}/${tenant}/discovery/v2.0/keys`
      })
    }
    return json({
      keys: state.keys.map((key) => ({
        kty: "RSA",
        use: "sig",
        kid: key.kid,
        ...key.publicKey.export({ format: "jwk" })
      }))
    })
  })
  return { fetched, state, layer: Layer.succeed(HttpClient.HttpClient, client) }
}

const validator = (tenant: ReturnType<typeof makeTenant>, options: IdTokenValidator.Options = {}) =>
  Effect.gen(function*() {
    yield* TestClock.setTime(now)
    return yield* IdTokenValidator.make(options).pipe(Effect.provide(tenant.layer), Effect.orDie)
  })

const request = (idToken: string, overrides: Partial<IdTokenValidator.ValidateRequest> = {}) => ({
  idToken: Redacted.make(idToken),
  authority,
  tenantId: tenantGuid,
  clientId,
  ...overrides
})

const failure = (service: IdTokenValidator.Service, input: IdTokenValidator.ValidateRequest) =>
  Effect.map(Effect.flip(service.validate(input)), (error) => {
    assert.strictEqual(error.reason, "InvalidIdToken")
    assert.strictEqual(error.errorResponse.error, "invalid_id_token")
    return error.errorResponse.errorDescription
  })

describe("IdTokenValidator", () => {
  it.effect("a valid token: its claims; discovery and keys fetched once for the tenant", () =>
    Effect.gen(function*() {
      const tenant = makeTenant()
      const service = yield* validator(tenant)
      const claims = yield* service.validate(request(sign(goodClaims())))
      assert.strictEqual(claims.preferred_username, "alice@contoso.example")
      yield* service.validate(request(sign(goodClaims({ oid: "oid-bob" }))))
      assert.deepStrictEqual(tenant.fetched, [
        `/${tenantGuid}/v2.0/.well-known/openid-configuration`,
        `/${tenantGuid}/discovery/v2.0/keys`
      ])
    }))

  it.effect("common and organizations: the {tenantid} issuer filled in with the token's tid", () =>
    Effect.gen(function*() {
      const service = yield* validator(makeTenant())
      for (const alias of ["common", "organizations"]) {
        const claims = yield* service.validate(request(sign(goodClaims()), { tenantId: alias }))
        assert.strictEqual(claims.tid, tenantGuid)
        const other = "0b0b0b0b-0000-4000-8000-000000000000"
        // A tid that is not the issuer's tenant.
        assert.match(
          yield* failure(service, request(sign(goodClaims({ tid: other })), { tenantId: alias })),
          /issuer/
        )
      }
    }))

  const rejected: ReadonlyArray<readonly [string, () => string, RegExp, Partial<IdTokenValidator.ValidateRequest>?]> = [
    ["not a JWT", () => "not-a-jwt", /not a signed JWT/],
    ["alg none", () => `${b64({ alg: "none", kid: "k1" })}.${b64(goodClaims())}.`, /not a signed JWT|alg/],
    ["alg HS256", () => sign(goodClaims(), trusted, { alg: "HS256" }), /alg/],
    ["a tampered payload", () => {
      const [h, , s] = sign(goodClaims()).split(".")
      return `${h}.${b64(goodClaims({ oid: "oid-mallory" }))}.${s}`
    }, /signature is invalid/],
    ["a foreign key under a known kid", () => sign(goodClaims(), foreign), /signature is invalid/],
    ["the wrong audience", () => sign(goodClaims({ aud: "another-client" })), /audience/],
    ["several audiences, another azp", () => sign(goodClaims({ aud: [clientId, "x"], azp: "x" })), /azp/],
    ["the wrong issuer", () => sign(goodClaims({ iss: "https://evil.example/t/v2.0" })), /issuer/],
    ["another tenant's token", () =>
      sign(goodClaims({
        tid: "0b0b0b0b-0000-4000-8000-000000000000",
        iss: `${authority}/0b0b0b0b-0000-4000-8000-000000000000/v2.0`
      })), /issuer/],
    ["no tid", () => sign(goodClaims({ tid: undefined })), /tid/],
    ["expired beyond the skew", () => sign(goodClaims({ exp: seconds - 301 })), /expired/],
    ["not yet valid beyond the skew", () => sign(goodClaims({ nbf: seconds + 301 })), /nbf/],
    ["issued in the future", () => sign(goodClaims({ iat: seconds + 301, nbf: undefined })), /iat/],
    ["no exp", () => sign(goodClaims({ exp: undefined })), /no exp/],
    ["the wrong nonce", () => sign(goodClaims({ nonce: "other" })), /nonce/, { nonce: "n-0S6_WzA2Mj" }],
    ["no nonce when one is expected", () => sign(goodClaims()), /nonce/, { nonce: "n-0S6_WzA2Mj" }]
  ]
  for (const [name, token, reason, overrides] of rejected) {
    it.effect(`refuses ${name}`, () =>
      Effect.gen(function*() {
        const service = yield* validator(makeTenant())
        assert.match(yield* failure(service, request(token(), overrides)), reason)
      }))
  }

  it.effect("accepts exp, nbf and iat within the 5-minute skew, and the expected nonce", () =>
    Effect.gen(function*() {
      const service = yield* validator(makeTenant())
      const claims = goodClaims({ exp: seconds - 299, nbf: seconds + 299, iat: seconds + 299, nonce: "n-1" })
      yield* service.validate(request(sign(claims), { nonce: "n-1" }))
    }))

  it.effect("an unknown kid fetches the keys again, at most once a minute (a rolled key is then accepted)", () =>
    Effect.gen(function*() {
      const tenant = makeTenant()
      const service = yield* validator(tenant)
      yield* service.validate(request(sign(goodClaims())))
      const rolled = newKey("k2")
      tenant.state.keys = [trusted, rolled]
      yield* TestClock.adjust("30 seconds")
      // Within the minute: the keys are not fetched again.
      assert.match(yield* failure(service, request(sign(goodClaims(), rolled))), /does not publish/)
      assert.strictEqual(tenant.fetched.length, 2)
      yield* TestClock.adjust("31 seconds")
      yield* service.validate(request(sign(goodClaims(), rolled)))
      assert.strictEqual(tenant.fetched.length, 4)
      // A kid nobody publishes, right after: no fetch.
      assert.match(yield* failure(service, request(sign(goodClaims(), newKey("k3")))), /does not publish/)
      assert.strictEqual(tenant.fetched.length, 4)
    }))

  it.effect("keeps a bounded number of tenants (the oldest is fetched again)", () =>
    Effect.gen(function*() {
      const tenant = makeTenant()
      const service = yield* validator(tenant, { maxTenants: 2 })
      const tenants = [
        "aaaaaaaa-0000-4000-8000-000000000001",
        "aaaaaaaa-0000-4000-8000-000000000002",
        "aaaaaaaa-0000-4000-8000-000000000003"
      ]
      for (const tid of [...tenants, tenants[0]!]) {
        yield* service.validate(request(sign(goodClaims({ tid, iss: `${authority}/${tid}/v2.0` })), { tenantId: tid }))
      }
      assert.strictEqual(tenant.fetched.length, 8)
    }))

  it.effect("unreachable discovery is a typed failure, not kept: the next call fetches again", () =>
    Effect.gen(function*() {
      const tenant = makeTenant()
      const service = yield* validator(tenant)
      tenant.state.failDiscovery = true
      assert.match(yield* failure(service, request(sign(goodClaims()))), /could not be fetched.*503/)
      tenant.state.failDiscovery = false
      yield* service.validate(request(sign(goodClaims())))
    }))

  it.effect("keys published on a host that is neither the authority's nor the issuer's are not trusted", () =>
    Effect.gen(function*() {
      const tenant = makeTenant()
      tenant.state.jwksHost = "https://keys.evil.example"
      const service = yield* validator(tenant)
      assert.match(yield* failure(service, request(sign(goodClaims()))), /not on the authority.s or the issuer.s host/)
    }))
})

describe("RedeemCode with a validator", () => {
  const client: RedeemCode.RedeemClient = {
    authority,
    tenantId: tenantGuid,
    clientId,
    redirectUri: "https://app.example/callback",
    nonce: "n-42"
  }
  const answering = (idToken: string | undefined) =>
    Layer.succeed(
      TokenEndpoint.TokenEndpoint,
      TokenEndpoint.TokenEndpoint.of({
        redeemCode: () =>
          Effect.succeed({
            accessToken: Redacted.make("at-1"),
            tokenType: "Bearer",
            requestedOn: now,
            expiresOn: now + 3_600_000,
            refreshToken: Redacted.make("rt-1"),
            ...(idToken === undefined ? {} : { idToken: Redacted.make(idToken) })
          }),
        redeemRefreshToken: () => Effect.die("unused")
      })
    )
  const redeem = (idToken: string | undefined, redeemClient: RedeemCode.RedeemClient = client) =>
    Effect.gen(function*() {
      const tenant = makeTenant()
      yield* TestClock.setTime(now)
      const context = yield* Layer.build(
        Layer.provideMerge(
          RedeemCode.layer,
          Layer.mergeAll(answering(idToken), TokenCache.layerMemory, Layer.orDie(IdTokenValidator.layer()))
        ).pipe(Layer.provide(tenant.layer))
      )
      const step = yield* Effect.provide(RedeemCode.RedeemCode, context)
      const request = TokenRequest.make(client, "api://resource/.default")
      assert.isTrue(request._tag === "Right")
      const result = yield* Effect.either(step.redeem({
        client: redeemClient,
        code: Redacted.make("code-1"),
        request: request._tag === "Right" ? request.right : (undefined as never)
      }))
      const cache = yield* Effect.provide(TokenCache.TokenCache, context)
      return { result, accounts: yield* cache.listAccounts }
    })

  it.scoped("the account is the validated claims'", () =>
    Effect.gen(function*() {
      const { accounts, result } = yield* redeem(sign(goodClaims({ nonce: "n-42" })))
      assert.isTrue(result._tag === "Right")
      if (result._tag !== "Right") return
      assert.deepStrictEqual(result.right.account, {
        homeAccountId: `oid-alice.${tenantGuid}`,
        tenantId: tenantGuid,
        username: "alice@contoso.example",
        name: "Alice"
      })
      assert.lengthOf(accounts, 1)
    }))

  for (
    const [name, token] of [
      ["a wrong nonce", sign(goodClaims({ nonce: "n-other" }))],
      ["a foreign signature", sign(goodClaims({ nonce: "n-42" }), foreign)],
      ["no ID token", undefined]
    ] as const
  ) {
    it.scoped(`${name}: InvalidIdToken, the code counts as spent, and nothing is cached`, () =>
      Effect.gen(function*() {
        const { accounts, result } = yield* redeem(token)
        assert.isTrue(result._tag === "Left")
        const error = (result as { readonly left: AuthenticationError }).left
        assert.strictEqual(error.reason, "InvalidIdToken")
        assert.isTrue(RedeemCode.spendsCode(error))
        assert.lengthOf(accounts, 0)
      }))
  }

  it.scoped("validateIdToken: true without a validator fails closed, before the code is sent", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(now)
      let sent = 0
      const counting = Layer.succeed(
        TokenEndpoint.TokenEndpoint,
        TokenEndpoint.TokenEndpoint.of({
          redeemCode: () => Effect.sync(() => sent++).pipe(Effect.zipRight(Effect.die("must not be sent"))),
          redeemRefreshToken: () => Effect.die("unused")
        })
      )
      const context = yield* Layer.build(
        Layer.provideMerge(RedeemCode.layer, Layer.merge(counting, TokenCache.layerMemory))
      )
      const step = yield* Effect.provide(RedeemCode.RedeemCode, context)
      const request = TokenRequest.make(client, "api://resource/.default")
      const error = yield* Effect.flip(step.redeem({
        client: { ...client, validateIdToken: true },
        code: Redacted.make("code-1"),
        request: request._tag === "Right" ? request.right : (undefined as never)
      }))
      assert.strictEqual(error.reason, "InvalidIdToken")
      assert.match(error.errorResponse.errorDescription, /no IdTokenValidator/)
      assert.strictEqual(sent, 0)
    }))

  it.scoped("validateIdToken: false skips the validator of the context", () =>
    Effect.gen(function*() {
      const { result } = yield* redeem(sign(goodClaims(), foreign), { ...client, validateIdToken: false })
      assert.isTrue(result._tag === "Right")
    }))
})
