/**
 * What the Promise facade runs a credential on: no runtime or layers of its own. The credential is built once,
 * synchronously, on Effect's default runtime, in a scope of its own that `close()` closes; its HTTP client is the
 * process's shared pool for its CA set (see `NodeHttp.sharedClient`). A `ManagedRuntime` and its layers per
 * credential cost a cold redemption more than its steps did, and a pool per credential a TLS handshake.
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientTag from "@effect/platform/HttpClient"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import type { AuthenticationError, InvalidOptionError } from "../AuthenticationError.js"
import * as Credential from "../AuthorizationCodeCredential.js"
import * as IdTokenValidator from "../IdTokenValidator.js"
import * as NodeHttp from "../NodeHttp.js"
import * as TokenCache from "../TokenCache.js"
import * as TokenEndpoint from "../TokenEndpoint.js"

/** The facade's options this module reads. */
export interface FacadeServices {
  readonly ca?: NodeHttp.CaCertificates | undefined
  readonly tokenCache?: TokenCache.Service | undefined
  readonly httpClient?: HttpClient.HttpClient | undefined
}

/** A built credential and the scope that holds its pool share and background work. */
export interface Built {
  readonly service: Credential.Service
  readonly scope: Scope.CloseableScope
}

const httpClient = (services: FacadeServices): Effect.Effect<HttpClient.HttpClient, never, Scope.Scope> =>
  services.httpClient !== undefined
    ? Effect.succeed(services.httpClient)
    : NodeHttp.sharedClient({ ca: services.ca })

// One validator per HTTP client (the shared pool of a CA set, or the caller's client): every credential on it
// shares the tenants' keys, so only the process's first sign-in per tenant fetches discovery and keys.
const validators = new WeakMap<HttpClient.HttpClient, IdTokenValidator.Service>()

const validatorOn = (client: HttpClient.HttpClient): IdTokenValidator.Service => {
  const known = validators.get(client)
  if (known !== undefined) return known
  const made = Effect.runSync(
    Effect.orDie(Effect.provideService(IdTokenValidator.make(), HttpClientTag.HttpClient, client))
  )
  validators.set(client, made)
  return made
}

// One token endpoint per HTTP client and retry settings: it holds no state of a credential's (its URL memo is
// bounded), and building one per sign-in cost more than the credential's own steps.
const endpoints = new WeakMap<HttpClient.HttpClient, Map<string, TokenEndpoint.Service>>()

export const endpointOn = (client: HttpClient.HttpClient, http: TokenEndpoint.Options): TokenEndpoint.Service => {
  // The facade sets only these (numbers, from `@azure/identity`'s options); a schedule is not shareable by key.
  const key = http.retrySchedule === undefined
    ? [
      http.maxAttempts,
      http.baseDelay,
      http.maxDelay,
      http.requestTimeout,
      http.deadline,
      http.maxRetryAfter,
      http.maxResponseBytes
    ].map(String).join("|")
    : undefined
  let known = endpoints.get(client)
  const found = key === undefined ? undefined : known?.get(key)
  if (found !== undefined) return found
  // The facade's constructor has validated these options already.
  const made = Effect.runSync(
    Effect.orDie(Effect.provideService(TokenEndpoint.make(http), HttpClientTag.HttpClient, client))
  )
  if (key !== undefined) {
    if (known === undefined) endpoints.set(client, known = new Map())
    if (known.size >= 16) known.clear()
    known.set(key, made)
  }
  return made
}

/** Builds the credential from settings the facade has validated already. Synchronous: nothing in it waits. */
export const build = (settings: Credential.Settings, services: FacadeServices): Built =>
  Effect.runSync(
    Effect.flatMap(Scope.make(), (scope) =>
      Effect.gen(function*() {
        const client = yield* httpClient(services)
        const cache = services.tokenCache ?? (yield* TokenCache.makeMemory)
        const validator = settings.validateIdToken ? validatorOn(client) : undefined
        const service = yield* Credential.fromSettings(settings, cache, endpointOn(client, settings.http), validator)
        return { service, scope }
      }).pipe(Scope.extend(scope)))
  )

/** Closes what {@link build} opened: the credential's background work and its share of the pool. */
export const dispose = (built: Built): Promise<void> => Effect.runPromise(Scope.close(built.scope, Exit.void))

/** The error an aborted call rejects with, as `fetch` does. */
export const abortError = (): DOMException => new DOMException("The operation was aborted.", "AbortError")

/**
 * Runs one of the credential's effects as a promise: its typed failure is thrown as is, an interruption by the
 * signal as an `AbortError`.
 */
export const run = async <A>(
  effect: Effect.Effect<A, AuthenticationError | InvalidOptionError>,
  signal: AbortSignal | undefined
): Promise<A> => {
  const exit = await Effect.runPromiseExit(effect, signal === undefined ? undefined : { signal })
  if (Exit.isSuccess(exit)) return exit.value
  const failure = Cause.failureOption(exit.cause)
  if (Option.isSome(failure)) throw failure.value
  if (Cause.isInterruptedOnly(exit.cause)) throw abortError()
  throw Cause.squash(exit.cause)
}
