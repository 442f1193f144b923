import { HttpClient, HttpClientError, HttpClientResponse } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, FastCheck, Inspectable, Metric, Redacted, TestClock } from "effect"
import { inspect } from "node:util"
import type { AccessToken } from "../src/AccessToken.js"
import * as AuthenticatedHttpClient from "../src/AuthenticatedHttpClient.js"
import { AuthenticationError } from "../src/AuthenticationError.js"
import * as AzureTokenCredential from "../src/AzureTokenCredential.js"
import * as PromiseFacade from "../src/promise.js"
import * as TokenCache from "../src/TokenCache.js"
import type * as TokenCredential from "../src/TokenCredential.js"
import * as Observe from "./fixtures/Observe.js"
import * as Reachable from "./fixtures/Reachable.js"
import * as ScriptedEntra from "./fixtures/ScriptedEntra.js"
import * as Time from "./fixtures/Time.js"

const secret = FastCheck.stringMatching(/^[A-Za-z0-9]{20,40}$/)
const verifierArbitrary = FastCheck.stringMatching(/^[A-Za-z0-9]{43,60}$/)
const scope = "api://demo/user_impersonation"

/** Every way a caller might print or walk an error (or any object): text, message, JSON, inspect, reachable strings. */
const renderings = (value: unknown): Array<string> => [
  String(value),
  (value as Error | undefined)?.message ?? "",
  JSON.stringify(value) ?? "",
  inspect(value, { depth: 20 }),
  inspect(value, { depth: 20, showHidden: true }),
  ...Reachable.strings(value)
]

const noRefreshCodeOf = (code: string) => `${code}r`

const assertNoSecret = (shown: string, secrets: ReadonlyArray<string>) => {
  for (const value of secrets) {
    const at = shown.indexOf(value)
    // The text around the leak, so a failure says where the secret showed up.
    if (at !== -1) assert.fail(`a secret is visible: ...${shown.slice(Math.max(0, at - 300), at + value.length + 100)}`)
  }
}

/**
 * Every metric as an exporter or a debugger could show it: each key (name, description, tags) and state, as text,
 * JSON, `inspect` and every string reachable from the snapshot.
 */
const metricsShown = Effect.map(Metric.snapshot, (pairs) =>
  pairs.flatMap((pair) => [
    String(pair.metricKey),
    Inspectable.stringifyCircular({ key: pair.metricKey, state: pair.metricState }),
    inspect(pair, { depth: 20 }),
    ...Reachable.strings(pair)
  ]).join("\n"))

/** Span names, attributes, events and outcomes (the cause of a failure included), as an exporter sees them. */
const spansShown = (observed: Observe.Observed) =>
  observed.spans.flatMap((span) => [
    Inspectable.stringifyCircular({
      name: span.name,
      attributes: Object.fromEntries(span.attributes)
    }),
    // Events (log lines logged inside the span among them) carry bigint times: `inspect`, not JSON.
    inspect((span as { readonly events?: unknown }).events ?? [], { depth: 20 }),
    span.status._tag === "Ended" && span.status.exit._tag === "Failure"
      ? Cause.pretty(span.status.exit.cause, { renderErrorCause: true })
      : ""
  ])

/** Everything a run showed: its logs, spans and metrics, and every rendering of the values it returned or threw. */
const everythingShown = (observed: Observe.Observed, values: ReadonlyArray<unknown>) =>
  Effect.map(metricsShown, (metrics) =>
    [
      observed.text(),
      ...spansShown(observed),
      metrics,
      ...values.flatMap(renderings),
      ...values.flatMap((value) =>
        value instanceof Error ? [Cause.pretty(Cause.fail(value), { renderErrorCause: true })] : []
      )
    ].join("\n"))

// --- AuthenticatedHttpClient fakes -------------------------------------------------------------------------------

type Reply =
  | {
    readonly _tag: "Respond"
    readonly status: number
    readonly headers?: Record<string, string>
    readonly body?: string
  }
  | { readonly _tag: "Transport" }

const graphScopes = ["https://graph.microsoft.com/User.Read"]
const me = "https://graph.microsoft.com/v1.0/me"
const claimsChallenge: Reply = {
  _tag: "Respond",
  status: 401,
  headers: {
    "www-authenticate": "Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/" +
      "v2.0/authorize\", error=\"insufficient_claims\", claims=\"" +
      Buffer.from(JSON.stringify({ access_token: { nbf: { essential: true, value: "1604106651" } } })).toString(
        "base64"
      ) + "\""
  },
  body: "{\"error\":\"insufficient_claims\"}"
}

/** An HttpClient with no network: answers from `script` (200 when it is empty), records each Authorization sent. */
const scriptedHttp = () => {
  const script: Array<Reply> = []
  const sent: Array<{ readonly url: string; readonly authorization: string | undefined }> = []
  const client = HttpClient.make((request, url) =>
    Effect.suspend(() => {
      sent.push({ url: url.href, authorization: request.headers["authorization"] })
      const reply = script.shift() ?? { _tag: "Respond", status: 200, body: "{\"ok\":true}" }
      if (reply._tag === "Transport") {
        return Effect.fail(
          new HttpClientError.RequestError({
            request,
            reason: "Transport",
            cause: new Error("socket hang up"),
            description: "socket hang up"
          })
        )
      }
      return Effect.succeed(HttpClientResponse.fromWeb(
        request,
        new Response(reply.body ?? null, { status: reply.status, headers: reply.headers ?? {} })
      ))
    })
  )
  return { client, script, sent }
}

/** A credential handing out the given tokens in turn, or failing with the queued error. */
const tokenCredential = (tokens: Array<string>, failures: Array<AuthenticationError>): TokenCredential.Service => {
  const getToken = () =>
    Effect.suspend((): Effect.Effect<AccessToken, AuthenticationError> => {
      const failure = failures.shift()
      if (failure !== undefined) return Effect.fail(failure)
      const token = tokens.shift()
      if (token === undefined) return Effect.die("the test ran out of tokens")
      return Effect.succeed({
        token: Redacted.make(token),
        expiresOnTimestamp: Date.now() + 3_600_000,
        tokenType: "Bearer"
      })
    })
  return { getToken, getTokenInfo: () => Effect.die("unused") }
}

// --- Azure credential fakes --------------------------------------------------------------------------------------

/** Builds what an `@azure/core-rest-pipeline` `RestError` holds: the request (headers, form body) and the message. */
const restError = (
  message: string,
  fields: {
    readonly token: string
    readonly clientSecret: string
    readonly refreshToken: string
    readonly statusCode?: number
    readonly code?: string
  }
) =>
  Object.assign(new Error(message), {
    name: "RestError",
    ...(fields.code === undefined ? {} : { code: fields.code }),
    ...(fields.statusCode === undefined ? {} : { statusCode: fields.statusCode }),
    request: {
      url: "https://login.microsoftonline.com/t/oauth2/v2.0/token",
      method: "POST",
      headers: { authorization: `Bearer ${fields.token}`, "content-type": "application/x-www-form-urlencoded" },
      body: `grant_type=refresh_token&client_id=c&client_secret=${fields.clientSecret}` +
        `&refresh_token=${fields.refreshToken}`
    },
    response: fields.statusCode === undefined ? undefined : {
      status: fields.statusCode,
      headers: { "content-type": "application/json" },
      bodyAsText: JSON.stringify({ access_token: fields.token, refresh_token: fields.refreshToken })
    },
    details: { access_token: fields.token, refresh_token: fields.refreshToken }
  })

describe("secrets", () => {
  it.effect.prop(
    "no secret appears in logs, spans, errors or inspected objects on any path",
    { clientSecret: secret, code: secret, verifier: FastCheck.stringMatching(/^[A-Za-z0-9]{43,60}$/), salt: secret },
    ({ clientSecret, code, salt, verifier }) =>
      Effect.gen(function*() {
        const observed = Observe.make()
        const errors: Array<unknown> = []
        const entra = ScriptedEntra.make()
        entra.settings.tokenSalt = salt
        entra.issueCode(ScriptedEntra.alice, { code })
        yield* Effect.gen(function*() {
          const credential = yield* ScriptedEntra.credential(entra, code, {
            clientSecret: Redacted.make(clientSecret),
            codeVerifier: Redacted.make(verifier)
          })
          const record = <A, E>(effect: Effect.Effect<A, E>) =>
            Effect.catchAll(effect, (error) => Effect.sync(() => void errors.push(error)))
          // Retries (429, transport, 503) then a successful redemption.
          entra.script.push(
            { _tag: "Respond", status: 429, body: "Too Many Requests", headers: { "retry-after": "1" } },
            { _tag: "Transport" },
            { _tag: "Respond", status: 503, body: "<html>down</html>" }
          )
          const token = yield* Time.settle(credential.getToken(scope))
          errors.push(token)
          // Cached, claims, CAE, another tenant refused, bad input.
          yield* credential.getToken(scope)
          yield* credential.getToken(scope, { claims: "{\"access_token\":{\"acrs\":{\"value\":\"c1\"}}}" })
          yield* credential.getToken(scope, { enableCae: true })
          yield* record(credential.getToken(scope, { tenantId: "elsewhere" }))
          yield* record(credential.getToken([]))
          // A 200 that leaks a refresh token but lacks an access token (on every attempt: an unusable 200 to a
          // refresh is retried), an OAuth error, an HTML page.
          const leaky: ScriptedEntra.Scripted = {
            _tag: "Respond",
            status: 200,
            body: JSON.stringify({ refresh_token: `leak${salt}`, expires_in: 3600 })
          }
          entra.script.push(leaky, leaky, leaky, leaky)
          yield* record(Time.settle(credential.getToken("other/one")))
          entra.script.push({
            _tag: "Respond",
            status: 400,
            body: ScriptedEntra.errorBody("invalid_grant", 70008, "The refresh token has expired.")
          })
          yield* record(credential.getToken("other/two"))
          // A failed proactive refresh (logs a warning) and an expired-token refresh that fails.
          yield* TestClock.adjust("56 minutes")
          entra.script.push({ _tag: "Respond", status: 500, body: "{}" }, { _tag: "Respond", status: 500, body: "{}" })
          entra.script.push({ _tag: "Respond", status: 500, body: "{}" }, { _tag: "Respond", status: 500, body: "{}" })
          yield* Time.settle(credential.getToken(scope))
          errors.push(credential)
        }).pipe(Observe.observe(observed), Effect.provide(TokenCache.layerMemory), Effect.scoped)

        assert.isAtLeast(errors.length, 5)
        // Not only what is printed: everything reachable from the objects (bytes of a request body included).
        const shown = yield* everythingShown(observed, errors)
        assert.isTrue(observed.logs.some((line) => line.startsWith("WARN")), "the proactive failure was logged")
        for (const value of [clientSecret, code, verifier, salt]) {
          assert.notInclude(shown, value)
        }
      }),
    { fastCheck: { numRuns: 15 } }
  )

  it.effect.prop(
    "no secret appears in Timeout and ReauthenticationRequired failures, their logs or spans",
    { clientSecret: secret, code: secret, verifier: verifierArbitrary, salt: secret },
    ({ clientSecret, code, salt, verifier }) =>
      Effect.gen(function*() {
        const observed = Observe.make()
        const errors: Array<unknown> = []
        const entra = ScriptedEntra.make()
        entra.settings.tokenSalt = salt
        entra.issueCode(ScriptedEntra.alice, { code })
        const secrets = { clientSecret: Redacted.make(clientSecret), codeVerifier: Redacted.make(verifier) }
        const record = <A, E>(effect: Effect.Effect<A, E>) =>
          Effect.flatMap(Effect.flip(effect), (error) => Effect.sync(() => void errors.push(error)))
        yield* Effect.gen(function*() {
          const http = { requestTimeout: "2 seconds", maxAttempts: 2 } as const
          const credential = yield* ScriptedEntra.credential(entra, code, { ...secrets, http })
          // Timeout while redeeming the code (the form holds the code, the verifier and the client secret).
          entra.script.push({ _tag: "Hang" }, { _tag: "Hang" })
          yield* record(Time.settle(credential.getToken(scope)))
          // The code survives a time-out: redeem it, then time out on the refresh grant (the form holds the
          // refresh token).
          yield* Time.settle(credential.getToken(scope))
          entra.script.push({ _tag: "Hang" }, { _tag: "Hang" })
          yield* record(Time.settle(credential.getToken("other/one")))
          errors.push(credential)
          // A redemption that brought no refresh token: another scope needs ReauthenticationRequired.
          entra.settings.returnRefreshToken = false
          const noRefreshCode = noRefreshCodeOf(code)
          entra.issueCode(ScriptedEntra.alice, { code: noRefreshCode })
          const noRefresh = yield* ScriptedEntra.credential(entra, noRefreshCode, secrets)
          yield* noRefresh.getToken(scope)
          yield* record(noRefresh.getToken("other/two"))
          entra.settings.returnRefreshToken = true

          // A code Entra refuses (MFA required), then ReauthenticationRequired from the spent state.
          const refusedCode = `${code}x`
          const refused = yield* ScriptedEntra.credential(entra, refusedCode, secrets)
          entra.script.push({
            _tag: "Respond",
            status: 400,
            body: ScriptedEntra.errorBody("interaction_required", 50076, "Due to a configuration change", {
              suberror: "basic_action",
              claims: "{\"access_token\":{\"capolids\":{\"essential\":true}}}"
            })
          })
          yield* record(refused.getToken(scope))
          yield* record(refused.getToken(scope))
          errors.push(refused)
        }).pipe(Observe.observe(observed), Effect.provide(TokenCache.layerMemory), Effect.scoped)

        const reasons = errors.flatMap((error) =>
          typeof error === "object" && error !== null && "reason" in error ? [error.reason] : []
        )
        assert.deepStrictEqual(reasons, [
          "Timeout",
          "Timeout",
          "ReauthenticationRequired",
          "ErrorResponse",
          "ReauthenticationRequired"
        ])
        const shown = yield* everythingShown(observed, errors)
        assertNoSecret(shown, [clientSecret, code, verifier, salt, noRefreshCodeOf(code)])
      }),
    { fastCheck: { numRuns: 10 } }
  )

  it.effect.prop(
    "the Promise facade's rejections never show a secret",
    { clientSecret: secret, code: secret, verifier: verifierArbitrary, salt: secret },
    ({ clientSecret, code, salt, verifier }) =>
      Effect.promise(async () => {
        const entra = ScriptedEntra.make()
        entra.settings.tokenSalt = salt
        entra.issueCode(ScriptedEntra.alice, { code })
        const rejections: Array<unknown> = []
        const rejection = (promise: Promise<unknown>) =>
          promise.then(
            () => assert.fail(`expected rejection #${rejections.length + 1}`),
            (error: unknown) => void rejections.push(error)
          )
        const options = {
          clientSecret,
          codeVerifier: verifier,
          authority: "https://login.example",
          httpClient: entra.client,
          requestTimeoutInMs: 50,
          retryOptions: { maxRetries: 0 }
        }
        const credential = new PromiseFacade.AuthorizationCodeCredential(
          "home-tenant",
          "client-1",
          code,
          "http://localhost/callback",
          options
        )
        // Timeout and transport failure on the code grant; the code survives both.
        entra.script.push({ _tag: "Hang" })
        await rejection(credential.getToken(scope))
        entra.script.push({ _tag: "Transport" })
        await rejection(credential.getToken(scope))
        const token = await credential.getToken(scope)
        assert.include(token.token, salt, "the fixture salts the tokens it issues")
        // On the refresh grant: an OAuth error, a 200 leaking a refresh token without an access token, a timeout,
        // a 503, an aborted call.
        entra.script.push({
          _tag: "Respond",
          status: 400,
          body: ScriptedEntra.errorBody("invalid_grant", 70008, "The refresh token has expired.")
        })
        await rejection(credential.getToken("other/one"))
        entra.script.push({
          _tag: "Respond",
          status: 200,
          body: JSON.stringify({ refresh_token: `leak${salt}`, expires_in: 3600 })
        })
        await rejection(credential.getToken("other/two"))
        entra.script.push({ _tag: "Hang" })
        await rejection(credential.getToken("other/three"))
        entra.script.push({ _tag: "Respond", status: 503, body: "<html>down</html>" })
        await rejection(credential.getToken("other/four"))
        entra.script.push({ _tag: "Hang" })
        await rejection(credential.getToken("other/five", { abortSignal: AbortSignal.timeout(10) }))
        // Bad input, a tenant that is not allowed.
        await rejection(credential.getToken([]))
        await rejection(credential.getToken(scope, { tenantId: "elsewhere" }))
        const shownCredential = renderings(credential)
        await credential.close()
        await rejection(credential.getToken(scope))

        // A code Entra refuses, then ReauthenticationRequired without a request.
        const refused = new PromiseFacade.AuthorizationCodeCredential(
          "home-tenant",
          "client-1",
          `${code}x`,
          "http://localhost/callback",
          options
        )
        entra.script.push({
          _tag: "Respond",
          status: 400,
          body: ScriptedEntra.errorBody("invalid_grant", 54005, "OAuth2 Authorization code was already redeemed.")
        })
        await rejection(refused.getToken(scope))
        await rejection(refused.getToken(scope))
        await refused.close()

        const reasons = rejections.map((error) =>
          error instanceof PromiseFacade.AuthenticationError ? error.reason : (error as Error).name
        )
        assert.deepStrictEqual(reasons, [
          "Timeout",
          "Transport",
          "ErrorResponse",
          "InvalidResponse",
          "Timeout",
          "ErrorResponse",
          "AbortError",
          "InvalidOptionError",
          "InvalidOptionError",
          "Error",
          "ErrorResponse",
          "ReauthenticationRequired"
        ])
        const shown = [...shownCredential, ...rejections.flatMap(renderings)].join("\n")
        assertNoSecret(shown, [clientSecret, code, verifier, salt, token.token])
      }),
    { fastCheck: { numRuns: 8 } }
  )

  it.effect.prop(
    "the signed HttpClient shows no token in responses, errors, logs, spans or metrics on any path",
    { t1: secret, t2: secret, t3: secret, t4: secret, t5: secret, t6: secret, t7: secret, t8: secret, t9: secret },
    (tokens) =>
      Effect.gen(function*() {
        const all = Object.values(tokens)
        const observed = Observe.make()
        const shownValues: Array<unknown> = []
        const http = scriptedHttp()
        const failures: Array<AuthenticationError> = []
        const credential = tokenCredential([...all], failures)
        const signed = AuthenticatedHttpClient.authenticate(http.client, credential, { scopes: graphScopes })
        const failed = <A, E>(effect: Effect.Effect<A, E>) =>
          Effect.flatMap(Effect.flip(effect), (error) => Effect.sync(() => void shownValues.push(error)))
        const answered = (effect: Effect.Effect<HttpClientResponse.HttpClientResponse, unknown>) =>
          Effect.flatMap(effect, (response) =>
            Effect.sync(() => {
              assert.notProperty(response.request.headers, "authorization", "the returned request is unsigned")
              shownValues.push(response)
              return response
            }))
        const statuses: Array<number> = []
        yield* Effect.gen(function*() {
          // Success (t1).
          statuses.push((yield* answered(signed.get(me))).status)
          // A claims challenge answered with a fresh token (t2, then t3).
          http.script.push(claimsChallenge)
          statuses.push((yield* answered(signed.get(me))).status)
          // A second 401 is returned as it is (t4, t5).
          http.script.push(claimsChallenge, claimsChallenge)
          statuses.push((yield* answered(signed.get(me))).status)
          // A redirect to another origin: the token stays behind (t6), the 200 comes back unsigned.
          http.script.push({ _tag: "Respond", status: 302, headers: { location: "https://evil.example/steal" } })
          const redirected = yield* answered(signed.get(me))
          statuses.push(redirected.status)
          assert.strictEqual(redirected.request.url, "https://evil.example/steal")
          // A redirect to another origin that then fails in transport (t7).
          http.script.push(
            { _tag: "Respond", status: 307, headers: { location: "https://evil.example/again" } },
            { _tag: "Transport" }
          )
          yield* failed(signed.get(me))
          // Refusals before any token is fetched.
          yield* failed(signed.get("https://evil.example/direct"))
          yield* failed(signed.get("http://graph.microsoft.com/v1.0/me"))
          // The wrapped client's transport error, retried then given up (t8, t9).
          http.script.push({ _tag: "Transport" }, { _tag: "Transport" })
          yield* failed(HttpClient.retry(signed, { times: 1 }).get(me))
          // The wrapped client's ResponseError (filterStatusOk inside), and a body that is not JSON.
          const strict = AuthenticatedHttpClient.authenticate(
            HttpClient.filterStatusOk(http.client),
            tokenCredential([tokens.t1], []),
            { scopes: graphScopes }
          )
          http.script.push({ _tag: "Respond", status: 500, body: "<html>down</html>" })
          yield* failed(strict.get(me))
          const notJson = AuthenticatedHttpClient.authenticate(http.client, tokenCredential([tokens.t2], []), {
            scopes: graphScopes
          })
          http.script.push({ _tag: "Respond", status: 200, body: "not json" })
          yield* failed(Effect.flatMap(notJson.get(me), (response) => response.json))
          // The credential's own failure.
          failures.push(
            new AuthenticationError({
              reason: "ErrorResponse",
              statusCode: 400,
              errorResponse: { error: "invalid_grant", errorDescription: "AADSTS70008: expired" }
            })
          )
          yield* failed(signed.get(me))
          // A challenge whose claims cannot be decoded: declined (a debug log line), the 401 returned.
          const declining = AuthenticatedHttpClient.authenticate(http.client, tokenCredential([tokens.t3], []), {
            scopes: graphScopes
          })
          http.script.push({
            ...claimsChallenge,
            headers: { "www-authenticate": "Bearer error=\"insufficient_claims\", claims=\"!not-base64!\"" }
          })
          statuses.push((yield* answered(declining.get(me))).status)
        }).pipe(Observe.observe(observed))

        assert.deepStrictEqual(statuses, [200, 200, 401, 200, 401])
        assert.isTrue(observed.logs.some((line) => line.includes("Claims challenge not answered")))
        // The token went where it belongs, and only there.
        assert.deepStrictEqual(http.sent.map((s) => s.authorization?.slice("Bearer ".length)), [
          tokens.t1,
          tokens.t2,
          tokens.t3,
          tokens.t4,
          tokens.t5,
          tokens.t6,
          undefined,
          tokens.t7,
          undefined,
          tokens.t8,
          tokens.t9,
          tokens.t1,
          tokens.t2,
          tokens.t3
        ])
        const tags = shownValues.map((value) =>
          typeof value === "object" && value !== null && "_tag" in value
            ? `${String(value._tag)}${"reason" in value ? `:${String(value.reason)}` : ""}`
            : "response"
        )
        assert.deepStrictEqual(tags, [
          "response",
          "response",
          "response",
          "response",
          "RequestError:Transport",
          "AuthenticatedHttpClientError:HostNotAllowed",
          "AuthenticatedHttpClientError:InsecureTransport",
          "RequestError:Transport",
          "ResponseError:StatusCode",
          "ResponseError:Decode",
          "AuthenticationError:ErrorResponse",
          "response"
        ])
        const shown = yield* everythingShown(observed, shownValues)
        assertNoSecret(shown, all)
      }),
    { fastCheck: { numRuns: 15 } }
  )

  it.effect.prop(
    "an Azure credential's tokens and the secrets its errors quote never reach the Effect credential's errors",
    { token: secret, clientSecret: secret, refreshToken: secret, code: secret },
    ({ clientSecret, code, refreshToken, token }) =>
      Effect.gen(function*() {
        const observed = Observe.make()
        const shownValues: Array<unknown> = []
        const fields = { token, clientSecret, refreshToken }
        const form = `grant_type=authorization_code&code=${code}&client_secret=${clientSecret}` +
          `&refresh_token=${refreshToken}`
        const quoted = `POST https://login.microsoftonline.com/t/oauth2/v2.0/token failed; body: ${form}; ` +
          `headers: Authorization: Bearer ${token}`
        const answers: Array<() => Promise<AzureTokenCredential.AzureAccessToken | null>> = [
          () => Promise.resolve({ token, expiresOnTimestamp: 1_900_000_000_000, tokenType: "Bearer" }),
          // RestErrors: an HTTP status, no status (transport), a socket code.
          () => Promise.reject(restError(`Status 401: ${quoted}`, { ...fields, statusCode: 401 })),
          () => Promise.reject(restError(quoted, { ...fields, code: "REQUEST_SEND_ERROR" })),
          () => Promise.reject(Object.assign(new Error(`read ECONNRESET (${quoted})`), { code: "ECONNRESET" })),
          // @azure/identity's AuthenticationError, with Entra's fields quoting the request.
          () =>
            Promise.reject(Object.assign(new Error(`invalid_grant: ${quoted}`), {
              name: "AuthenticationError",
              statusCode: 400,
              errorResponse: {
                error: "invalid_grant",
                error_description: `AADSTS70008: expired. ${quoted}`,
                error_codes: [70008]
              }
            })),
          // MSAL's ServerError, wrapped by AuthenticationRequiredError; then one caused by a RestError.
          () =>
            Promise.reject(Object.assign(new Error("Interaction required"), {
              name: "AuthenticationRequiredError",
              cause: Object.assign(new Error(`invalid_grant: ${quoted}`), {
                name: "ServerError",
                errorCode: "invalid_grant",
                errorMessage: `Error(s): 70008 - Timestamp: 2026-11-24 - Description: AADSTS70008: ${quoted} - ` +
                  "Correlation ID: c - Trace ID: t",
                errorNo: "70008",
                status: 400
              })
            })),
          () =>
            Promise.reject(Object.assign(new Error(`Interaction required: ${quoted}`), {
              name: "AuthenticationRequiredError",
              cause: restError(quoted, fields)
            })),
          // The credential chain's aggregate, an unavailable credential, an abort, a thrown string.
          () =>
            Promise.reject(Object.assign(new Error(`all failed: ${quoted}`), {
              name: "AggregateAuthenticationError",
              errors: [
                Object.assign(new Error(quoted), { name: "CredentialUnavailableError" }),
                restError(quoted, fields)
              ]
            })),
          () => Promise.reject(Object.assign(new Error(quoted), { name: "CredentialUnavailableError" })),
          () =>
            Promise.reject(Object.assign(new Error(quoted), { name: "AbortError", cause: restError(quoted, fields) })),
          () => Promise.reject(quoted),
          // Answers that are not usable tokens, one carrying the token itself.
          () => Promise.resolve(null),
          () =>
            Promise.resolve({ token, expiresOnTimestamp: "soon" } as unknown as AzureTokenCredential.AzureAccessToken),
          // A call that never settles, cut by the timeout option.
          () => new Promise(() => {})
        ]
        const fake: AzureTokenCredential.AzureTokenCredential = { getToken: () => answers.shift()!() }
        const service = yield* AzureTokenCredential.make(fake, { name: "FakeAzure", timeout: "5 seconds" })
        const reasons: Array<string> = []
        yield* Effect.gen(function*() {
          const accessToken = yield* service.getToken(scope)
          assert.strictEqual(Redacted.value(accessToken.token), token)
          shownValues.push(accessToken)
          while (answers.length > 0) {
            const error = yield* Effect.flip(Time.settle(service.getTokenInfo(scope, { enableCae: true })))
            reasons.push(error._tag === "AuthenticationError" ? error.reason : error._tag)
            shownValues.push(error)
          }
        }).pipe(Observe.observe(observed))

        assert.deepStrictEqual(reasons, [
          "ErrorResponse",
          "Transport",
          "Transport",
          "ErrorResponse",
          "ErrorResponse",
          "ReauthenticationRequired",
          "Transport",
          "Transport",
          "Timeout",
          "Transport",
          "InvalidResponse",
          "InvalidResponse",
          "Timeout"
        ])
        const shown = yield* everythingShown(observed, shownValues)
        assertNoSecret(shown, [token, clientSecret, refreshToken, code])
      }),
    { fastCheck: { numRuns: 15 } }
  )
})
