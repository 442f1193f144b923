/**
 * A local Microsoft Entra ID (v2.0) emulator over HTTPS for tests, demos and benchmarks.
 *
 * @since 0.1.0
 */
export {
  /**
   * @since 0.1.0
   */
  Emulator,
  /**
   * @since 0.1.0
   */
  EmulatorError
} from "./Emulator.js"
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
