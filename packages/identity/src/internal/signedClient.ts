import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Effect from "effect/Effect"
import type { AccessToken } from "../AccessToken.js"
import type { ClaimsChallenge, Settings } from "../AuthenticatedHttpClient.js"
import type { TokenError } from "../AuthenticationError.js"
import type { Service as TokenCredentialService } from "../TokenCredential.js"
import { parseClaimsChallenge } from "./claimsChallenge.js"
import { discardBody, isReplayable, redirectStatuses, redirectTarget, withoutAuthorization } from "./signedRedirects.js"
import type { AuthenticatedHttpClientError } from "./signingError.js"
import { checkTarget } from "./signingTarget.js"
import { scrubError, UnsignedResponse } from "./unsignedResponse.js"

/** What one signed client works with. */
interface Signer<E, R> {
  readonly client: HttpClient.HttpClient.With<E, R>
  readonly credential: TokenCredentialService
  readonly settings: Settings
  readonly scopeText: string
}

type Answerable = Extract<ClaimsChallenge, { readonly _tag: "Claims" }>

const tokenFor = <E, R>(signer: Signer<E, R>, challenge?: Answerable) =>
  signer.credential.getToken(signer.settings.scopes, {
    enableCae: signer.settings.enableCae,
    tenantId: challenge?.tenantId ?? signer.settings.tenantId,
    claims: challenge?.claims
  })

/** One exchange with the wrapped client; the response and errors point at the request without the token. */
const send = <E, R>(
  signer: Signer<E, R>,
  request: HttpClientRequest.HttpClientRequest,
  token: AccessToken | undefined
) =>
  signer.client.execute(token === undefined ? request : HttpClientRequest.bearerToken(request, token.token)).pipe(
    Effect.mapError((error) => scrubError(error, request))
  )

const unsigned = (response: HttpClientResponse.HttpClientResponse, request: HttpClientRequest.HttpClientRequest) =>
  new UnsignedResponse(response, request) as HttpClientResponse.HttpClientResponse

/** The 401 goes back to the caller as it is; the span and a debug log say why it was not answered. */
const declined = (
  response: HttpClientResponse.HttpClientResponse,
  request: HttpClientRequest.HttpClientRequest,
  outcome: string
) =>
  Effect.as(
    Effect.zipRight(
      Effect.annotateCurrentSpan({ "entra.cae.retry": false, "entra.cae.outcome": outcome }),
      Effect.logDebug("Claims challenge not answered; returning the 401").pipe(
        Effect.annotateLogs({ outcome, method: request.method })
      )
    ),
    unsigned(response, request)
  )

type ChallengeAnswer =
  | { readonly _tag: "Retry"; readonly token: AccessToken }
  | { readonly _tag: "Declined"; readonly response: HttpClientResponse.HttpClientResponse }

/** A claims challenge: a token with the claims to send the request again with, or the 401 to hand back. */
const answerChallenge = Effect.fnUntraced(function*<E, R>(
  signer: Signer<E, R>,
  response: HttpClientResponse.HttpClientResponse,
  request: HttpClientRequest.HttpClientRequest,
  challenge: Exclude<ClaimsChallenge, { readonly _tag: "None" }>
) {
  const decline = (outcome: string) =>
    Effect.map(declined(response, request, outcome), (r): ChallengeAnswer => ({ _tag: "Declined", response: r }))
  if (challenge._tag === "Invalid") return yield* decline("invalid-claims")
  if (!isReplayable(request.body)) return yield* decline("body-not-replayable")
  const fresh = yield* tokenFor(signer, challenge).pipe(
    Effect.catchTag("InvalidOptionError", (error) =>
      error.field === "tenantId" || error.field === "claims"
        ? Effect.succeed(error.field)
        : Effect.fail(error))
  )
  if (typeof fresh === "string") return yield* decline(fresh === "tenantId" ? "tenant-not-allowed" : "invalid-claims")
  yield* Effect.annotateCurrentSpan({
    "entra.cae.retry": true,
    "entra.cae.tenant_hint": challenge.tenantId !== undefined
  })
  yield* discardBody(response)
  return { _tag: "Retry", token: fresh } satisfies ChallengeAnswer as ChallengeAnswer
})

/** The request through 401 challenges and redirects, as one span. */
const exchange = Effect.fnUntraced(function*<E, R>(
  signer: Signer<E, R>,
  original: HttpClientRequest.HttpClientRequest
) {
  const settings = signer.settings
  yield* Effect.annotateCurrentSpan({
    "http.request.method": original.method,
    "entra.scopes": signer.scopeText,
    "entra.cae": settings.enableCae
  })
  const target = yield* checkTarget(settings, original)
  yield* Effect.annotateCurrentSpan({ "server.address": target.hostname, "url.scheme": target.protocol.slice(0, -1) })
  let request = original
  let url = target
  let signing = true
  let claimsToken: AccessToken | undefined
  let challenged = false
  let redirects = 0
  while (true) {
    const token = signing ? claimsToken ?? (yield* tokenFor(signer)) : undefined
    const response = yield* send(signer, request, token)
    if (response.status === 401 && signing && !challenged) {
      const challenge = parseClaimsChallenge(response.headers["www-authenticate"])
      // A claims challenge is answered once; anything we cannot answer returns the 401.
      if (challenge._tag !== "None") {
        challenged = true
        const answer = yield* answerChallenge(signer, response, request, challenge)
        if (answer._tag === "Declined") return answer.response
        claimsToken = answer.token
        continue
      }
    }
    const next = redirectStatuses.has(response.status) && redirects < settings.maxRedirects
      ? redirectTarget(request, url, response)
      : undefined
    if (next === undefined) return unsigned(response, request)
    yield* discardBody(response)
    redirects++
    yield* Effect.annotateCurrentSpan("http.redirects", redirects)
    // The token never follows a redirect to another origin (scheme, host or port).
    if (signing && next.url.origin !== target.origin) {
      signing = false
      yield* Effect.annotateCurrentSpan("entra.token.dropped_on_redirect", true)
    }
    request = signing ? next.request : withoutAuthorization(next.request)
    url = next.url
  }
})

/**
 * `client` with every request signed, from validated settings.
 *
 * @internal
 */
export const makeSignedClient = <E, R>(
  client: HttpClient.HttpClient.With<E, R>,
  credential: TokenCredentialService,
  settings: Settings
): HttpClient.HttpClient.With<E | AuthenticatedHttpClientError | TokenError, R> => {
  const signer: Signer<E, R> = { client, credential, settings, scopeText: settings.scopes.join(" ") }
  const execute = Effect.fn("AuthenticatedHttpClient.execute", { captureStackTrace: false })(
    function*(request: HttpClientRequest.HttpClientRequest) {
      return yield* exchange(signer, request)
    }
  )
  return HttpClient.makeWith(
    (request) => Effect.flatMap(request, execute),
    Effect.succeed as HttpClient.HttpClient.Preprocess<never, never>
  )
}
