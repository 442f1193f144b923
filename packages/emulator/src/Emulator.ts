/**
 * The emulator as an Effect service: an HTTPS server on loopback speaking Entra ID v2.0, with in-process controls.
 *
 * ```ts
 * const program = Effect.gen(function*() {
 *   const emulator = yield* Emulator
 *   const { code } = yield* emulator.signIn({ username: "alice@contoso.example" })
 * }).pipe(Effect.provide(Emulator.layer()))
 * ```
 *
 * @since 0.1.0
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as HttpServer from "@effect/platform/HttpServer"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as FiberSet from "effect/FiberSet"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as Fs from "node:fs"
import * as Https from "node:https"
import * as Os from "node:os"
import * as Path from "node:path"
import * as Certificates from "./Certificates.js"
import type { EmulatorConfigInput } from "./EmulatorConfig.js"
import * as EmulatorConfig from "./EmulatorConfig.js"
import type { EmulatorContext } from "./EmulatorState.js"
import { emptyState } from "./EmulatorState.js"
import type { FaultSpec } from "./Faults.js"
import { EmulatorError } from "./internal/emulatorError.js"
import { routes } from "./internal/routes.js"
import * as SignIn from "./internal/signIn.js"
import * as Management from "./Management.js"
import type { RequestLogEntry, RequestLogFilter } from "./RequestLog.js"
import * as SigningKeys from "./SigningKeys.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface EmulatorOptions {
  /** Interface to bind. Default `127.0.0.1`. */
  readonly host?: string | undefined
  /** Port; 0 (the default) picks a free one. */
  readonly port?: number | undefined
  /** A partial configuration merged onto the defaults (after `configFile`). */
  readonly config?: EmulatorConfigInput | undefined
  /** A JSON configuration file merged onto the defaults. */
  readonly configFile?: string | undefined
  /** A TLS identity to use instead of a generated one (PEM strings). */
  readonly tls?: { readonly cert: string; readonly key: string; readonly ca?: string | undefined } | undefined
}

/**
 * The fixed values of the default directory, for tests and demos.
 *
 * @since 0.1.0
 * @category models
 */
export interface Defaults {
  readonly tenantId: string
  readonly otherTenantId: string
  readonly clientId: string
  readonly clientSecret: string
  readonly redirectUri: string
  readonly publicClientId: string
  /** The default app's API scope, `api://{clientId}/access_as_user`. */
  readonly scope: string
  readonly users: ReadonlyArray<{ readonly username: string; readonly name: string; readonly oid: string }>
}

/**
 * @since 0.1.0
 * @category models
 */
export interface SignInOptions {
  readonly username?: string | undefined
  readonly tenantId?: string | undefined
  readonly clientId?: string | undefined
  readonly redirectUri?: string | undefined
  /** Default: `openid profile offline_access` and the default API scope. */
  readonly scopes?: ReadonlyArray<string> | undefined
  readonly codeChallenge?: string | undefined
  readonly codeChallengeMethod?: "S256" | "plain" | undefined
  readonly state?: string | undefined
  readonly nonce?: string | undefined
  readonly claims?: string | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface SignInResult {
  readonly code: string
  readonly clientInfo: string
  readonly state: string | undefined
  /** `${oid}.${home tenant id}`, as MSAL's `homeAccountId`. */
  readonly homeAccountId: string
}

export {
  /**
   * The emulator failed to start, or a control call was invalid. The message says why; it never holds a secret.
   *
   * @since 0.1.0
   * @category errors
   */
  EmulatorError
} from "./internal/emulatorError.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface EmulatorService {
  /** `https://127.0.0.1:PORT`: the authority host; the token endpoint is `${authority}/${tenantId}/oauth2/v2.0/token`. */
  readonly authority: string
  readonly caPem: string
  /** The CA certificate written to a temporary file (for `NODE_EXTRA_CA_CERTS`); removed on close. */
  readonly caFile: string
  readonly defaults: Defaults
  /** Signs a user in headlessly through the real authorize endpoint (`prompt=none&login_hint=...`) over TLS. */
  readonly signIn: (options?: SignInOptions) => Effect.Effect<SignInResult, EmulatorError>
  readonly requests: (filter?: RequestLogFilter) => Effect.Effect<ReadonlyArray<RequestLogEntry>>
  readonly clearRequests: () => Effect.Effect<void>
  readonly injectFault: (fault: FaultSpec) => Effect.Effect<void, EmulatorError>
  readonly challengeResource: (claims: object) => Effect.Effect<void>
  readonly advanceTime: (ms: number) => Effect.Effect<void, EmulatorError>
  readonly revokeRefreshTokens: (username?: string) => Effect.Effect<void>
  readonly reset: () => Effect.Effect<void>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class Emulator extends Context.Tag("@effect-entra/emulator/Emulator")<Emulator, EmulatorService>() {
  /**
   * The emulator, started when the layer is built and stopped (port freed) when it is released.
   *
   * @since 0.1.0
   */
  static layer(options: EmulatorOptions = {}): Layer.Layer<Emulator, EmulatorError> {
    return Layer.scoped(Emulator, make(options))
  }
}

const toEmulatorError = (e: { readonly message: string }) => new EmulatorError({ reason: e.message, cause: e })

/**
 * Starts the emulator in the current scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: EmulatorOptions = {}): Effect.Effect<EmulatorService, EmulatorError, Scope.Scope> =>
  Effect.gen(function*() {
    const config = yield* EmulatorConfig.load(options).pipe(Effect.mapError(toEmulatorError))
    const tls = options.tls === undefined ?
      yield* Certificates.generate.pipe(Effect.mapError(toEmulatorError)) :
      { cert: options.tls.cert, key: options.tls.key, ca: options.tls.ca ?? options.tls.cert }
    const signingKey = yield* SigningKeys.generate
    const host = options.host ?? "127.0.0.1"
    // Node's default keep-alive. undici drops a connection whose advertised `timeout` is within its 2 s safety
    // margin, so anything ≤ 2 s would cost every client a new TLS handshake per request.
    const server = Https.createServer({ cert: tls.cert, key: tls.key, keepAliveTimeout: 5000 })
    const httpServer = yield* NodeHttpServer.make(() => server, { port: options.port ?? 0, host }).pipe(
      Effect.mapError((e) =>
        new EmulatorError({
          reason: `cannot listen on ${host}:${options.port ?? 0}: ${String((e.cause as Error)?.message ?? e.cause)}`,
          cause: e
        })
      )
    )
    // Registered after the server, so it runs first on close: keep-alive sockets must not hold server.close().
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        server.closeIdleConnections()
        server.closeAllConnections()
      })
    )
    const address = httpServer.address
    const port = address._tag === "TcpAddress" ? address.port : 0
    const authorityHost = host.includes(":") ? `[${host}]` : host === "0.0.0.0" ? "127.0.0.1" : host
    const authority = `https://${authorityHost}:${port}`
    // Made after the server, so it closes first: endless and slow fault bodies stop before the sockets go.
    const streams = yield* FiberSet.make<void, never>()
    const ctx: EmulatorContext = { config, authority, signingKey, state: emptyState(), streams }

    // The emulator serves real clients with real clocks, so it runs on the live clock (plus its own offset) even
    // when built under a TestClock.
    yield* HttpServer.serveEffect()(routes(ctx)).pipe(
      Effect.provideService(HttpServer.HttpServer, httpServer),
      Effect.withClock(Clock.make())
    )

    const caFile = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "effect-entra-emulator-"))
        const file = Path.join(dir, "ca.pem")
        Fs.writeFileSync(file, tls.ca)
        return file
      }),
      (file) => Effect.sync(() => Fs.rmSync(Path.dirname(file), { recursive: true, force: true }))
    )

    const defaultApp = config.apps.find((a) => a.clientId === EmulatorConfig.defaultIds.clientId)
    const defaults: Defaults = {
      tenantId: EmulatorConfig.defaultIds.tenantId,
      otherTenantId: EmulatorConfig.defaultIds.otherTenantId,
      clientId: EmulatorConfig.defaultIds.clientId,
      clientSecret: defaultApp?.secrets[0] ?? EmulatorConfig.defaultIds.clientSecret,
      redirectUri: EmulatorConfig.defaultIds.redirectUri,
      publicClientId: EmulatorConfig.defaultIds.publicClientId,
      scope: `api://${EmulatorConfig.defaultIds.clientId}/access_as_user`,
      users: config.users.map(({ name, oid, username }) => ({ username, name, oid }))
    }

    const signIn = SignIn.make(authority, tls.ca, defaults)

    return Emulator.of({
      authority,
      caPem: tls.ca,
      caFile,
      defaults,
      signIn,
      requests: (f) => Management.requests(ctx, f),
      clearRequests: () => Management.clearRequests(ctx),
      injectFault: (fault) => Management.injectFault(ctx, fault).pipe(Effect.mapError(toEmulatorError)),
      challengeResource: (claims) => Management.challengeResource(ctx, claims),
      advanceTime: (ms) => Management.advanceTime(ctx, ms).pipe(Effect.mapError(toEmulatorError)),
      revokeRefreshTokens: (username) => Effect.asVoid(Management.revokeRefreshTokens(ctx, username)),
      reset: () => Management.reset(ctx)
    })
  })
