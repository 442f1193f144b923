import { assert, layer } from "@effect/vitest"
import { Effect } from "effect"
import * as DiagnosticsChannel from "node:diagnostics_channel"
import * as E from "./fixtures/Emulated.js"

// Every new TLS connection costs a handshake (milliseconds, more than the rest of a token request on loopback), so
// the credential must keep its connection to Entra open between requests. undici reports each connection it opens.
const graph = ["User.Read", "Mail.Read", "Files.Read", "Calendars.Read", "Mail.Send"]
  .map((scope) => `https://graph.microsoft.com/${scope}`)

layer(E.EmulatorLive)("connections to the token endpoint", (it) => {
  it.effect("one kept-alive connection serves a redemption and a run of refreshes", () =>
    E.withCredentialDeps(Effect.gen(function*() {
      const { credential, emulator } = yield* E.setup()
      const port = new URL(emulator.authority).port
      const connections: Array<string> = []
      const onConnect = (message: unknown) => {
        const address = (message as { connectParams?: { port?: string | number } }).connectParams
        if (String(address?.port) === port) connections.push(String(address?.port))
      }
      DiagnosticsChannel.subscribe("undici:client:connected", onConnect)
      yield* Effect.addFinalizer(() =>
        Effect.sync(() => DiagnosticsChannel.unsubscribe("undici:client:connected", onConnect))
      )
      for (const scope of graph) yield* credential.getToken(scope)
      assert.deepStrictEqual(E.grantCounts(yield* E.tokenRequests), { authorization_code: 1, refresh_token: 4 })
      // undici may open a second socket once while the pool warms up; one per request would be 5.
      assert.isAtLeast(connections.length, 1)
      assert.isAtMost(connections.length, 2)
    })))
})
