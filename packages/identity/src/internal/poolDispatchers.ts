/**
 * The undici pool under each of `NodeHttp`'s own clients, for the token exchange's direct path (see
 * undiciExchange.ts). A client a caller transformed or built is not in here, so its transforms always run. A module
 * of its own: the token endpoint reads it without loading the pools' TLS code.
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as Effect from "effect/Effect"
import type { Dispatcher } from "./undiciExchange.js"

const dispatchers = new WeakMap<HttpClient.HttpClient, Effect.Effect<Dispatcher>>()

/** Records `dispatcher` as the pool `client` sends on; returns `client`. */
export const withDispatcher = (
  client: HttpClient.HttpClient,
  dispatcher: Effect.Effect<Dispatcher>
): HttpClient.HttpClient => {
  dispatchers.set(client, dispatcher)
  return client
}

/** The undici pool `client` sends on, when it is one of `NodeHttp`'s own clients, untransformed. */
export const dispatcherOf = (client: HttpClient.HttpClient): Effect.Effect<Dispatcher> | undefined =>
  dispatchers.get(client)
