/**
 * A local Microsoft Entra ID (v2.0) emulator over HTTPS for tests, demos and benchmarks.
 *
 * @since 0.1.0
 */
import type { EmulatorService } from "./Emulator.js"
import { Emulator as EmulatorTag, make as makeEmulator } from "./Emulator.js"

export {
  /**
   * @since 0.1.0
   */
  EmulatorError
} from "./Emulator.js"

/**
 * The emulator, shaped like the modules of `@effect-entra/identity` (`TokenCache.TokenCache`, `NodeHttp.layer()`):
 * `Emulator.Emulator` is the service tag, `Emulator.layer(options)` the scoped layer (a function: it takes options),
 * `Emulator.make(options)` the scoped constructor. `Emulator` itself is the same tag too (`yield* Emulator`), as in
 * earlier versions.
 *
 * ```ts
 * const { code } = yield* Effect.flatMap(Emulator.Emulator, (emulator) => emulator.signIn())
 * program.pipe(Effect.provide(Emulator.layer()))
 * ```
 *
 * @since 0.1.0
 * @category tags
 */
export class Emulator extends EmulatorTag {
  /**
   * The service tag (the same as `Emulator`).
   *
   * @since 0.1.0
   */
  static readonly Emulator = EmulatorTag
  /**
   * Starts the emulator in the current scope.
   *
   * @since 0.1.0
   */
  static readonly make = makeEmulator
}

/**
 * The types under the same name, for type positions (`Effect<A, E, Emulator.Emulator>`).
 *
 * @since 0.1.0
 */
export declare namespace Emulator {
  /**
   * The service tag's type.
   *
   * @since 0.1.0
   */
  export type Emulator = EmulatorTag
  /**
   * What the tag holds.
   *
   * @since 0.1.0
   */
  export type Service = EmulatorService
}
export type {
  /**
   * @since 0.1.0
   */
  Defaults,
  /**
   * @since 0.1.0
   */
  EmulatorOptions,
  /**
   * @since 0.1.0
   */
  EmulatorService,
  /**
   * @since 0.1.0
   */
  SignInOptions,
  /**
   * @since 0.1.0
   */
  SignInResult
} from "./Emulator.js"
export {
  /**
   * @since 0.1.0
   */
  EmulatorConfigInput
} from "./EmulatorConfig.js"
export type {
  /**
   * @since 0.1.0
   */
  EmulatorConfig
} from "./EmulatorConfig.js"
export {
  /**
   * @since 0.1.0
   */
  FaultSpec
} from "./Faults.js"
export {
  /**
   * @since 0.1.0
   */
  RequestLogEntry
} from "./RequestLog.js"
export {
  /**
   * @since 0.1.0
   */
  startEmulator
} from "./startEmulator.js"
export type {
  /**
   * @since 0.1.0
   */
  RunningEmulator
} from "./startEmulator.js"
/**
 * @since 0.1.0
 */
export * as EmulatorConfigModule from "./EmulatorConfig.js"
/**
 * @since 0.1.0
 */
export * as EntraErrors from "./EntraErrors.js"
/**
 * @since 0.1.0
 */
export * as Certificates from "./Certificates.js"
/**
 * @since 0.1.0
 */
export * as SigningKeys from "./SigningKeys.js"
