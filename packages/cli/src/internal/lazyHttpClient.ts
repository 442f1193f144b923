/**
 * An `HttpClient` that builds identity's undici client (and its TLS context) on its first request.
 *
 * @internal
 */
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

/** The client, trusting `ca` besides Node's roots when given; its connection pool closes with the layer. */
export const layer = (ca: string | undefined): Layer.Layer<HttpClient.HttpClient> =>
  Layer.scoped(
    HttpClient.HttpClient,
    Effect.gen(function*() {
      const scope = yield* Effect.scope
      const client = yield* Effect.cached(
        Effect.promise(() => import("@effect-entra/identity/NodeHttp")).pipe(
          Effect.flatMap((NodeHttp) =>
            Layer.buildWithScope(NodeHttp.layer(ca === undefined ? undefined : { ca }), scope)
          ),
          Effect.map(Context.get(HttpClient.HttpClient))
        )
      )
      // The real client's own pre- and post-processing run inside its `execute`.
      return HttpClient.makeWith<never, never, HttpClientError.HttpClientError, never>(
        (request) => Effect.flatMap(request, (ready) => Effect.flatMap(client, (real) => real.execute(ready))),
        Effect.succeed
      )
    })
  )
