import * as Cause from "effect/Cause"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Runtime from "effect/Runtime"
import type { AccessToken } from "../AccessToken.js"
import type { AzureAccessToken, AzureGetTokenOptions, EffectBackedCredential } from "../AzureTokenCredential.js"
import type * as TokenCredential from "../TokenCredential.js"

/**
 * An Effect `TokenCredential` service as an Azure `TokenCredential` (see `AzureTokenCredential.fromService`).
 *
 * @internal
 */
export const effectBackedCredential = (
  service: TokenCredential.Service,
  runtime: Runtime.Runtime<never>
): EffectBackedCredential => {
  const run = Runtime.runPromiseExit(runtime)
  return {
    async getToken(scopes: string | Array<string>, options?: AzureGetTokenOptions): Promise<AzureAccessToken> {
      const signal = options?.abortSignal
      if (signal?.aborted === true) throw abortError()
      const effect = service.getToken(scopes, {
        claims: options?.claims,
        tenantId: options?.tenantId,
        enableCae: options?.enableCae
      })
      const exit = await run(effect, signal === undefined ? undefined : { signal })
      if (Exit.isSuccess(exit)) return toAzureAccessToken(exit.value)
      const failure = Cause.failureOption(exit.cause)
      if (Option.isSome(failure)) throw failure.value
      if (Cause.isInterruptedOnly(exit.cause)) throw abortError()
      throw Cause.squash(exit.cause)
    }
  }
}

const toAzureAccessToken = (token: AccessToken): AzureAccessToken => {
  const tokenType = token.tokenType.toLowerCase() === "pop" ? "pop" : "Bearer"
  return token.refreshAfterTimestamp === undefined
    ? { token: Redacted.value(token.token), expiresOnTimestamp: token.expiresOnTimestamp, tokenType }
    : {
      token: Redacted.value(token.token),
      expiresOnTimestamp: token.expiresOnTimestamp,
      refreshAfterTimestamp: token.refreshAfterTimestamp,
      tokenType
    }
}

const abortError = () => new DOMException("The operation was aborted.", "AbortError")
