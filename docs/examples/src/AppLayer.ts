/**
 * The service graph, wired the way an application would:
 *
 * ```
 * HttpServer (NodeHttpServer.layer) ── ProfileApi (routes) ── ProfileService
 *   ProfileService ── AuthenticatedHttpClient ─┬─ HttpClient (NodeHttp.layer)
 *                                             └─ TokenCredential (AuthorizationCodeCredential.layer)
 *                                                   ├─ HttpClient (the same NodeHttp.layer)
 *                                                   └─ TokenCache (TokenCache.layerMemory)
 * ```
 */
import * as AuthenticatedHttpClient from "@effect-entra/identity/AuthenticatedHttpClient"
import type { InvalidOptionError } from "@effect-entra/identity/AuthenticationError"
import * as AuthorizationCodeCredential from "@effect-entra/identity/AuthorizationCodeCredential"
import * as NodeHttp from "@effect-entra/identity/NodeHttp"
import * as TokenCache from "@effect-entra/identity/TokenCache"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import type * as HttpServer from "@effect/platform/HttpServer"
import type * as HttpServerError from "@effect/platform/HttpServerError"
import * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import * as Http from "node:http"
import * as ProfileApi from "./ProfileApi.js"
import * as ProfileService from "./ProfileService.js"

export interface AppConfig {
  /** The Entra authority host, e.g. `https://login.microsoftonline.com` (here: the emulator). */
  readonly authority: string
  readonly tenantId: string
  readonly clientId: string
  readonly clientSecret: Redacted.Redacted<string>
  readonly redirectUri: string
  /** The code from the sign-in redirect. */
  readonly authorizationCode: Redacted.Redacted<string>
  /** The API's scope, e.g. `api://{app id}/access_as_user`. */
  readonly apiScope: string
  /** Where the API lives. Its host is the only one the token may be sent to. */
  readonly apiBaseUrl: string
  /** Extra CA certificates to trust (the emulator's self-signed CA). */
  readonly ca?: string | undefined
}

export const AppLive = (config: AppConfig): Layer.Layer<ProfileService.ProfileService, InvalidOptionError> => {
  // One HTTP connection pool for the token endpoint and the API: the same layer value is built once.
  const HttpLive = NodeHttp.layer({ ca: config.ca })

  const CredentialLive = AuthorizationCodeCredential.layer({
    authority: config.authority,
    tenantId: config.tenantId,
    clientId: config.clientId,
    clientSecret: config.clientSecret,
    redirectUri: config.redirectUri,
    authorizationCode: config.authorizationCode
  }).pipe(Layer.provide([HttpLive, TokenCache.layerMemory]))

  // An `api://` scope names no host, so the API's host is listed. With `https://graph.microsoft.com/User.Read`
  // the allow-list would default to graph.microsoft.com.
  const SignedHttpLive = AuthenticatedHttpClient.layer({
    scopes: [config.apiScope],
    allowedHosts: [new URL(config.apiBaseUrl).host]
  }).pipe(Layer.provide([HttpLive, CredentialLive]))

  return ProfileService.layer({ baseUrl: config.apiBaseUrl }).pipe(Layer.provide(SignedHttpLive))
}

export interface ListenOptions {
  /** Default 0: any free port (read it back with `HttpServer.addressWith`). */
  readonly port?: number | undefined
  /** Default `127.0.0.1`: loopback only. */
  readonly host?: string | undefined
}

/**
 * The whole application as one layer: the routes over {@link AppLive}, served by a Node HTTP server. The
 * `HttpServer` stays in the output so a caller can read the address it listens on; `Layer.launch` runs it forever.
 */
export const ServerLive = (
  config: AppConfig,
  listen: ListenOptions = {}
): Layer.Layer<HttpServer.HttpServer, InvalidOptionError | HttpServerError.ServeError> =>
  ProfileApi.layer.pipe(
    Layer.provide(AppLive(config)),
    Layer.provideMerge(
      NodeHttpServer.layer(Http.createServer, { port: listen.port ?? 0, host: listen.host ?? "127.0.0.1" })
    )
  )
