/**
 * The `HttpClient` layer for Node with extra trusted CA certificates, for token requests through a
 * TLS-inspecting proxy or to a local emulator, without touching `NODE_EXTRA_CA_CERTS` or turning checks off.
 *
 * It runs on `@effect/platform-node`, an optional peer dependency, loaded when a layer or client is first built:
 * importing `@effect-entra/identity` never needs it. Without it, building one dies with a
 * {@link PlatformNodeMissingError} that names the package to install.
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import * as Crypto from "node:crypto"
import { loadPlatformNode } from "./internal/platformNode.js"
import { PlatformNodeMissingError } from "./internal/platformNodeError.js"
import { acquirePool, clientOn, makeAgent, releasePool } from "./internal/undiciPools.js"

export {
  /**
   * @since 0.1.0
   * @category errors
   */
  PlatformNodeMissingError
}

/**
 * PEM certificates to trust in addition to Node's roots.
 *
 * @since 0.1.0
 * @category models
 */
export type CaCertificates = string | Buffer | ReadonlyArray<string | Buffer>

/**
 * An undici-backed `HttpClient` whose connection pool is closed with the layer. With `ca`, those certificates
 * are trusted besides Node's built-in roots and `NODE_EXTRA_CA_CERTS` (undici's `ca` would otherwise replace
 * them). A `ca` that is not PEM certificate text (a file path, say) fails every request at once with a message
 * that says so; `NodeHttp.invalidCa` checks it up front. Without `@effect/platform-node` installed, building the
 * layer dies with a {@link PlatformNodeMissingError}.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: { readonly ca?: CaCertificates | undefined }): Layer.Layer<HttpClient.HttpClient> => {
  const extra = extraOf(options?.ca)
  const invalid = extra === undefined ? undefined : invalidCa(extra)
  if (invalid !== undefined) return refusing(invalid)
  return Layer.scoped(
    HttpClient.HttpClient,
    Effect.flatMap(Effect.orDie(loadPlatformNode), (platform) =>
      Effect.map(
        Effect.acquireRelease(
          Effect.sync(() => makeAgent(platform, extra)),
          (agent) => Effect.promise(() => agent.destroy())
        ),
        (agent) => clientOn(platform, agent)
      ))
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

/**
 * An undici `HttpClient` on the connection pool shared with every other user for the same CAs, held until the
 * scope closes; the pool itself closes {@link SharedOptions.idleGraceMs} after its last user. For many
 * short-lived credentials (one per signed-in user): they reuse kept-alive connections instead of each opening its
 * own. The Promise facade uses it. Building it is synchronous: the pool opens on the first request, which loads
 * `@effect/platform-node` then (and dies with a {@link PlatformNodeMissingError} without it).
 *
 * @since 0.1.0
 * @category constructors
 */
export const sharedClient = (options?: SharedOptions): Effect.Effect<HttpClient.HttpClient, never, Scope.Scope> => {
  const extra = extraOf(options?.ca)
  const invalid = extra === undefined ? undefined : invalidCa(extra)
  if (invalid !== undefined) return Effect.succeed(refusingClient(invalid))
  const graceMs = options?.idleGraceMs ?? defaultIdleGraceMs
  // The scope's own finalizer rather than `acquireRelease`, which diffs the fiber's references when it runs: a
  // credential's close cost ~0.4 ms more for it, while the release needs no reference of the acquiring fiber.
  return Effect.uninterruptible(Effect.scopeWith((scope) => {
    const pool = acquirePool(extra)
    return Effect.as(Scope.addFinalizer(scope, releasePool(pool, graceMs)), pool.client)
  }))
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
