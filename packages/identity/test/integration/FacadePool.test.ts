import { Emulator } from "@effect-entra/emulator"
import { assert, layer } from "@effect/vitest"
import { Effect } from "effect"
import * as esbuild from "esbuild"
import { spawn } from "node:child_process"
import * as DiagnosticsChannel from "node:diagnostics_channel"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as NodeHttp from "../../src/NodeHttp.js"
import * as E from "./fixtures/Emulated.js"

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

/** One request on a shared client held for the length of the call; returns the client. */
const requestOnce = (url: string, options: NodeHttp.SharedOptions) =>
  Effect.scoped(Effect.gen(function*() {
    const client = yield* NodeHttp.sharedClient(options)
    const response = yield* Effect.orDie(client.get(url))
    yield* Effect.orDie(response.text)
    return client
  }))

// The facade, bundled from the sources, in a process of its own: signs in against this process's emulator, closes,
// and reports what still holds its event loop open.
const child = `
import { AuthorizationCodeCredential } from "./promise.mjs"
const p = JSON.parse(process.env.FACADE_CHILD)
const credential = new AuthorizationCodeCredential(p.tenantId, p.clientId, p.clientSecret, p.code, p.redirectUri, {
  authorityHost: p.authority, ca: p.ca
})
await credential.getToken(p.scope)
await credential.close()
await new Promise((resolve) => setImmediate(resolve))
process.stdout.write(JSON.stringify(process.getActiveResourcesInfo()))
`

const runChild = (dir: string, env: string) =>
  Effect.async<{ readonly code: number | null; readonly stdout: string; readonly stderr: string }>((resume) => {
    const proc = spawn(process.execPath, [Path.join(dir, "child.mjs")], {
      env: { ...process.env, FACADE_CHILD: env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    proc.stdout.on("data", (chunk) => (stdout += chunk))
    proc.stderr.on("data", (chunk) => (stderr += chunk))
    proc.on("close", (code) => resume(Effect.succeed({ code, stdout, stderr })))
    return Effect.sync(() => proc.kill())
  })

layer(E.EmulatorLive)("the shared connection pool", (it) => {
  it.effect("outlives its last user for the grace period; with no grace it closes with the last user", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator
      const url = `${emulator.authority}/${emulator.defaults.tenantId}/v2.0/.well-known/openid-configuration`
      const connections = yield* connectionsTo(new URL(emulator.authority).port)
      // CA lists of their own, so these pools are shared with no other test.
      const ca = [emulator.caPem, emulator.caPem]
      const first = yield* requestOnce(url, { ca })
      assert.strictEqual(yield* requestOnce(url, { ca }), first, "the same pool after its last user closed")
      const none = [emulator.caPem, emulator.caPem, emulator.caPem]
      const before = connections.length
      const closed = yield* requestOnce(url, { ca: none, idleGraceMs: 0 })
      assert.notStrictEqual(yield* requestOnce(url, { ca: none, idleGraceMs: 0 }), closed, "a new pool")
      assert.strictEqual(connections.length - before, 2, "each pool connects afresh")
    }).pipe(Effect.scoped))

  it.effect("a process whose credentials are all closed holds nothing open: it can exit", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator
      const dir = yield* Effect.acquireRelease(
        Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "facade-exit-"))),
        (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
      )
      yield* Effect.promise(() =>
        esbuild.build({
          entryPoints: [Path.join(import.meta.dirname, "../../src/promise.ts")],
          bundle: true,
          platform: "node",
          format: "esm",
          outfile: Path.join(dir, "promise.mjs"),
          banner: {
            js: "import { createRequire } from \"node:module\";const require = createRequire(import.meta.url);"
          },
          logLevel: "error"
        })
      )
      Fs.writeFileSync(Path.join(dir, "child.mjs"), child)
      const { code } = yield* Effect.orDie(emulator.signIn({}))
      const d = emulator.defaults
      const result = yield* runChild(
        dir,
        JSON.stringify({ ...d, code, authority: emulator.authority, ca: emulator.caPem })
      )
      assert.strictEqual(result.code, 0, result.stderr)
      // Sockets or timers left ref'd would be listed (besides the child's own stdio pipes); the pool's are unref'd.
      const held = (JSON.parse(result.stdout) as Array<string>).filter((name) => /TCP|TLS|Timeout/.test(name))
      assert.deepStrictEqual(held, [])
    }).pipe(Effect.scoped), { timeout: 60_000 })
})
