/**
 * The Promise API: start the emulator, drive it, close it.
 *
 * ```ts
 * await using emulator = await startEmulator()
 * const { code } = await emulator.signIn({ username: "alice@contoso.example" })
 * ```
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import type { Defaults, EmulatorOptions, EmulatorService, SignInOptions, SignInResult } from "./Emulator.js"
import { make } from "./Emulator.js"
import type { FaultSpec } from "./Faults.js"
import type { RequestLogEntry, RequestLogFilter } from "./RequestLog.js"

/**
 * A started emulator. Every method talks to it in-process, except `signIn`, which goes through the real
 * authorize endpoint over TLS.
 *
 * @since 0.1.0
 * @category models
 */
export interface RunningEmulator extends AsyncDisposable {
  readonly authority: string
  readonly caPem: string
  readonly caFile: string
  readonly defaults: Defaults
  signIn(options?: SignInOptions): Promise<SignInResult>
  requests(filter?: RequestLogFilter): Promise<ReadonlyArray<RequestLogEntry>>
  clearRequests(): Promise<void>
  injectFault(fault: FaultSpec): Promise<void>
  challengeResource(claims: object): Promise<void>
  advanceTime(ms: number): Promise<void>
  revokeRefreshTokens(username?: string): Promise<void>
  reset(): Promise<void>
  /** Stops the server and frees the port. Idempotent. */
  close(): Promise<void>
}

// Rejections carry the plain EmulatorError (not a FiberFailure), so `err.message` reads well.
const run = <A, E>(effect: Effect.Effect<A, E>): Promise<A> =>
  Effect.runPromiseExit(effect).then((exit) => {
    if (Exit.isSuccess(exit)) return exit.value
    const failure = exit.cause._tag === "Fail" ? exit.cause.error : undefined
    throw failure ?? new Error(`emulator call failed: ${String(exit.cause)}`)
  })

/**
 * Starts an emulator on `127.0.0.1` (a free port unless `port` is given).
 *
 * @since 0.1.0
 * @category constructors
 */
export const startEmulator = async (options: EmulatorOptions = {}): Promise<RunningEmulator> => {
  const scope = Effect.runSync(Scope.make())
  let service: EmulatorService
  try {
    service = await run(Scope.extend(make(options), scope))
  } catch (error) {
    await Effect.runPromise(Scope.close(scope, Exit.void))
    throw error
  }
  let closing: Promise<void> | undefined
  const close = () => (closing ??= Effect.runPromise(Scope.close(scope, Exit.void)))
  return {
    authority: service.authority,
    caPem: service.caPem,
    caFile: service.caFile,
    defaults: service.defaults,
    signIn: (o) => run(service.signIn(o)),
    requests: (f) => run(service.requests(f)),
    clearRequests: () => run(service.clearRequests()),
    injectFault: (fault) => run(service.injectFault(fault)),
    challengeResource: (claims) => run(service.challengeResource(claims)),
    advanceTime: (ms) => run(service.advanceTime(ms)),
    revokeRefreshTokens: (username) => run(service.revokeRefreshTokens(username)),
    reset: () => run(service.reset()),
    close,
    [Symbol.asyncDispose]: close
  }
}
