/**
 * @since 0.1.0
 */
export * as Encryption from "./Encryption.js"

/**
 * @since 0.1.0
 */
export * as Lease from "./Lease.js"

/**
 * @since 0.1.0
 */
export * as RedisConnection from "./RedisConnection.js"

/**
 * @since 0.1.0
 */
export * as RedisScripts from "./RedisScripts.js"

/**
 * @since 0.1.0
 */
export * as RedisTokenCache from "./RedisTokenCache.js"
