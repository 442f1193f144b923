import { Emulator } from "@effect-entra/emulator"
import { HttpClient, HttpClientRequest } from "@effect/platform"
import { assert, describe, layer } from "@effect/vitest"
import { Effect } from "effect"
import * as E from "./fixtures/Emulated.js"

const nbfClaims = JSON.stringify({ access_token: { nbf: { essential: true, value: "1604106651" } } })

/** `GET /_resource/me` with a bearer token: the status and the `WWW-Authenticate` header. */
const callResource = (token: string) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator
    const client = yield* HttpClient.HttpClient
    const response = yield* client.execute(
      HttpClientRequest.get(`${emulator.authority}/_resource/me`).pipe(HttpClientRequest.bearerToken(token))
    )
    const body = yield* response.json
    return { status: response.status, challenge: response.headers["www-authenticate"], body }
  }).pipe(Effect.orDie)

/** The claims request of a CAE challenge: `claims="<base64 JSON>"` (ENTRA-PROTOCOL §8). */
const claimsOf = (header: string | undefined) => {
  const match = /claims="([^"]+)"/.exec(header ?? "")
  assert.isNotNull(match)
  return Buffer.from(match![1]!, "base64").toString("utf8")
}

layer(E.EmulatorLive)("claims and tenants against the emulator", (it) => {
  describe("claims", () => {
    it.effect("a claims request bypasses the cache and sends the claims", () =>
      E.withCredentialDeps(Effect.gen(function*() {
        const { credential, emulator } = yield* E.setup()
        const cached = yield* credential.getToken(emulator.defaults.scope)
        const first = yield* credential.getToken(emulator.defaults.scope, { claims: nbfClaims })
        const second = yield* credential.getToken(emulator.defaults.scope, { claims: nbfClaims })
        assert.notStrictEqual(E.tokenOf(first), E.tokenOf(cached))
        assert.notStrictEqual(E.tokenOf(second), E.tokenOf(first))
        const log = yield* E.tokenRequests
        assert.deepStrictEqual(log.map((e) => [e.grantType, e.hasClaims, e.status]), [
          ["authorization_code", false, 200],
          ["refresh_token", true, 200],
          ["refresh_token", true, 200]
        ])
        // A plain call afterwards is served from the cache again.
        yield* credential.getToken(emulator.defaults.scope)
        assert.strictEqual((yield* E.tokenRequests).length, 3)
      })))

    it.effect("a resource's CAE claims challenge is answered by getToken with the decoded claims", () =>
      E.withCredentialDeps(Effect.gen(function*() {
        const { credential, emulator } = yield* E.setup()
        const old = E.tokenOf(yield* credential.getToken(emulator.defaults.scope, { enableCae: true }))
        const before = yield* callResource(old)
        assert.strictEqual(before.status, 200)
        assert.deepStrictEqual((before.body as { xms_cc?: unknown }).xms_cc, ["cp1"])

        yield* emulator.challengeResource({ access_token: { nbf: { essential: true, value: "1604106651" } } })
        const challenged = yield* callResource(old)
        assert.strictEqual(challenged.status, 401)
        assert.include(challenged.challenge, "error=\"insufficient_claims\"")
        const claims = claimsOf(challenged.challenge)
        assert.deepStrictEqual(JSON.parse(claims), JSON.parse(nbfClaims))

        const fresh = E.tokenOf(yield* credential.getToken(emulator.defaults.scope, { enableCae: true, claims }))
        assert.notStrictEqual(fresh, old)
        assert.deepStrictEqual(E.jwtPayload(fresh)["xms_cc"], ["cp1"])
        const after = yield* callResource(fresh)
        assert.strictEqual(after.status, 200)
        assert.strictEqual((after.body as { preferred_username?: unknown }).preferred_username, "alice@contoso.example")
        const last = (yield* E.tokenRequests).at(-1)!
        assert.strictEqual(last.grantType, "refresh_token")
        assert.isTrue(last.hasClaims)
      })))

    it.effect("claims that are not a JSON object are refused before any request", () =>
      E.withCredentialDeps(Effect.gen(function*() {
        const { credential, emulator } = yield* E.setup()
        const error = yield* Effect.flip(credential.getToken(emulator.defaults.scope, { claims: "not json" }))
        assert.strictEqual(error._tag, "InvalidOptionError")
        assert.strictEqual((yield* E.tokenRequests).length, 0)
      })))
  })

  describe("tenants", () => {
    it.effect("a per-request tenantId equal to the default tenant uses the same cached token", () =>
      E.withCredentialDeps(Effect.gen(function*() {
        const { credential, emulator } = yield* E.setup()
        const plain = yield* credential.getToken(emulator.defaults.scope)
        const same = yield* credential.getToken(emulator.defaults.scope, { tenantId: emulator.defaults.tenantId })
        const upper = yield* credential.getToken(emulator.defaults.scope, {
          tenantId: emulator.defaults.tenantId.toUpperCase()
        })
        assert.strictEqual(E.tokenOf(same), E.tokenOf(plain))
        assert.strictEqual(E.tokenOf(upper), E.tokenOf(plain))
        assert.deepStrictEqual(yield* E.countTokenRequests, { authorization_code: 1 })
      })))

    it.effect("another tenant is refused before any request unless additionally allowed", () =>
      E.withCredentialDeps(Effect.gen(function*() {
        const { credential, emulator } = yield* E.setup()
        const error = yield* Effect.flip(
          credential.getToken(emulator.defaults.scope, { tenantId: emulator.defaults.otherTenantId })
        )
        assert.strictEqual(error._tag, "InvalidOptionError")
        if (error._tag === "InvalidOptionError") {
          assert.strictEqual(error.field, "tenantId")
          assert.include(error.message, "additionallyAllowedTenants")
        }
        assert.strictEqual((yield* E.tokenRequests).length, 0)
        // The refusal did not spend the code.
        yield* credential.getToken(emulator.defaults.scope)
        assert.deepStrictEqual(yield* E.countTokenRequests, { authorization_code: 1 })
      })))

    it.effect("an additionally allowed tenant gets its own token from /{tenant}/oauth2/v2.0/token", () =>
      E.withCredentialDeps(Effect.gen(function*() {
        const { defaults } = yield* Emulator
        const { credential, emulator } = yield* E.setup({ additionallyAllowedTenants: [defaults.otherTenantId] })
        const home = yield* credential.getToken(emulator.defaults.scope)
        const other = yield* credential.getToken(emulator.defaults.scope, { tenantId: emulator.defaults.otherTenantId })
        assert.notStrictEqual(E.tokenOf(other), E.tokenOf(home))
        // The user is a guest of the other tenant: the token is issued there, with the guest's own object id and
        // the home tenant as its identity provider, as Entra does.
        const claims = E.jwtPayload(E.tokenOf(other))
        assert.strictEqual(claims["tid"], emulator.defaults.otherTenantId)
        assert.notStrictEqual(claims["oid"], E.jwtPayload(E.tokenOf(home))["oid"])
        assert.isString(claims["idp"])
        const log = yield* E.tokenRequests
        assert.deepStrictEqual(log.map((e) => [e.grantType, e.path, e.status]), [
          ["authorization_code", `/${emulator.defaults.tenantId}/oauth2/v2.0/token`, 200],
          ["refresh_token", `/${emulator.defaults.otherTenantId}/oauth2/v2.0/token`, 200]
        ])
        // Cached per tenant.
        const again = yield* credential.getToken(emulator.defaults.scope, { tenantId: emulator.defaults.otherTenantId })
        assert.strictEqual(E.tokenOf(again), E.tokenOf(other))
        assert.strictEqual((yield* E.tokenRequests).length, 2)
      })))

    it.effect("\"*\" allows any tenant, by id or by domain", () =>
      E.withCredentialDeps(Effect.gen(function*() {
        const { credential, emulator } = yield* E.setup({ additionallyAllowedTenants: ["*"] })
        yield* credential.getToken(emulator.defaults.scope)
        const byId = yield* credential.getToken(emulator.defaults.scope, { tenantId: emulator.defaults.otherTenantId })
        const byDomain = yield* credential.getToken(emulator.defaults.scope, { tenantId: "fabrikam.example" })
        assert.strictEqual(E.jwtPayload(E.tokenOf(byId))["tid"], emulator.defaults.otherTenantId)
        assert.strictEqual(E.jwtPayload(E.tokenOf(byDomain))["tid"], emulator.defaults.otherTenantId)
        const paths = (yield* E.tokenRequests).map((e) => e.path)
        assert.deepStrictEqual(paths.slice(1), [
          `/${emulator.defaults.otherTenantId}/oauth2/v2.0/token`,
          "/fabrikam.example/oauth2/v2.0/token"
        ])
      })))

    it.effect("a first call for another tenant redeems the code there, which Entra refuses (AADSTS700005)", () =>
      E.withCredentialDeps(Effect.gen(function*() {
        const { credential, emulator, secrets } = yield* E.setup({ additionallyAllowedTenants: ["*"] })
        const error = yield* Effect.flip(
          credential.getToken(emulator.defaults.scope, { tenantId: emulator.defaults.otherTenantId })
        )
        assert.strictEqual(error._tag, "AuthenticationError")
        if (error._tag !== "AuthenticationError") return
        assert.strictEqual(error.statusCode, 400)
        assert.strictEqual(error.aadstsCode, 700005)
        assert.strictEqual(error.grantType, "authorization_code")
        E.assertNoSecret(error, secrets)
        const [entry] = yield* E.tokenRequests
        assert.strictEqual(entry!.path, `/${emulator.defaults.otherTenantId}/oauth2/v2.0/token`)
      })))
  })
})
