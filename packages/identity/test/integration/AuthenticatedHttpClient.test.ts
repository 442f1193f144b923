import { Emulator } from "@effect-entra/emulator"
import { HttpClient } from "@effect/platform"
import { assert, layer } from "@effect/vitest"
import { Effect } from "effect"
import * as AuthenticatedHttpClient from "../../src/AuthenticatedHttpClient.js"
import * as E from "./fixtures/Emulated.js"

interface Me {
  readonly preferred_username?: string
  readonly tid?: string
  readonly xms_cc?: ReadonlyArray<string>
}

/** The credential against the emulator, and a client signing for its API and allowed to reach only its host. */
const signedClient = (options: Partial<AuthenticatedHttpClient.Options> = {}) =>
  Effect.gen(function*() {
    const setup = yield* E.setup()
    const http = yield* HttpClient.HttpClient
    const client = AuthenticatedHttpClient.authenticate(http, setup.credential, {
      scopes: [setup.emulator.defaults.scope],
      allowedHosts: [new URL(setup.emulator.authority).host],
      ...options
    })
    return { ...setup, client, me: `${setup.emulator.authority}/_resource/me` }
  })

const resourceStatuses = Effect.flatMap(
  Emulator,
  (emulator) => Effect.map(emulator.requests({ endpoint: "resource" }), (log) => log.map((e) => e.status))
)

layer(E.EmulatorLive)("AuthenticatedHttpClient against the emulator", (it) => {
  it.effect("a signed GET /_resource/me is accepted and answers with the signed-in user", () =>
    E.withCredentialDeps(Effect.gen(function*() {
      const { client, emulator, me } = yield* signedClient()
      const response = yield* client.get(me)
      assert.strictEqual(response.status, 200)
      const body = (yield* response.json) as Me
      assert.strictEqual(body.preferred_username, "alice@contoso.example")
      assert.strictEqual(body.tid, emulator.defaults.tenantId)
      // CAE is on by default: the token carries the cp1 capability.
      assert.deepStrictEqual(body.xms_cc, ["cp1"])
      yield* client.get(me)
      assert.deepStrictEqual(yield* E.countTokenRequests, { authorization_code: 1 })
      assert.deepStrictEqual(yield* resourceStatuses, [200, 200])
    })))

  it.effect("a CAE claims challenge is answered transparently with a token carrying the claims", () =>
    E.withCredentialDeps(Effect.gen(function*() {
      const { client, emulator, me } = yield* signedClient()
      assert.strictEqual((yield* client.get(me)).status, 200)
      const claims = { access_token: { nbf: { essential: true, value: "1604106651" } } }
      yield* emulator.challengeResource(claims)

      const response = yield* client.get(me)
      assert.strictEqual(response.status, 200)
      assert.strictEqual(((yield* response.json) as Me).preferred_username, "alice@contoso.example")
      assert.deepStrictEqual(yield* resourceStatuses, [200, 401, 200])
      const tokens = yield* E.tokenRequests
      assert.deepStrictEqual(tokens.map((e) => [e.grantType, e.hasClaims, e.status]), [
        ["authorization_code", true, 200],
        ["refresh_token", true, 200]
      ])

      // The claims token replaced the revoked one in the cache: the next request needs neither a retry nor Entra.
      assert.strictEqual((yield* client.get(me)).status, 200)
      assert.deepStrictEqual(yield* resourceStatuses, [200, 401, 200, 200])
      assert.strictEqual((yield* E.tokenRequests).length, 2)
    })))

  it.effect("a token for the wrong audience gets the resource's 401, returned as it is and not retried", () =>
    E.withCredentialDeps(Effect.gen(function*() {
      const { credential, emulator, me } = yield* signedClient()
      // The code is redeemed for the API; the Graph token then comes from the refresh token.
      yield* credential.getToken(emulator.defaults.scope, { enableCae: true })
      yield* emulator.clearRequests()
      const graphClient = AuthenticatedHttpClient.authenticate(yield* HttpClient.HttpClient, credential, {
        scopes: ["https://graph.microsoft.com/User.Read"],
        allowedHosts: [new URL(emulator.authority).host]
      })

      const response = yield* graphClient.get(me)
      assert.strictEqual(response.status, 401)
      assert.include(response.headers["www-authenticate"], "error=\"invalid_token\"")
      assert.deepStrictEqual(yield* response.json, {
        error: "invalid_token",
        error_description: "the audience is invalid"
      })
      assert.deepStrictEqual(yield* resourceStatuses, [401])
      assert.deepStrictEqual(yield* E.countTokenRequests, { refresh_token: 1 })
    })))

  it.effect("the emulator's host is refused when only the scopes' host is allowed: no token, no request", () =>
    E.withCredentialDeps(Effect.gen(function*() {
      const { client, emulator, me } = yield* signedClient({
        scopes: ["https://graph.microsoft.com/User.Read"],
        allowedHosts: undefined
      })
      const error = yield* Effect.flip(client.get(me))
      assert.strictEqual(error._tag, "AuthenticatedHttpClientError")
      if (error._tag === "AuthenticatedHttpClientError") assert.strictEqual(error.reason, "HostNotAllowed")
      // Only the sign-in reached the emulator.
      assert.deepStrictEqual((yield* emulator.requests()).map((e) => e.endpoint), ["authorize"])
    })))
})
