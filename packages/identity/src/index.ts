/**
 * @since 0.1.0
 */
export * as AccessToken from "./AccessToken.js"
/**
 * @since 0.1.0
 */
export * as AuthenticationError from "./AuthenticationError.js"
/**
 * @since 0.1.0
 */
export * as Authority from "./Authority.js"
/**
 * @since 0.1.0
 */
export * as AuthorizationCodeCredential from "./AuthorizationCodeCredential.js"
/**
 * @since 0.1.0
 */
export * as TokenRequest from "./TokenRequest.js"
/**
 * @since 0.1.0
 */
export * as RedeemCode from "./RedeemCode.js"
/**
 * @since 0.1.0
 */
export * as ClientCredential from "./ClientCredential.js"
/**
 * @since 0.1.0
 */
export * as IdTokenValidator from "./IdTokenValidator.js"
/**
 * @since 0.1.0
 */
export * as CacheLookup from "./CacheLookup.js"
/**
 * @since 0.1.0
 */
export * as RefreshToken from "./RefreshToken.js"
/**
 * @since 0.1.0
 */
export * as RefreshPolicy from "./RefreshPolicy.js"
/**
 * @since 0.1.0
 */
export * as TokenCache from "./TokenCache.js"
/**
 * @since 0.1.0
 */
export * as TokenCredential from "./TokenCredential.js"
/**
 * @since 0.1.0
 */
export * as TokenEndpoint from "./TokenEndpoint.js"
/**
 * @since 0.1.0
 */
export * as NodeHttp from "./NodeHttp.js"
/**
 * @since 0.1.0
 */
export * as CredentialMetrics from "./CredentialMetrics.js"
/**
 * @since 0.1.0
 */
export * as AuthorizationRequest from "./AuthorizationRequest.js"
/**
 * @since 0.1.0
 */
export * as FileTokenCache from "./FileTokenCache.js"
/**
 * @since 0.1.0
 */
export * as AzureTokenCredential from "./AzureTokenCredential.js"
/**
 * @since 0.1.0
 */
export * as AuthenticatedHttpClient from "./AuthenticatedHttpClient.js"
/**
 * @since 0.1.0
 */
export * as CacheEncryption from "./CacheEncryption.js"
/**
 * @since 0.1.0
 */
export * as DeviceCode from "./DeviceCode.js"
