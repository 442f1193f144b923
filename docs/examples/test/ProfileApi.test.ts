import { Emulator } from "@effect-entra/emulator"
import { FetchHttpClient, HttpClient, HttpClientResponse, HttpServer } from "@effect/platform"
import { assert, layer } from "@effect/vitest"
import { Context, Effect, Layer, Schema, TestClock } from "effect"
import { DemoServerLive } from "../src/Demo.js"
import { Profile } from "../src/ProfileService.js"

/** Starts the application's server (signing `username` in on the emulator) and returns a plain client for it. */
const startServer = (username?: string) =>
  Effect.gen(function*() {
    const context = yield* Layer.build(DemoServerLive({ username }))
    const address = Context.get(context, HttpServer.HttpServer).address
    assert(address._tag === "TcpAddress")
    assert.strictEqual(address.hostname, "127.0.0.1")
    const client = yield* HttpClient.HttpClient
    const get = (path: string) => client.get(`http://127.0.0.1:${address.port}${path}`)
    return {
      get,
      profile: get("/profile").pipe(
        Effect.tap((response) => assert.strictEqual(response.status, 200)),
        Effect.flatMap(HttpClientResponse.schemaBodyJson(Profile))
      )
    }
  })

// The emulator signs its ID tokens at the real time, and the credential validates them against the Effect clock.
const wallClock = TestClock.setTime(Date.now())

const ErrorBody = Schema.Struct({ error: Schema.String, message: Schema.String })

// The server is called over real HTTP (fetch on loopback), as any other client of the application would.
layer(Layer.merge(Emulator.layer(), FetchHttpClient.layer))("the example HTTP server against the emulator", (it) => {
  it.scoped("GET /profile answers with the signed-in user; the second call reuses the cached token", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.reset()
      yield* wallClock
      const server = yield* startServer()
      const first = yield* server.profile
      assert.strictEqual(first.preferred_username, "alice@contoso.example")
      assert.strictEqual(first.name, "Alice Example")
      assert.strictEqual(first.tid, emulator.defaults.tenantId)
      assert.deepStrictEqual(yield* server.profile, first)
      // One token (from the code) for both calls; the API saw it twice.
      const tokens = yield* emulator.requests({ endpoint: "token" })
      assert.deepStrictEqual(tokens.map((entry) => [entry.grantType, entry.status]), [["authorization_code", 200]])
      const resource = yield* emulator.requests({ endpoint: "resource" })
      assert.deepStrictEqual(resource.map((entry) => entry.status), [200, 200])
    }))

  it.scoped("GET /health answers without calling the API", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.reset()
      yield* wallClock
      const server = yield* startServer()
      const response = yield* server.get("/health")
      assert.strictEqual(response.status, 200)
      assert.deepStrictEqual(yield* response.json, { status: "ok" })
      assert.deepStrictEqual(yield* emulator.requests({ endpoint: "resource" }), [])
      assert.strictEqual((yield* server.get("/nowhere")).status, 404)
    }))

  it.scoped("a claims challenge from the API (CAE) is answered inside: GET /profile stays 200", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.reset()
      yield* wallClock
      const server = yield* startServer("bob@contoso.example")
      const before = yield* server.profile
      yield* emulator.challengeResource({ access_token: { nbf: { essential: true, value: "1604106651" } } })
      const after = yield* server.profile
      assert.deepStrictEqual(after, before)
      assert.strictEqual(after.name, "Bob Example")
      // The API refused the revoked token once; the credential fetched one with the claims and the call went on.
      const resource = yield* emulator.requests({ endpoint: "resource" })
      assert.deepStrictEqual(resource.map((entry) => entry.status), [200, 401, 200])
      const tokens = yield* emulator.requests({ endpoint: "token" })
      assert.deepStrictEqual(tokens.map((entry) => entry.grantType), ["authorization_code", "refresh_token"])
      assert.isTrue(tokens[1]!.hasClaims)
    }))

  it.scoped("a revoked sign-in answers 401 SignInRequired, not a 500", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.reset()
      yield* wallClock
      const server = yield* startServer()
      yield* server.profile
      // The refresh token is revoked and the API challenges the access token: nothing is left to sign with.
      yield* emulator.revokeRefreshTokens()
      yield* emulator.challengeResource({ access_token: { nbf: { essential: true, value: "1604106651" } } })
      const response = yield* server.get("/profile")
      assert.strictEqual(response.status, 401)
      const body = yield* HttpClientResponse.schemaBodyJson(ErrorBody)(response)
      assert.strictEqual(body.error, "SignInRequired")
      assert.notInclude(JSON.stringify(body), "eyJ")
    }))
})
