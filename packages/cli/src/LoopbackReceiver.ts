/**
 * A one-shot loopback receiver for the authorization redirect (RFC 8252 §7.3).
 *
 * - Listens on the loopback address the redirect URI names, on a free port unless one is given, and builds the
 *   redirect URI from the actual port; the servers are closed with the scope. `localhost` holds the port on both
 *   `127.0.0.1` and `::1` (when the machine has IPv6 loopback): a browser may resolve `localhost` to either, and a
 *   side left free could be taken by another local user, who would then receive the code.
 * - Only `GET` on the registered path counts. Other paths (a favicon) get a 404 and change nothing.
 * - `state` is checked first: a request with a missing or foreign `state` gets an error page and is ignored, so a
 *   forged request from another local process cannot end the sign-in; the receiver keeps waiting.
 * - An `error=...` redirect with the right `state` ends the wait with the error. A code ends it too, and its browser
 *   request is held open until the caller reports whether the code could be redeemed, so the page tells the truth.
 * - Pages are static: no reflected input, no tokens, no third-party resources, `Referrer-Policy: no-referrer`.
 *
 * @since 0.1.0
 */
import type { AuthorizationRedirect } from "@effect-entra/identity/AuthorizationRequest"
import * as AuthorizationRequest from "@effect-entra/identity/AuthorizationRequest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type * as Scope from "effect/Scope"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { ReceiverError } from "./CliError.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The registered redirect URI without a port, e.g. `http://127.0.0.1/callback`. */
  readonly redirectUri: string
  /** 0 (the default) picks a free port. */
  readonly port?: number | undefined
  readonly expectedState: string
  /** Called for each ignored request to the redirect path (wrong or missing `state`). */
  readonly onIgnored?: ((why: string) => void) | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Receiver {
  /** The redirect URI with the port the receiver listens on: send it to `/authorize` and to `/token`. */
  readonly redirectUri: string
  readonly port: number
  /**
   * Waits for the genuine redirect. Fails with the authorization server's error (`ErrorResponse`) or a
   * `MissingCode`; never with `StateMismatch` (those requests are ignored).
   */
  readonly awaitRedirect: Effect.Effect<AuthorizationRedirect, AuthorizationRequest.AuthorizationRedirectError>
  /** Answers the browser request that carried the code: the success page, or the failure page. */
  readonly complete: (outcome: { readonly success: boolean }) => Effect.Effect<void>
  /** How many requests to the redirect path were ignored. */
  readonly ignoredRequests: Effect.Effect<number>
  /** Where the receiver listens, e.g. `["127.0.0.1:50123", "[::1]:50123"]` for `localhost`. */
  readonly listening: ReadonlyArray<string>
}

const page = (title: string, heading: string, text: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title>` +
  `<meta name="viewport" content="width=device-width, initial-scale=1"><style>` +
  `body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;background:#f3f5f9;` +
  `font:15px/1.5 system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;color:#1b1b1b}` +
  `main{background:#fff;padding:40px 44px;max-width:460px;box-shadow:0 2px 6px rgba(0,0,0,.2);border-radius:4px}` +
  `h1{font-size:22px;margin:0 0 12px}p{margin:0}</style></head>` +
  `<body><main><h1 id="result">${heading}</h1><p>${text}</p></main></body></html>`

/**
 * The pages the receiver answers with (static text only).
 *
 * @since 0.1.0
 * @category pages
 */
export const pages = {
  success: page(
    "Signed in - effect-entra",
    "You are signed in",
    "effect-entra has your sign-in. You can close this window and return to the terminal."
  ),
  failure: page(
    "Sign-in failed - effect-entra",
    "Sign-in failed",
    "The sign-in was not completed. Return to the terminal for the reason."
  ),
  ignored: page(
    "Unexpected request - effect-entra",
    "This response was ignored",
    "It does not belong to the sign-in in progress (its state does not match). The sign-in is still waiting."
  ),
  done: page(
    "Sign-in finished - effect-entra",
    "This sign-in has finished",
    "You can close this window."
  ),
  notFound: page("Not found - effect-entra", "Not found", "Nothing is served at this address.")
} as const

const securityHeaders = {
  "content-type": "text/html; charset=utf-8",
  "cache-control": "no-store",
  "referrer-policy": "no-referrer",
  "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  connection: "close"
}

const send = (response: Http.ServerResponse, status: number, body: string) => {
  if (response.headersSent || response.writableEnded) return
  response.writeHead(status, securityHeaders)
  response.end(body)
}

/**
 * The addresses to hold for a redirect URI's host. Anything but a loopback name is refused: the receiver must never
 * listen where another machine can reach it.
 */
const loopbackHosts = (url: URL): Either.Either<ReadonlyArray<string>, ReceiverError> => {
  switch (url.hostname) {
    case "127.0.0.1":
      return Either.right(["127.0.0.1"])
    case "[::1]":
      return Either.right(["::1"])
    case "localhost":
      return Either.right(["127.0.0.1", "::1"])
    default:
      return Either.left(
        new ReceiverError({ detail: `the redirect URI's host must be 127.0.0.1, localhost or [::1], not ${url.host}` })
      )
  }
}

const hostPort = (host: string, port: number) => `${host.includes(":") ? `[${host}]` : host}:${port}`

const listen = (server: Http.Server, host: string, port: number) =>
  Effect.async<number, NodeJS.ErrnoException>((resume) => {
    const onError = (error: NodeJS.ErrnoException) => resume(Effect.fail(error))
    server.once("error", onError)
    server.listen({ port, host, exclusive: true }, () => {
      server.removeListener("error", onError)
      resume(Effect.succeed((server.address() as AddressInfo).port))
    })
  })

const closeServer = (server: Http.Server) =>
  Effect.async<void>((resume) => {
    if (!server.listening) return resume(Effect.void)
    server.close(() => resume(Effect.void))
    server.closeAllConnections()
  })

// The machine has no IPv6 loopback: nobody can listen on ::1, so there is no side to hold.
const noIpv6 = (error: NodeJS.ErrnoException) => error.code === "EADDRNOTAVAIL" || error.code === "EAFNOSUPPORT"

const attempts = 5

/**
 * Listens on every host on one port: the first host picks it (or takes the given one), the others take the same.
 * With a free port picked (0), a port whose other side is already taken is given up and another tried.
 */
const listenAll = (
  hostsOrError: Either.Either<ReadonlyArray<string>, ReceiverError>,
  requested: number,
  makeServer: () => Http.Server
): Effect.Effect<{ readonly hosts: ReadonlyArray<string>; readonly port: number }, ReceiverError> =>
  Effect.gen(function*() {
    const wanted = yield* hostsOrError
    const failed = (host: string, port: number, error: NodeJS.ErrnoException) =>
      new ReceiverError({
        detail: error.code === "EADDRINUSE"
          ? `${hostPort(host, port)} is already in use (choose another --redirect-port, or omit it)`
          : `cannot listen on ${hostPort(host, port)}: ${error.code ?? error.message}`,
        cause: error
      })
    for (let attempt = 1;; attempt++) {
      const first = makeServer()
      const port = yield* listen(first, wanted[0]!, requested).pipe(
        Effect.mapError((error) => failed(wanted[0]!, requested, error))
      )
      const held = [wanted[0]!]
      const taken: Array<Http.Server> = [first]
      let clash: { host: string; error: NodeJS.ErrnoException } | undefined
      for (const host of wanted.slice(1)) {
        const server = makeServer()
        const result = yield* Effect.either(listen(server, host, port))
        if (Either.isRight(result)) {
          held.push(host)
          taken.push(server)
        } else if (!noIpv6(result.left)) {
          clash = { host, error: result.left }
          break
        }
      }
      if (clash === undefined) return { hosts: held, port }
      yield* Effect.forEach(taken, closeServer, { discard: true })
      if (requested !== 0 || attempt >= attempts) return yield* failed(clash.host, port, clash.error)
    }
  })

/**
 * Starts the receiver in the current scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<Receiver, ReceiverError, Scope.Scope> =>
  Effect.gen(function*() {
    const registered = new URL(options.redirectUri)
    const path = registered.pathname
    const result = yield* Deferred.make<AuthorizationRedirect, AuthorizationRequest.AuthorizationRedirectError>()
    let ignored = 0
    let finished = false
    let pending: Http.ServerResponse | undefined

    const onRequest = (request: Http.IncomingMessage, response: Http.ServerResponse) => {
      // Any local process can send anything here: a request line that is not a URL is refused, never thrown.
      if (!URL.canParse(request.url ?? "/", "http://127.0.0.1")) return send(response, 400, pages.notFound)
      const url = new URL(request.url ?? "/", "http://127.0.0.1")
      if (url.pathname !== path) return send(response, 404, pages.notFound)
      if (request.method !== "GET") {
        response.setHeader("allow", "GET")
        return send(response, 405, pages.notFound)
      }
      if (finished) return send(response, 200, pages.done)
      const parsed = AuthorizationRequest.parseRedirect(url, options.expectedState)
      if (Either.isLeft(parsed) && parsed.left.reason === "StateMismatch") {
        ignored++
        options.onIgnored?.(
          url.searchParams.has("state")
            ? "a request to the redirect address with another sign-in's state"
            : "a request to the redirect address without a state"
        )
        return send(response, 400, pages.ignored)
      }
      finished = true
      if (Either.isLeft(parsed)) {
        send(response, 400, pages.failure)
        Deferred.unsafeDone(result, Effect.fail(parsed.left))
        return
      }
      // Held open until `complete`: the page then says whether the code was actually redeemed.
      pending = response
      Deferred.unsafeDone(result, Effect.succeed(parsed.right))
    }

    const servers: Array<Http.Server> = []
    yield* Effect.addFinalizer(() =>
      Effect.suspend(() => {
        if (pending !== undefined) send(pending, 200, pages.failure)
        return Effect.forEach(servers, closeServer, { discard: true, concurrency: "unbounded" })
      })
    )
    const { hosts, port } = yield* listenAll(loopbackHosts(registered), options.port ?? 0, () => {
      const server = Http.createServer(onRequest)
      server.keepAliveTimeout = 1000
      servers.push(server)
      return server
    })
    const actual = new URL(options.redirectUri)
    actual.port = String(port)

    return {
      redirectUri: actual.toString(),
      port,
      awaitRedirect: Deferred.await(result),
      complete: ({ success }) =>
        Effect.sync(() => {
          if (pending !== undefined) send(pending, 200, success ? pages.success : pages.failure)
          pending = undefined
        }),
      ignoredRequests: Effect.sync(() => ignored),
      listening: hosts.map((host) => hostPort(host, port))
    }
  })
