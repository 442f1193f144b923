/**
 * @since 0.1.0
 */
export * as DemoProgram from "./DemoProgram.js"
/**
 * @since 0.1.0
 */
export * as OffsetClock from "./OffsetClock.js"
/**
 * @since 0.1.0
 */
export * as Report from "./Report.js"
/**
 * @since 0.1.0
 */
export * as TokenClaims from "./TokenClaims.js"
