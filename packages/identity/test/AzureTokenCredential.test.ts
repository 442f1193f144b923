import { isTokenCredential } from "@azure/core-auth"
import {
  AggregateAuthenticationError,
  AuthenticationError as AzureAuthenticationError,
  AuthenticationRequiredError,
  CredentialUnavailableError
} from "@azure/identity"
import { assert, describe, it } from "@effect/vitest"
import { Cause, Deferred, Effect, Exit, Fiber, Redacted, TestClock } from "effect"
import { inspect } from "node:util"
import type { AccessToken } from "../src/AccessToken.js"
import { AuthenticationError, InvalidOptionError } from "../src/AuthenticationError.js"
import * as AzureTokenCredential from "../src/AzureTokenCredential.js"
import * as TokenCredential from "../src/TokenCredential.js"
import * as Observe from "./fixtures/Observe.js"
import * as Reachable from "./fixtures/Reachable.js"

const scope = "https://vault.azure.net/.default"
const secretToken = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJmYWtlIn0.c2lnbmF0dXJlLXNlY3JldA"

interface Call {
  readonly scopes: string | Array<string>
  readonly options: AzureTokenCredential.AzureGetTokenOptions | undefined
}

/** An Azure `TokenCredential` whose answer each test scripts; records every call. */
class FakeAzureCredential implements AzureTokenCredential.AzureTokenCredential {
  readonly calls: Array<Call> = []
  constructor(
    readonly answer: (call: Call) => Promise<AzureTokenCredential.AzureAccessToken | null> = () =>
      Promise.resolve({ token: secretToken, expiresOnTimestamp: 1_900_000_000_000, tokenType: "Bearer" })
  ) {}
  getToken(scopes: string | Array<string>, options?: AzureTokenCredential.AzureGetTokenOptions) {
    const call = { scopes, options }
    this.calls.push(call)
    return this.answer(call)
  }
}

const failing = (error: unknown) => new FakeAzureCredential(() => Promise.reject(error))

const failure = <A>(effect: Effect.Effect<A, AuthenticationError | InvalidOptionError>) => Effect.flip(effect)

const authFailure = (credential: AzureTokenCredential.AzureTokenCredential) =>
  Effect.gen(function*() {
    const service = yield* AzureTokenCredential.make(credential)
    const error = yield* failure(service.getToken(scope))
    assert.instanceOf(error, AuthenticationError)
    return error as AuthenticationError
  })

const renderings = (value: unknown): ReadonlyArray<string> => [
  String(value),
  JSON.stringify(value) ?? "",
  inspect(value, { depth: 10, showHidden: true }),
  value instanceof AuthenticationError ? Cause.pretty(Cause.fail(value), { renderErrorCause: true }) : "",
  ...Reachable.strings(value)
]

const assertNotShown = (value: unknown, secrets: ReadonlyArray<string>) => {
  for (const text of renderings(value)) {
    for (const secret of secrets) {
      if (text.includes(secret)) throw new Error(`a secret (${secret.length} chars) is visible: ${text.slice(0, 200)}`)
    }
  }
}

describe("AzureTokenCredential: an Azure credential as an Effect TokenCredential", () => {
  it.effect("maps core-auth's AccessToken: token Redacted, timestamps and token type kept", () =>
    Effect.gen(function*() {
      const fake = new FakeAzureCredential(() =>
        Promise.resolve({
          token: secretToken,
          expiresOnTimestamp: 1_900_000_123_456,
          refreshAfterTimestamp: 1_899_998_000_000,
          tokenType: "Bearer"
        })
      )
      const service = yield* AzureTokenCredential.make(fake)
      const token = yield* service.getToken(scope)
      assert.isTrue(Redacted.isRedacted(token.token))
      assert.strictEqual(Redacted.value(token.token), secretToken)
      assert.strictEqual(token.expiresOnTimestamp, 1_900_000_123_456)
      assert.strictEqual(token.refreshAfterTimestamp, 1_899_998_000_000)
      assert.strictEqual(token.tokenType, "Bearer")
      const info = yield* service.getTokenInfo(scope)
      assert.strictEqual(info.expiresOn, 1_900_000_123)
      assert.strictEqual(info.refreshOn, 1_899_998_000)
    }))

  it.effect("defaults tokenType to Bearer, keeps pop, and leaves refreshAfterTimestamp out when absent", () =>
    Effect.gen(function*() {
      const answers: Array<AzureTokenCredential.AzureAccessToken> = [
        { token: "t1", expiresOnTimestamp: 1 },
        { token: "t2", expiresOnTimestamp: 2, tokenType: "pop" }
      ]
      const service = yield* AzureTokenCredential.make(new FakeAzureCredential(() => Promise.resolve(answers.shift()!)))
      const first = yield* service.getToken(scope)
      assert.strictEqual(first.tokenType, "Bearer")
      assert.isFalse("refreshAfterTimestamp" in first)
      assert.strictEqual((yield* service.getToken(scope)).tokenType, "pop")
    }))

  it.effect("passes claims, tenantId, enableCae and an AbortSignal through; normalises the scopes", () =>
    Effect.gen(function*() {
      const fake = new FakeAzureCredential()
      const service = yield* AzureTokenCredential.make(fake)
      const claims = "{\"access_token\":{\"nbf\":{\"essential\":true,\"value\":\"1604106651\"}}}"
      yield* service.getToken([" a/.default  b/x ", "a/.default"], {
        claims,
        tenantId: "other-tenant",
        enableCae: true
      })
      yield* service.getToken(scope)
      const [withOptions, plain] = fake.calls
      assert.deepStrictEqual(withOptions.scopes, ["a/.default", "b/x"])
      assert.strictEqual(withOptions.options?.claims, claims)
      assert.strictEqual(withOptions.options?.tenantId, "other-tenant")
      assert.strictEqual(withOptions.options?.enableCae, true)
      assert.instanceOf(withOptions.options?.abortSignal, AbortSignal)
      // Options the caller did not set are left out, not sent as `undefined`.
      assert.deepStrictEqual(Object.keys(plain.options ?? {}), ["abortSignal"])
      assert.deepStrictEqual(plain.scopes, [scope])
    }))

  it.effect("empty scopes fail with InvalidOptionError before the Azure credential is called", () =>
    Effect.gen(function*() {
      const fake = new FakeAzureCredential()
      const service = yield* AzureTokenCredential.make(fake)
      for (const scopes of [[], "", "   ", ["ok", ""]] as const) {
        const error = yield* failure(service.getToken(scopes))
        assert.instanceOf(error, InvalidOptionError)
        assert.strictEqual((error as InvalidOptionError).field, "scopes")
      }
      assert.strictEqual(fake.calls.length, 0)
    }))

  it.effect("null, or a token without a token string or expiry, fails with InvalidResponse", () =>
    Effect.gen(function*() {
      const answers: Array<unknown> = [null, { expiresOnTimestamp: 1 }, { token: "t", expiresOnTimestamp: "soon" }]
      const fake = new FakeAzureCredential(() =>
        Promise.resolve(answers.shift() as AzureTokenCredential.AzureAccessToken)
      )
      const service = yield* AzureTokenCredential.make(fake, { name: "MyCredential" })
      const messages: Array<string> = []
      for (let i = 0; i < 3; i++) {
        const error = (yield* failure(service.getToken(scope))) as AuthenticationError
        assert.strictEqual(error.reason, "InvalidResponse")
        assert.strictEqual(error.errorResponse.error, "invalid_response")
        assert.strictEqual(error.statusCode, 0)
        messages.push(error.message)
      }
      assert.deepStrictEqual(messages, [
        "MyCredential.getToken returned no token (null) (invalid_response)",
        "MyCredential.getToken returned an AccessToken without a token (invalid_response)",
        "MyCredential.getToken returned an AccessToken without a numeric expiresOnTimestamp (invalid_response)"
      ])
    }))

  it.effect("a thrown Error keeps its name and message, in the message and in a sanitised cause", () =>
    Effect.gen(function*() {
      class WidgetError extends Error {
        override name = "WidgetError"
      }
      const error = yield* authFailure(failing(new WidgetError("the widget broke")))
      assert.strictEqual(error.reason, "Transport")
      assert.strictEqual(error.errorResponse.error, "unknown_error")
      assert.strictEqual(error.message, "FakeAzureCredential: WidgetError: the widget broke (unknown_error)")
      assert.instanceOf(error.cause, Error)
      assert.strictEqual((error.cause as Error).name, "WidgetError")
      assert.strictEqual((error.cause as Error).message, "the widget broke")
      assert.notInstanceOf(error.cause, WidgetError)
      assert.match((error.cause as Error).stack ?? "", /^WidgetError: the widget broke\n\s+at /)
    }))

  it.effect("@azure/identity's AuthenticationError keeps Entra's fields", () =>
    Effect.gen(function*() {
      const thrown = new AzureAuthenticationError(400, {
        error: "invalid_grant",
        error_description: "AADSTS70008: The provided authorization code or refresh token has expired.\r\n" +
          "Trace ID: 6e94ade5-10de-4d67-909a-14d845813500\r\nCorrelation ID: 0e87b495-1e24-4882-be85-d012c216f4f6",
        error_codes: [70008],
        timestamp: "2026-11-24 10:00:00Z",
        trace_id: "6e94ade5-10de-4d67-909a-14d845813500",
        correlation_id: "0e87b495-1e24-4882-be85-d012c216f4f6"
      })
      const error = yield* authFailure(failing(thrown))
      assert.strictEqual(error.reason, "ErrorResponse")
      assert.strictEqual(error.statusCode, 400)
      assert.deepStrictEqual(error.errorResponse.errorCodes, [70008])
      assert.strictEqual(error.errorResponse.traceId, "6e94ade5-10de-4d67-909a-14d845813500")
      assert.strictEqual(error.errorResponse.correlationId, "0e87b495-1e24-4882-be85-d012c216f4f6")
      assert.strictEqual(error.errorResponse.timestamp, "2026-11-24 10:00:00Z")
      assert.strictEqual(error.aadstsCode, 70008)
      assert.isTrue(error.isInteractionRequired)
      assert.strictEqual(
        error.message,
        "AADSTS70008: The provided authorization code or refresh token has expired. (invalid_grant, HTTP 400)"
      )
      assert.strictEqual((error.cause as Error).name, "AuthenticationError")
    }))

  it.effect("snake_case errorResponse fields (a hand-written credential) are read too", () =>
    Effect.gen(function*() {
      const thrown = Object.assign(new Error("denied"), {
        statusCode: 401,
        errorResponse: { error: "invalid_client", error_description: "AADSTS7000215: Invalid client secret provided." }
      })
      const error = yield* authFailure(failing(thrown))
      assert.strictEqual(error.reason, "ErrorResponse")
      assert.strictEqual(error.message, "AADSTS7000215: Invalid client secret provided. (invalid_client, HTTP 401)")
      assert.strictEqual(error.aadstsCode, 7000215)
    }))

  it.effect("MSAL's ServerError, wrapped by @azure/identity in AuthenticationRequiredError, keeps Entra's fields", () =>
    Effect.gen(function*() {
      // The shape msal-common's ResponseHandler builds (name, errorCode, errorMessage, errorNo, status, ...).
      const serverError = Object.assign(new Error("invalid_client: Error(s): 7000215 - ..."), {
        name: "ServerError",
        errorCode: "invalid_client",
        // Entra's description embeds its own Trace ID / Correlation ID lines; MSAL appends them again.
        errorMessage: "Error(s): 7000215 - Timestamp: 2026-11-24 10:00:00Z - Description: AADSTS7000215: Invalid " +
          "client secret provided.\r\nTrace ID: 6e94ade5-10de-4d67-909a-14d845813500\r\nCorrelation ID: " +
          "0e87b495-1e24-4882-be85-d012c216f4f6\r\nTimestamp: 2026-11-24 10:00:00Z - Correlation ID: " +
          "0e87b495-1e24-4882-be85-d012c216f4f6 - Trace ID: 6e94ade5-10de-4d67-909a-14d845813500",
        subError: "",
        errorNo: 7000215,
        status: 401,
        correlationId: "0e87b495-1e24-4882-be85-d012c216f4f6"
      })
      const thrown = new AuthenticationRequiredError({
        scopes: [scope],
        message: serverError.message,
        cause: serverError
      })
      const error = yield* authFailure(failing(thrown))
      assert.strictEqual(error.reason, "ErrorResponse")
      assert.strictEqual(error.statusCode, 401)
      assert.deepStrictEqual(error.errorResponse, {
        error: "invalid_client",
        errorDescription: "AADSTS7000215: Invalid client secret provided.\r\nTrace ID: " +
          "6e94ade5-10de-4d67-909a-14d845813500\r\nCorrelation ID: 0e87b495-1e24-4882-be85-d012c216f4f6\r\n" +
          "Timestamp: 2026-11-24 10:00:00Z",
        errorCodes: [7000215],
        timestamp: "2026-11-24 10:00:00Z",
        traceId: "6e94ade5-10de-4d67-909a-14d845813500",
        correlationId: "0e87b495-1e24-4882-be85-d012c216f4f6"
      })
      assert.strictEqual(error.message, "AADSTS7000215: Invalid client secret provided. (invalid_client, HTTP 401)")
      assert.isFalse(error.isInteractionRequired)
      assert.strictEqual((error.cause as Error).name, "AuthenticationRequiredError")
      assert.strictEqual(((error.cause as Error).cause as Error).name, "ServerError")
    }))

  it.effect("a chained credential's AggregateAuthenticationError surfaces the Entra error inside it, if any", () =>
    Effect.gen(function*() {
      const unavailable = new CredentialUnavailableError("EnvironmentCredential is unavailable.")
      const allUnavailable = yield* authFailure(failing(
        new AggregateAuthenticationError([unavailable, unavailable], "ChainedTokenCredential authentication failed.")
      ))
      assert.strictEqual(allUnavailable.reason, "Transport")
      assert.strictEqual(allUnavailable.errorResponse.error, "credential_unavailable")
      assert.match(allUnavailable.message, /AggregateAuthenticationError: ChainedTokenCredential authentication failed/)

      const entra = new AzureAuthenticationError(401, {
        error: "invalid_client",
        error_description: "AADSTS7000215: Invalid client secret provided."
      })
      const withEntra = yield* authFailure(failing(
        new AggregateAuthenticationError(
          [unavailable, new AuthenticationRequiredError({ scopes: [scope], message: "silent failed" }), entra],
          "ChainedTokenCredential authentication failed."
        )
      ))
      assert.strictEqual(withEntra.reason, "ErrorResponse")
      assert.strictEqual(withEntra.aadstsCode, 7000215)
    }))

  it.effect("AuthenticationRequiredError alone means the user must sign in again", () =>
    Effect.gen(function*() {
      const error = yield* authFailure(
        failing(new AuthenticationRequiredError({ scopes: [scope], message: "Silent authentication failed." }))
      )
      assert.strictEqual(error.reason, "ReauthenticationRequired")
      assert.strictEqual(error.errorResponse.error, "interaction_required")
      assert.isTrue(error.isInteractionRequired)
    }))

  it.effect("CredentialUnavailableError, AbortError and socket errors map to Transport and Timeout", () =>
    Effect.gen(function*() {
      const unavailable = yield* authFailure(failing(new CredentialUnavailableError("Azure CLI could not be found.")))
      assert.strictEqual(unavailable.reason, "Transport")
      assert.strictEqual(unavailable.errorResponse.error, "credential_unavailable")
      assert.match(
        unavailable.message,
        /^FakeAzureCredential: CredentialUnavailableError: Azure CLI could not be found/
      )

      const aborted = yield* authFailure(failing(new DOMException("timed out", "AbortError")))
      assert.strictEqual(aborted.reason, "Timeout")

      const refused = yield* authFailure(
        failing(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" }))
      )
      assert.strictEqual(refused.reason, "Transport")
      assert.strictEqual(refused.errorResponse.error, "transport_error")
      assert.strictEqual((refused.cause as { code?: string }).code, "ECONNREFUSED")
    }))

  it.effect("a RestError's request (headers, form body) is never kept; secrets in messages are scrubbed", () =>
    Effect.gen(function*() {
      const clientSecret = "s3cr3t~Value.0123456789abcdef"
      const refreshToken = "0.AAAA-refresh-token-value-0123456789"
      const restError = Object.assign(
        new Error(`POST failed: client_secret=${clientSecret}&refresh_token=${refreshToken} Bearer ${secretToken}`),
        {
          name: "RestError",
          code: "REQUEST_SEND_ERROR",
          request: {
            url: "https://login.microsoftonline.com/t/oauth2/v2.0/token",
            headers: { authorization: `Bearer ${secretToken}` },
            body: `grant_type=refresh_token&client_secret=${clientSecret}&refresh_token=${refreshToken}`
          },
          details: { access_token: secretToken }
        }
      )
      const error = yield* authFailure(failing(restError))
      assert.strictEqual(error.reason, "Transport")
      assert.strictEqual(error.errorResponse.error, "transport_error")
      assert.include(error.message, "client_secret=***")
      assertNotShown(error, [clientSecret, refreshToken, secretToken])
    }))

  it.effect("interrupting the fiber aborts the Azure credential's signal", () =>
    Effect.gen(function*() {
      const started = yield* Deferred.make<AbortSignal>()
      const fake = new FakeAzureCredential((call) => {
        Deferred.unsafeDone(started, Exit.succeed(call.options!.abortSignal!))
        return new Promise(() => {})
      })
      const service = yield* AzureTokenCredential.make(fake)
      const fiber = yield* Effect.fork(service.getToken(scope))
      const signal = yield* Deferred.await(started)
      assert.isFalse(signal.aborted)
      yield* Fiber.interrupt(fiber)
      assert.isTrue(signal.aborted)
    }))

  it.effect("the timeout option aborts a call that does not settle and fails with Timeout", () =>
    Effect.gen(function*() {
      const started = yield* Deferred.make<AbortSignal>()
      const fake = new FakeAzureCredential((call) => {
        Deferred.unsafeDone(started, Exit.succeed(call.options!.abortSignal!))
        return new Promise(() => {})
      })
      const service = yield* AzureTokenCredential.make(fake, { timeout: "10 seconds" })
      const fiber = yield* Effect.fork(Effect.flip(service.getToken(scope)))
      const signal = yield* Deferred.await(started)
      yield* TestClock.adjust("10 seconds")
      const error = (yield* Fiber.join(fiber)) as AuthenticationError
      assert.strictEqual(error.reason, "Timeout")
      assert.strictEqual(error.message, "FakeAzureCredential.getToken did not settle within 10s (timeout)")
      assert.isTrue(signal.aborted)
    }))

  it.effect("the token never shows in inspect or JSON of the result, nor in spans; spans carry scopes and tenant", () =>
    Effect.gen(function*() {
      const observed = Observe.make()
      const service = yield* AzureTokenCredential.make(new FakeAzureCredential())
      const token: AccessToken = yield* service.getToken(scope, { tenantId: "t-2", enableCae: true }).pipe(
        Observe.observe(observed)
      )
      assert.strictEqual(Redacted.value(token.token), secretToken)
      for (const text of [inspect(token, { depth: 10 }), JSON.stringify(token), String(token.token), observed.text()]) {
        assert.notInclude(text, secretToken)
      }
      const span = observed.spans.find((s) => s.name === "AzureTokenCredential.getToken")
      assert.isDefined(span)
      assert.strictEqual(span!.attributes.get("entra.scopes"), scope)
      assert.strictEqual(span!.attributes.get("entra.tenant_id"), "t-2")
      assert.strictEqual(span!.attributes.get("entra.cae"), true)
      assert.strictEqual(span!.attributes.get("azure.credential"), "FakeAzureCredential")
    }))

  it.effect("layer provides the TokenCredential service", () =>
    Effect.gen(function*() {
      const token = yield* TokenCredential.getToken(scope)
      assert.strictEqual(Redacted.value(token.token), secretToken)
    }).pipe(Effect.provide(AzureTokenCredential.layer(new FakeAzureCredential()))))

  it.effect("layerEffect builds the Azure credential in an Effect", () =>
    Effect.gen(function*() {
      const info = yield* TokenCredential.getTokenInfo(scope)
      assert.strictEqual(info.expiresOn, 1_900_000_000)
    }).pipe(Effect.provide(AzureTokenCredential.layerEffect(Effect.sync(() => new FakeAzureCredential())))))
})

describe("AzureTokenCredential: an Effect TokenCredential as an Azure credential", () => {
  const effectService = (
    getToken: TokenCredential.Service["getToken"]
  ): TokenCredential.Service => ({ getToken, getTokenInfo: () => Effect.die("unused") })

  it.effect("toAzure is a core-auth TokenCredential resolving with the plain token", () =>
    Effect.gen(function*() {
      const seen: Array<TokenCredential.GetTokenOptions | undefined> = []
      const service = effectService((_, options) => {
        seen.push(options)
        return Effect.succeed({
          token: Redacted.make(secretToken),
          expiresOnTimestamp: 1_900_000_000_000,
          refreshAfterTimestamp: 1_899_000_000_000,
          tokenType: "Bearer"
        })
      })
      const credential = yield* AzureTokenCredential.toAzure.pipe(
        Effect.provideService(TokenCredential.TokenCredential, service)
      )
      assert.isTrue(isTokenCredential(credential))
      const token = yield* Effect.promise(() =>
        credential.getToken([scope], { claims: "{}", tenantId: "t-9", enableCae: true })
      )
      assert.deepStrictEqual(token, {
        token: secretToken,
        expiresOnTimestamp: 1_900_000_000_000,
        refreshAfterTimestamp: 1_899_000_000_000,
        tokenType: "Bearer"
      })
      assert.deepStrictEqual(seen, [{ claims: "{}", tenantId: "t-9", enableCae: true }])
    }))

  it.effect("rejects with the AuthenticationError itself, never a FiberFailure", () =>
    Effect.gen(function*() {
      const expected = new AuthenticationError({
        reason: "ErrorResponse",
        statusCode: 400,
        errorResponse: { error: "invalid_grant", errorDescription: "AADSTS70008: expired" }
      })
      const credential = AzureTokenCredential.fromService(effectService(() => Effect.fail(expected)))
      const rejected = yield* Effect.promise(() => credential.getToken(scope).then(() => undefined, (e: unknown) => e))
      assert.strictEqual(rejected, expected)
    }))

  it.effect("an abortSignal interrupts the Effect and rejects with an AbortError", () =>
    Effect.gen(function*() {
      const interrupted = yield* Deferred.make<void>()
      const running = yield* Deferred.make<void>()
      const credential = AzureTokenCredential.fromService(effectService(() =>
        Deferred.succeed(running, undefined).pipe(
          Effect.zipRight(Effect.never),
          Effect.onInterrupt(() => Deferred.succeed(interrupted, undefined))
        )
      ))
      const controller = new AbortController()
      const pending = credential.getToken(scope, { abortSignal: controller.signal }).then(
        () => undefined,
        (e: unknown) => e
      )
      yield* Deferred.await(running)
      controller.abort()
      const rejected = yield* Effect.promise(() => pending)
      assert.strictEqual((rejected as Error).name, "AbortError")
      yield* Deferred.await(interrupted)
      const early = yield* Effect.promise(() =>
        credential.getToken(scope, { abortSignal: AbortSignal.abort() }).then(() => undefined, (e: unknown) => e)
      )
      assert.strictEqual((early as Error).name, "AbortError")
    }))

  it.effect("round trip Azure → Effect → Azure keeps the token and its timestamps", () =>
    Effect.gen(function*() {
      const service = yield* AzureTokenCredential.make(new FakeAzureCredential())
      const back = AzureTokenCredential.fromService(service)
      const token = yield* Effect.promise(() => back.getToken(scope))
      assert.deepStrictEqual(token, { token: secretToken, expiresOnTimestamp: 1_900_000_000_000, tokenType: "Bearer" })
    }))
})
