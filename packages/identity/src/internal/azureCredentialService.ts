import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type { AccessToken } from "../AccessToken.js"
import { toInfo } from "../AccessToken.js"
import { AuthenticationError, InvalidOptionError } from "../AuthenticationError.js"
import type { AzureAccessToken, AzureTokenCredential, Options } from "../AzureTokenCredential.js"
import * as TokenCredential from "../TokenCredential.js"
import { fromAzureError } from "./azureErrors.js"
import { normalizeScopes } from "./scopes.js"

/**
 * The Effect service over an Azure credential (see `AzureTokenCredential.make`).
 *
 * @internal
 */
export const unsafeMake = (credential: AzureTokenCredential, options: Options): TokenCredential.Service => {
  const name = options.name ?? credentialName(credential)
  const timeout = options.timeout === undefined ? undefined : Duration.decode(options.timeout)

  const getToken = (
    scopes: string | ReadonlyArray<string>,
    tokenOptions?: TokenCredential.GetTokenOptions
  ): Effect.Effect<AccessToken, AuthenticationError | InvalidOptionError> =>
    Effect.suspend((): Effect.Effect<AccessToken, AuthenticationError | InvalidOptionError> => {
      const list = normalizeScopes(scopes)
      if (list instanceof InvalidOptionError) return Effect.fail(list)
      const claims = tokenOptions?.claims === undefined || tokenOptions.claims === "" ? undefined : tokenOptions.claims
      const tenantId = tokenOptions?.tenantId
      const enableCae = tokenOptions?.enableCae
      const call = Effect.tryPromise({
        try: (signal) =>
          credential.getToken([...list], {
            abortSignal: signal,
            ...(claims === undefined ? {} : { claims }),
            ...(tenantId === undefined ? {} : { tenantId }),
            ...(enableCae === undefined ? {} : { enableCae })
          }),
        catch: (error) => fromAzureError(error, { credentialName: name })
      }).pipe(Effect.flatMap((answer) => toAccessToken(answer, name)))
      const bounded = timeout === undefined ? call : call.pipe(Effect.timeoutFail({
        duration: timeout,
        onTimeout: () =>
          new AuthenticationError({
            reason: "Timeout",
            statusCode: 0,
            errorResponse: {
              error: "timeout",
              errorDescription: `${name}.getToken did not settle within ${Duration.format(timeout)}`
            }
          })
      }))
      return bounded.pipe(
        Effect.tapError((error) =>
          Effect.annotateCurrentSpan({
            "entra.error": error.errorResponse.error,
            ...(error.aadstsCode === undefined ? {} : { "entra.aadsts": error.aadstsCode })
          })
        ),
        Effect.withSpan("AzureTokenCredential.getToken", {
          captureStackTrace: false,
          attributes: {
            "azure.credential": name,
            "entra.scopes": list.join(" "),
            "entra.cae": enableCae === true,
            "entra.claims": claims !== undefined,
            ...(tenantId === undefined ? {} : { "entra.tenant_id": tenantId })
          }
        })
      )
    })

  return TokenCredential.TokenCredential.of({
    getToken,
    getTokenInfo: (scopes, tokenOptions) => Effect.map(getToken(scopes, tokenOptions), toInfo)
  })
}

const toAccessToken = (
  answer: AzureAccessToken | null | undefined,
  name: string
): Effect.Effect<AccessToken, AuthenticationError> => {
  const unusable = (what: string) =>
    Effect.fail(
      new AuthenticationError({
        reason: "InvalidResponse",
        statusCode: 0,
        errorResponse: { error: "invalid_response", errorDescription: `${name}.getToken ${what}` }
      })
    )
  // `null` is core-auth's "no token" answer (older credentials use it instead of throwing).
  if (answer === null || answer === undefined) return unusable("returned no token (null)")
  if (typeof answer !== "object") return unusable("returned something that is not an AccessToken")
  const { expiresOnTimestamp, refreshAfterTimestamp, token, tokenType } = answer
  if (typeof token !== "string" || token.length === 0) return unusable("returned an AccessToken without a token")
  const secret = Redacted.make(token)
  if (typeof expiresOnTimestamp !== "number" || !Number.isFinite(expiresOnTimestamp)) {
    return unusable("returned an AccessToken without a numeric expiresOnTimestamp")
  }
  const type = typeof tokenType === "string" && tokenType.length > 0 ? tokenType : "Bearer"
  return Effect.succeed(
    typeof refreshAfterTimestamp === "number" && Number.isFinite(refreshAfterTimestamp)
      ? { token: secret, expiresOnTimestamp, refreshAfterTimestamp, tokenType: type }
      : { token: secret, expiresOnTimestamp, tokenType: type }
  )
}

const credentialName = (credential: AzureTokenCredential): string => {
  const ctor = (credential as { readonly constructor?: { readonly name?: unknown } }).constructor
  return typeof ctor?.name === "string" && ctor.name !== "" && ctor.name !== "Object"
    ? ctor.name
    : "AzureTokenCredential"
}
