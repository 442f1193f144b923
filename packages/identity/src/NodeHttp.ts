/**
 * The `HttpClient` layer for Node with extra trusted CA certificates, for token requests through a
 * TLS-inspecting proxy or to a local emulator, without touching `NODE_EXTRA_CA_CERTS` or turning checks off.
 *
 * @since 0.1.0
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Undici from "@effect/platform-node/Undici"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as tls from "node:tls"

/**
 * PEM certificates to trust in addition to Node's roots.
 *
 * @since 0.1.0
 * @category models
 */
export type CaCertificates = string | Buffer | ReadonlyArray<string | Buffer>

/**
 * An undici-backed `HttpClient` whose connection pool is closed with the layer. With `ca`, those certificates
 * are trusted besides Node's built-in roots (undici's `ca` would otherwise replace them).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: { readonly ca?: CaCertificates | undefined }): Layer.Layer<HttpClient.HttpClient> => {
  const ca = options?.ca
  if (ca === undefined) return NodeHttpClient.layerUndici
  const extra: ReadonlyArray<string | Buffer> = Array.isArray(ca) ? ca : [ca as string | Buffer]
  const dispatcher = Layer.scoped(
    NodeHttpClient.Dispatcher,
    Effect.acquireRelease(
      Effect.sync(() => {
        // One secure context for the pool: a `ca` list in the connect options is parsed again on every TLS
        // handshake (~140 roots: ~18 ms per connection here, against ~2 ms with a shared context).
        const secureContext = tls.createSecureContext({ ca: [...tls.rootCertificates, ...extra.map(String)] })
        return new Undici.Agent({ connect: { secureContext } })
      }),
      (agent) => Effect.promise(() => agent.destroy())
    )
  )
  return NodeHttpClient.layerUndiciWithoutDispatcher.pipe(Layer.provide(dispatcher))
}
