import { Emulator } from "@effect-entra/emulator"
import { assert, layer } from "@effect/vitest"
import { Effect } from "effect"
import * as DiagnosticsChannel from "node:diagnostics_channel"
import { AuthorizationCodeCredential } from "../../src/promise.js"
import * as E from "./fixtures/Emulated.js"

// Every new TLS connection costs a handshake (milliseconds, more than the rest of a token request on loopback), so
// the credential must keep its connection to Entra open between requests. undici reports each connection it opens.
const graph = ["User.Read", "Mail.Read", "Files.Read", "Calendars.Read", "Mail.Send"]
  .map((scope) => `https://graph.microsoft.com/${scope}`)

/** The connections undici opens to `port` from now until the scope closes. */
const connectionsTo = (port: string) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const connections: Array<string> = []
      const onConnect = (message: unknown) => {
        const address = (message as { connectParams?: { port?: string | number } }).connectParams
        if (String(address?.port) === port) connections.push(port)
      }
      DiagnosticsChannel.subscribe("undici:client:connected", onConnect)
      return { connections, onConnect }
    }),
    ({ onConnect }) => Effect.sync(() => DiagnosticsChannel.unsubscribe("undici:client:connected", onConnect))
  ).pipe(Effect.map(({ connections }) => connections))

layer(E.EmulatorLive)("connections to the token endpoint", (it) => {
  it.effect("one kept-alive connection serves a redemption and a run of refreshes", () =>
    E.withCredentialDeps(Effect.gen(function*() {
      const { credential, emulator } = yield* E.setup()
      const port = new URL(emulator.authority).port
      const connections = yield* connectionsTo(port)
      for (const scope of graph) yield* credential.getToken(scope)
      assert.deepStrictEqual(E.grantCounts(yield* E.tokenRequests), { authorization_code: 1, refresh_token: 4 })
      // undici may open a second socket once while the pool warms up; one per request would be 5.
      assert.isAtLeast(connections.length, 1)
      assert.isAtMost(connections.length, 2)
    })))
})

layer(E.EmulatorLive)("the Promise facade's shared connection pool", (it) => {
  it.effect("credentials share kept-alive connections, also with one signing in after the others closed", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator
      yield* emulator.reset()
      const port = new URL(emulator.authority).port
      const connections = yield* connectionsTo(port)
      const signIn = () =>
        Effect.promise(async () => {
          const { code } = await Effect.runPromise(Effect.orDie(emulator.signIn({})))
          const d = emulator.defaults
          return new AuthorizationCodeCredential(d.tenantId, d.clientId, code, d.redirectUri, {
            clientSecret: d.clientSecret,
            authority: emulator.authority,
            ca: emulator.caPem
          })
        })
      const first = yield* signIn()
      yield* Effect.promise(() => first.getToken(emulator.defaults.scope))
      const afterFirst = connections.length
      // Four more users sign in, one after another, while the first credential is open: no new handshake each.
      const others: Array<AuthorizationCodeCredential> = []
      for (let i = 0; i < 4; i++) {
        const other = yield* signIn()
        yield* Effect.promise(() => other.getToken(emulator.defaults.scope))
        others.push(other)
      }
      assert.isAtMost(connections.length - afterFirst, 1)
      // Closing one leaves the pool to the others.
      yield* Effect.promise(() => first.close())
      yield* Effect.promise(() => others[0]!.getToken("https://graph.microsoft.com/Mail.Read"))
      for (const other of others) yield* Effect.promise(() => other.close())
      // All closed: the pool outlives them for its grace period, so the next sign-in needs no handshake either.
      const before = connections.length
      const last = yield* signIn()
      yield* Effect.promise(() => last.getToken(emulator.defaults.scope))
      yield* Effect.promise(() => last.close())
      assert.strictEqual(connections.length - before, 0)
    }).pipe(Effect.scoped))
})
