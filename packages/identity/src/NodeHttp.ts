/**
 * The `HttpClient` layer for Node with extra trusted CA certificates, for token requests through a
 * TLS-inspecting proxy or to a local emulator, without touching `NODE_EXTRA_CA_CERTS` or turning checks off.
 *
 * @since 0.1.0
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Undici from "@effect/platform-node/Undici"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Crypto from "node:crypto"
import * as Fs from "node:fs"
import * as tls from "node:tls"

/**
 * PEM certificates to trust in addition to Node's roots.
 *
 * @since 0.1.0
 * @category models
 */
export type CaCertificates = string | Buffer | ReadonlyArray<string | Buffer>

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
 * An undici-backed `HttpClient` whose connection pool is closed with the layer. With `ca`, those certificates
 * are trusted besides Node's built-in roots and `NODE_EXTRA_CA_CERTS` (undici's `ca` would otherwise replace
 * them). A `ca` that is not PEM certificate text (a file path, say) fails every request at once with a message
 * that says so; `NodeHttp.invalidCa` checks it up front.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: { readonly ca?: CaCertificates | undefined }): Layer.Layer<HttpClient.HttpClient> => {
  const extra = extraOf(options?.ca)
  const invalid = extra === undefined ? undefined : invalidCa(extra)
  if (invalid !== undefined) return refusing(invalid)
  return withDispatcher(
    Effect.acquireRelease(Effect.sync(() => makeAgent(extra)), (agent) => Effect.promise(() => agent.destroy()))
  )
}

/**
 * The `ca` option as a list of texts.
 *
 * @since 0.1.0
 * @category internals
 */
export const extraOf = (ca: CaCertificates | undefined): ReadonlyArray<string> | undefined =>
  ca === undefined ? undefined : (Array.isArray(ca) ? ca : [ca as string | Buffer]).map(String)

const pemBlock = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g

/**
 * Why the `ca` option is not PEM certificate text, or `undefined` when it is. Node ignores what it cannot parse
 * there, so a file path passed by mistake would surface only as a rejected certificate on every request.
 *
 * @since 0.1.0
 * @category validation
 */
export const invalidCa = (extra: ReadonlyArray<string>): string | undefined => {
  for (const [index, text] of extra.entries()) {
    const blocks = text.match(pemBlock) ?? []
    const looksLikePath = !text.includes("\n") && /[/\\]|\.(?:pem|crt|cer)$/i.test(text.trim())
    if (blocks.length === 0) {
      return `ca[${index}] is not PEM certificate text` +
        (looksLikePath ? " (it looks like a file path: pass the file's contents)" : "")
    }
    for (const block of blocks) {
      try {
        new Crypto.X509Certificate(block)
      } catch {
        return `ca[${index}] holds a PEM block that is not a valid certificate`
      }
    }
  }
  return undefined
}

// An HttpClient that fails every request at once, with a cause whose code says it is permanent: the layer's type
// stays infallible, and the token endpoint reports the mistake on the first request instead of after retries.
const refusingClient = (reason: string): HttpClient.HttpClient => {
  const cause = Object.assign(new Error(`NodeHttp: ${reason}`), { code: "ERR_INVALID_CA" })
  return HttpClient.make((request) =>
    Effect.fail(new HttpClientError.RequestError({ request, reason: "Transport", cause, description: cause.message }))
  )
}

const refusing = (reason: string): Layer.Layer<HttpClient.HttpClient> =>
  Layer.succeed(HttpClient.HttpClient, refusingClient(reason))

// One secure context for the pool: a `ca` list in the connect options is parsed again on every TLS handshake
// (~140 roots: ~18 ms per connection here, against ~2 ms with a shared context).
const makeAgent = (extra: ReadonlyArray<string> | undefined): Undici.Agent =>
  extra === undefined ? new Undici.Agent() : new Undici.Agent({ connect: { secureContext: secureContextFor(extra) } })

// Reading a body through `Stream` cost a token request more CPU than everything else in it (about two thirds of a
// cold redemption on loopback). A small body whose length is declared (a token response) is read whole instead,
// as one chunk: undici stops at the declared length. Larger or undeclared bodies still stream.
const wholeBodyMaxBytes = 64 * 1024

const wholeBodies = (client: HttpClient.HttpClient): HttpClient.HttpClient =>
  HttpClient.transformResponse(client, Effect.map(withWholeBody))

const withWholeBody = (response: HttpClientResponse.HttpClientResponse): HttpClientResponse.HttpClientResponse => {
  const declared = response.headers["content-length"]
  if (declared === undefined || !/^\d{1,9}$/.test(declared) || Number(declared) > wholeBodyMaxBytes) return response
  const stream = Stream.fromEffect(Effect.map(response.arrayBuffer, (buffer) => new Uint8Array(buffer)))
  // Everything else is the original response's, through the prototype.
  return Object.create(response, { stream: { value: stream } }) as HttpClientResponse.HttpClientResponse
}

const clientOn = (agent: Undici.Agent): HttpClient.HttpClient => wholeBodies(NodeHttpClient.makeUndici(agent))

const withDispatcher = (
  agent: Effect.Effect<Undici.Agent, never, Scope.Scope>
): Layer.Layer<HttpClient.HttpClient> => Layer.scoped(HttpClient.HttpClient, Effect.map(agent, clientOn))

interface SharedPool {
  readonly key: string
  readonly agent: Undici.Agent
  readonly client: HttpClient.HttpClient
  users: number
  idle: ReturnType<typeof setTimeout> | undefined
}

// One pool per CA set, shared by every `sharedClient` user while any of them is open and for a grace period after
// the last one closes: each new credential would otherwise start with a TLS handshake (a round trip or two to
// Entra; ~2.5 of the ~6.5 ms of a cold redemption against the loopback emulator). Idle kept-alive sockets and the
// grace timer are unref'd by undici and here, so a pool kept for its grace period never holds a process open.
const sharedPools = new Map<string, SharedPool>()

/**
 * How long a shared pool outlives its last user by default: a sign-in shortly after the previous user's
 * credential closed reuses its connections.
 *
 * @since 0.1.0
 * @category layers
 */
export const defaultIdleGraceMs = 30_000

/**
 * Options of the shared pool.
 *
 * @since 0.1.0
 * @category models
 */
export interface SharedOptions {
  readonly ca?: CaCertificates | undefined
  /**
   * How long the pool stays open after its last user closes, in ms (default {@link defaultIdleGraceMs}); 0
   * destroys it at once. Its idle connections never keep the process alive.
   */
  readonly idleGraceMs?: number | undefined
}

const acquirePool = (extra: ReadonlyArray<string> | undefined): SharedPool => {
  const key = extra === undefined ? "" : `ca:${extra.join("\n")}`
  let pool = sharedPools.get(key)
  if (pool === undefined) {
    const agent = makeAgent(extra)
    pool = { key, agent, client: clientOn(agent), users: 0, idle: undefined }
    sharedPools.set(key, pool)
  }
  if (pool.idle !== undefined) {
    clearTimeout(pool.idle)
    pool.idle = undefined
  }
  pool.users++
  return pool
}

const destroyPool = (pool: SharedPool): Promise<void> => {
  if (sharedPools.get(pool.key) === pool) sharedPools.delete(pool.key)
  return pool.agent.destroy()
}

const releasePool = (pool: SharedPool, graceMs: number): Effect.Effect<void> =>
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

/**
 * An undici `HttpClient` on the connection pool shared with every other user for the same CAs, held until the
 * scope closes; the pool itself closes {@link SharedOptions.idleGraceMs} after its last user. For many
 * short-lived credentials (one per signed-in user): they reuse kept-alive connections instead of each opening its
 * own. The Promise facade uses it.
 *
 * @since 0.1.0
 * @category constructors
 */
export const sharedClient = (options?: SharedOptions): Effect.Effect<HttpClient.HttpClient, never, Scope.Scope> => {
  const extra = extraOf(options?.ca)
  const invalid = extra === undefined ? undefined : invalidCa(extra)
  if (invalid !== undefined) return Effect.succeed(refusingClient(invalid))
  const graceMs = options?.idleGraceMs ?? defaultIdleGraceMs
  return Effect.map(
    Effect.acquireRelease(Effect.sync(() => acquirePool(extra)), (pool) => releasePool(pool, graceMs)),
    (pool) => pool.client
  )
}

/**
 * Like {@link layer}, on the shared pool of {@link sharedClient}: the pool is shared with every other user for the
 * same CAs and closed {@link SharedOptions.idleGraceMs} after the last of them closes.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerShared = (options?: SharedOptions): Layer.Layer<HttpClient.HttpClient> =>
  Layer.scoped(HttpClient.HttpClient, sharedClient(options))
