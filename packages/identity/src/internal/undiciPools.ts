import type * as Undici from "@effect/platform-node/Undici"
import * as HttpClient from "@effect/platform/HttpClient"
import * as Effect from "effect/Effect"
import * as Fs from "node:fs"
import * as tls from "node:tls"
import type { PlatformNode } from "./platformNode.js"
import { loadPlatformNode } from "./platformNode.js"
import { withDispatcher } from "./poolDispatchers.js"

// Building a secure context from ~140 roots takes ~20 ms, so credentials trusting the same extra CAs share one.
const secureContexts = new Map<string, tls.SecureContext>()

const extraFromEnvironment = (): Array<string> => {
  const file = process.env["NODE_EXTRA_CA_CERTS"]
  if (file === undefined || file === "") return []
  try {
    return [Fs.readFileSync(file, "utf8")]
  } catch {
    // Node itself only warns about an unreadable NODE_EXTRA_CA_CERTS; so do we (by not adding it).
    return []
  }
}

const secureContextFor = (extra: ReadonlyArray<string>): tls.SecureContext => {
  const all = [...extraFromEnvironment(), ...extra]
  const key = all.join("\n")
  let context = secureContexts.get(key)
  if (context === undefined) {
    context = tls.createSecureContext({ ca: [...tls.rootCertificates, ...all] })
    if (secureContexts.size >= 16) secureContexts.clear()
    secureContexts.set(key, context)
  }
  return context
}

/**
 * An undici pool trusting Node's roots plus `extra`. One secure context for the pool: a `ca` list in the connect
 * options is parsed again on every TLS handshake (~140 roots: ~18 ms per connection here, against ~2 ms with a
 * shared context).
 *
 * @internal
 */
export const makeAgent = (platform: PlatformNode, extra: ReadonlyArray<string> | undefined): Undici.Agent =>
  extra === undefined
    ? new platform.Undici.Agent()
    : new platform.Undici.Agent({ connect: { secureContext: secureContextFor(extra) } })

/**
 * The `HttpClient` on an undici pool. Bodies are not rewritten here: the token exchange and the key fetches read a
 * body whose length is declared in one step themselves (within their byte cap).
 *
 * @internal
 */
export const clientOn = (platform: PlatformNode, agent: Undici.Agent): HttpClient.HttpClient =>
  withDispatcher(platform.NodeHttpClient.makeUndici(agent), Effect.succeed(agent))

/** The pool's undici agent and client, once the first request has opened it. */
interface Connection {
  current: { readonly agent: Undici.Agent; readonly client: HttpClient.HttpClient } | undefined
}

interface SharedPool {
  readonly key: string
  readonly client: HttpClient.HttpClient
  readonly connection: Connection
  users: number
  idle: ReturnType<typeof setTimeout> | undefined
}

// One pool per CA set, shared by every `sharedClient` user while any of them is open and for a grace period after
// the last one closes: each new credential would otherwise start with a TLS handshake (a round trip or two to
// Entra; ~2.5 of the ~6.5 ms of a cold redemption against the loopback emulator). Idle kept-alive sockets and the
// grace timer are unref'd by undici and here, so a pool kept for its grace period never holds a process open.
const sharedPools = new Map<string, SharedPool>()

type Opened = NonNullable<Connection["current"]>

const open = (connection: Connection, extra: ReadonlyArray<string> | undefined): Effect.Effect<Opened> =>
  Effect.suspend(() => {
    if (connection.current !== undefined) return Effect.succeed(connection.current)
    return Effect.map(Effect.orDie(loadPlatformNode), (platform) => {
      if (connection.current === undefined) {
        const agent = makeAgent(platform, extra)
        connection.current = { agent, client: platform.NodeHttpClient.makeUndici(agent) }
      }
      return connection.current
    })
  })

// Synchronous to build (the Promise facade builds its credentials with `runSync`): the pool opens on first use.
const lazyClient = (connection: Connection, extra: ReadonlyArray<string> | undefined): HttpClient.HttpClient =>
  withDispatcher(
    HttpClient.makeWith(
      (request) =>
        Effect.flatMap(request, (r) => Effect.flatMap(open(connection, extra), (opened) => opened.client.execute(r))),
      Effect.succeed as HttpClient.HttpClient.Preprocess<never, never>
    ),
    Effect.map(open(connection, extra), (opened) => opened.agent)
  )

/**
 * The shared pool for `extra`, with one more user.
 *
 * @internal
 */
export const acquirePool = (extra: ReadonlyArray<string> | undefined): SharedPool => {
  const key = extra === undefined ? "" : `ca:${extra.join("\n")}`
  let pool = sharedPools.get(key)
  if (pool === undefined) {
    const connection: Connection = { current: undefined }
    pool = { key, client: lazyClient(connection, extra), connection, users: 0, idle: undefined }
    sharedPools.set(key, pool)
  }
  if (pool.idle !== undefined) {
    clearTimeout(pool.idle)
    pool.idle = undefined
  }
  pool.users++
  return pool
}

const destroyPool = async (pool: SharedPool): Promise<void> => {
  if (sharedPools.get(pool.key) === pool) sharedPools.delete(pool.key)
  await pool.connection.current?.agent.destroy()
}
/**
 * One user fewer; the last one closes the pool after `graceMs` (at once when it is 0).
 *
 * @internal
 */
export const releasePool = (pool: SharedPool, graceMs: number): Effect.Effect<void> =>
  Effect.suspend(() => {
    pool.users--
    if (pool.users > 0) return Effect.void
    if (graceMs <= 0) return Effect.promise(() => destroyPool(pool))
    pool.idle = setTimeout(() => {
      pool.idle = undefined
      if (pool.users === 0) void destroyPool(pool).catch(() => undefined)
    }, graceMs)
    pool.idle.unref()
    return Effect.void
  })
