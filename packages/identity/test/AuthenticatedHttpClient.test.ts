import { FetchHttpClient, HttpClient, HttpClientError, HttpClientRequest, HttpClientResponse } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Either, Exit, FastCheck, Layer, Redacted, Stream } from "effect"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { inspect } from "node:util"
import type { AccessToken } from "../src/AccessToken.js"
import * as AuthenticatedHttpClient from "../src/AuthenticatedHttpClient.js"
import { AuthenticationError, InvalidOptionError } from "../src/AuthenticationError.js"
import * as TokenCredential from "../src/TokenCredential.js"
import * as Observe from "./fixtures/Observe.js"
import * as Reachable from "./fixtures/Reachable.js"

// --- fakes -------------------------------------------------------------------------------------------------------

interface Sent {
  readonly method: string
  readonly url: string
  readonly authorization: string | undefined
  readonly body: string | undefined
}

type Reply = { readonly status: number; readonly headers?: Record<string, string>; readonly body?: string }

/** An HttpClient with no network: answers from a script and records what it was sent. */
const scripted = (script: (url: URL, n: number) => Reply = () => ({ status: 200, body: "{\"ok\":true}" })) => {
  const sent: Array<Sent> = []
  const client = HttpClient.make((request, url) =>
    Effect.sync(() => {
      const body = request.body._tag === "Uint8Array"
        ? new TextDecoder().decode(request.body.body)
        : request.body._tag === "Raw" && typeof request.body.body === "string"
        ? request.body.body
        : undefined
      sent.push({ method: request.method, url: url.href, authorization: request.headers["authorization"], body })
      const reply = script(url, sent.length)
      return HttpClientResponse.fromWeb(
        request,
        new Response(reply.body ?? null, { status: reply.status, headers: reply.headers ?? {} })
      )
    })
  )
  return { client, sent }
}

interface Call {
  readonly scopes: ReadonlyArray<string>
  readonly options: TokenCredential.GetTokenOptions | undefined
}

/** A credential that counts: token n is `secret-token-n`. Other tenants are refused as the real one does. */
const fakeCredential = (allowedTenants: ReadonlyArray<string> = []) => {
  const calls: Array<Call> = []
  const getToken = (scopes: string | ReadonlyArray<string>, options?: TokenCredential.GetTokenOptions) =>
    Effect.suspend((): Effect.Effect<AccessToken, AuthenticationError | InvalidOptionError> => {
      calls.push({ scopes: typeof scopes === "string" ? [scopes] : scopes, options })
      if (options?.tenantId !== undefined && !allowedTenants.includes(options.tenantId)) {
        return Effect.fail(new InvalidOptionError({ field: "tenantId", reason: "not allowed" }))
      }
      return Effect.succeed({
        token: Redacted.make(`secret-token-${calls.length}`),
        expiresOnTimestamp: Date.now() + 3_600_000,
        tokenType: "Bearer"
      })
    })
  const credential: TokenCredential.Service = {
    getToken,
    getTokenInfo: () => Effect.die("unused")
  }
  return { credential, calls }
}

const graph = { scopes: ["https://graph.microsoft.com/User.Read"] }
const claimsJson = JSON.stringify({ access_token: { nbf: { essential: true, value: "1604106651" } } })
const tenant = "8eaef023-2b34-4da1-9baa-8bc8c9d6a490"

const challenge = (claims: string, authority = "https://login.microsoftonline.com/common") => ({
  status: 401,
  headers: {
    "www-authenticate": `Bearer realm="", authorization_uri="${authority}/oauth2/v2.0/authorize", ` +
      `error="insufficient_claims", claims="${claims}"`
  },
  body: "{\"error\":\"insufficient_claims\"}"
})
const base64 = (text: string) => Buffer.from(text, "utf8").toString("base64")

const refusal = (effect: Effect.Effect<unknown, unknown>) =>
  Effect.map(Effect.flip(effect), (error) => {
    assert.instanceOf(error, AuthenticatedHttpClient.AuthenticatedHttpClientError)
    return error as AuthenticatedHttpClient.AuthenticatedHttpClientError
  })

/** Everything a log line, an exporter or a debugger could show of `value`. */
const renderings = (value: unknown): ReadonlyArray<string> => {
  const out = [inspect(value, { depth: 10 }), String(value), ...Reachable.strings(value)]
  try {
    out.push(JSON.stringify(value) ?? "")
  } catch {
    // circular
  }
  if (value instanceof Error) out.push(value.message, Cause.pretty(Cause.fail(value), { renderErrorCause: true }))
  return out
}
const assertNoToken = (value: unknown) => {
  for (const text of renderings(value)) assert.notInclude(text, "secret-token")
}

// --- tests -------------------------------------------------------------------------------------------------------

describe("AuthenticatedHttpClient", () => {
  describe("signing", () => {
    it.effect("adds Authorization: Bearer with a token fetched for each request", () =>
      Effect.gen(function*() {
        const { client, sent } = scripted()
        const { calls, credential } = fakeCredential()
        const signed = AuthenticatedHttpClient.authenticate(client, credential, graph)
        const first = yield* signed.get("https://graph.microsoft.com/v1.0/me")
        yield* signed.get("https://graph.microsoft.com/v1.0/me/photo")
        assert.strictEqual(first.status, 200)
        assert.deepStrictEqual(sent.map((s) => s.authorization), ["Bearer secret-token-1", "Bearer secret-token-2"])
        assert.deepStrictEqual(calls, [
          { scopes: graph.scopes, options: { enableCae: true, tenantId: undefined, claims: undefined } },
          { scopes: graph.scopes, options: { enableCae: true, tenantId: undefined, claims: undefined } }
        ])
      }))

    it.effect("passes tenantId and enableCae: false through to the credential", () =>
      Effect.gen(function*() {
        const { client } = scripted()
        const { calls, credential } = fakeCredential([tenant])
        const signed = client.pipe(AuthenticatedHttpClient.authenticate(credential, {
          ...graph,
          tenantId: tenant,
          enableCae: false
        }))
        yield* signed.get("https://graph.microsoft.com/v1.0/me")
        assert.deepStrictEqual(calls[0]!.options, { enableCae: false, tenantId: tenant, claims: undefined })
      }))

    it.effect("URL combinators go on the signed client: prependUrl there, a relative URL refused", () =>
      Effect.gen(function*() {
        const { client, sent } = scripted()
        const { calls, credential } = fakeCredential()
        const signed = AuthenticatedHttpClient.authenticate(client, credential, graph)
        const based = signed.pipe(
          HttpClient.mapRequest(HttpClientRequest.prependUrl("https://graph.microsoft.com/v1.0"))
        )
        yield* based.get("/me")
        assert.strictEqual(sent[0]!.url, "https://graph.microsoft.com/v1.0/me")
        const error = yield* refusal(signed.get("/me"))
        assert.strictEqual(error.reason, "InvalidUrl")
        assert.strictEqual(calls.length, 1)
      }))

    it.effect("the credential's error is the request's error, and nothing is sent", () =>
      Effect.gen(function*() {
        const { client, sent } = scripted()
        const failure = new AuthenticationError({
          reason: "ErrorResponse",
          statusCode: 400,
          errorResponse: { error: "invalid_grant", errorDescription: "AADSTS70008: expired" }
        })
        const credential: TokenCredential.Service = {
          getToken: () => Effect.fail(failure),
          getTokenInfo: () => Effect.fail(failure)
        }
        const error = yield* Effect.flip(
          AuthenticatedHttpClient.authenticate(client, credential, graph).get(
            "https://graph.microsoft.com/v1.0/me"
          )
        )
        assert.instanceOf(error, AuthenticationError)
        assert.strictEqual(error.message, failure.message)
        assert.isTrue((error as AuthenticationError).isInteractionRequired)
        assert.strictEqual(sent.length, 0)
      }))

    it.effect("make and layer read the HttpClient and TokenCredential from the context", () =>
      Effect.gen(function*() {
        const { client, sent } = scripted()
        const { credential } = fakeCredential()
        const deps = Layer.merge(
          Layer.succeed(HttpClient.HttpClient, client),
          Layer.succeed(TokenCredential.TokenCredential, credential)
        )
        const program = Effect.gen(function*() {
          const plain = yield* HttpClient.HttpClient
          const signed = yield* AuthenticatedHttpClient.AuthenticatedHttpClient
          yield* plain.get("https://graph.microsoft.com/v1.0/$metadata")
          yield* signed.get("https://graph.microsoft.com/v1.0/me")
        })
        yield* program.pipe(
          Effect.provide(AuthenticatedHttpClient.layer(graph).pipe(Layer.provideMerge(deps)))
        )
        assert.deepStrictEqual(sent.map((s) => s.authorization), [undefined, "Bearer secret-token-1"])
        const invalid = yield* Effect.flip(
          AuthenticatedHttpClient.make({ scopes: [] }).pipe(Effect.provide(deps))
        )
        assert.strictEqual(invalid.field, "scopes")
      }))
  })

  describe("options", () => {
    it("scopes are required; a scope without an http(s) resource needs allowedHosts", () => {
      const fieldOf = (options: AuthenticatedHttpClient.Options) =>
        Either.match(AuthenticatedHttpClient.validateOptions(options), {
          onLeft: (error) => error.field,
          onRight: () => "ok"
        })
      assert.strictEqual(fieldOf({ scopes: [] }), "scopes")
      assert.strictEqual(fieldOf({ scopes: "" }), "scopes")
      assert.strictEqual(fieldOf({ scopes: ["ok", ""] }), "scopes")
      assert.strictEqual(fieldOf({ scopes: ["api://my-api/access_as_user"] }), "allowedHosts")
      assert.strictEqual(fieldOf({ scopes: ["User.Read"] }), "allowedHosts")
      assert.strictEqual(fieldOf({ scopes: ["openid", "offline_access"] }), "allowedHosts")
      assert.strictEqual(fieldOf({ scopes: ["api://my-api/x"], allowedHosts: ["api.example.com"] }), "ok")
      assert.strictEqual(fieldOf({ scopes: ["api://my-api/x"], allowedHosts: [] }), "allowedHosts")
      assert.strictEqual(
        fieldOf({ scopes: ["api://my-api/x"], allowedHosts: ["https://a.example/path"] }),
        "allowedHosts"
      )
      assert.strictEqual(fieldOf({ scopes: ["api://my-api/x"], allowedHosts: ["user@a.example"] }), "allowedHosts")
      assert.strictEqual(fieldOf({ scopes: ["api://my-api/x"], allowedHosts: ["*.10.0.0.1"] }), "allowedHosts")
      assert.strictEqual(fieldOf({ ...graph, maxRedirects: -1 }), "maxRedirects")
      assert.strictEqual(fieldOf({ ...graph, tenantId: " " }), "tenantId")
      const derived = AuthenticatedHttpClient.validateOptions({
        scopes: ["https://graph.microsoft.com/.default", "offline_access"]
      })
      assert.deepStrictEqual(
        Either.map(derived, (s) => s.allowedHosts),
        Either.right([
          { hostname: "graph.microsoft.com", port: undefined, subdomains: false }
        ])
      )
    })

    it.effect("invalid options given to the pure combinator fail every request before anything is sent", () =>
      Effect.gen(function*() {
        const { client, sent } = scripted()
        const { calls, credential } = fakeCredential()
        const signed = AuthenticatedHttpClient.authenticate(client, credential, { scopes: ["api://x/y"] })
        const error = yield* Effect.flip(signed.get("https://api.example.com/"))
        assert.instanceOf(error, InvalidOptionError)
        assert.strictEqual((error as InvalidOptionError).field, "allowedHosts")
        assert.strictEqual(sent.length + calls.length, 0)
      }))
  })

  describe("host rules", () => {
    it.effect("a host the scopes do not name is refused before any token is fetched", () =>
      Effect.gen(function*() {
        const { client, sent } = scripted()
        const { calls, credential } = fakeCredential()
        const signed = AuthenticatedHttpClient.authenticate(client, credential, graph)
        for (
          const url of [
            "https://evil.example/steal",
            "https://graph.microsoft.com.evil.example/",
            "https://graph.microsoft.com:8443/v1.0/me",
            "https://sub.graph.microsoft.com/"
          ]
        ) {
          const error = yield* refusal(signed.get(url))
          assert.strictEqual(error.reason, "HostNotAllowed")
        }
        const withQuery = yield* refusal(signed.get("https://evil.example/x", { urlParams: { sig: "sas-secret" } }))
        assert.strictEqual(withQuery.url, "https://evil.example/x")
        assert.notInclude(withQuery.message, "sas-secret")
        assert.strictEqual(sent.length + calls.length, 0)
      }))

    it.effect("plain http is refused except to loopback", () =>
      Effect.gen(function*() {
        const { client, sent } = scripted()
        const { calls, credential } = fakeCredential()
        const signed = AuthenticatedHttpClient.authenticate(client, credential, {
          scopes: ["api://my-api/.default"],
          allowedHosts: ["api.example.com:80", "localhost:8080", "127.0.0.1:8080", "127.1.2.3:8080", "[::1]:8080"]
        })
        const error = yield* refusal(signed.get("http://api.example.com/"))
        assert.strictEqual(error.reason, "InsecureTransport")
        assert.strictEqual(sent.length + calls.length, 0)
        for (
          const url of [
            "http://localhost:8080/a",
            "http://127.0.0.1:8080/b",
            "http://127.1.2.3:8080/c",
            "http://[::1]:8080/d",
            "http://[0:0:0:0:0:0:0:1]:8080/e"
          ]
        ) {
          const response = yield* signed.get(url)
          assert.strictEqual(response.status, 200)
        }
        assert.deepStrictEqual(sent.map((s) => s.authorization !== undefined), [true, true, true, true, true])
        const wrongPort = yield* refusal(signed.get("http://localhost:9090/"))
        assert.strictEqual(wrongPort.reason, "HostNotAllowed")
        const scheme = yield* refusal(signed.get("ftp://api.example.com/"))
        assert.strictEqual(scheme.reason, "InvalidUrl")
      }))

    it.effect("*.domain allows subdomains, not the domain itself nor look-alikes", () =>
      Effect.gen(function*() {
        const { client, sent } = scripted()
        const { credential } = fakeCredential()
        const signed = AuthenticatedHttpClient.authenticate(client, credential, {
          scopes: ["https://vault.azure.net/.default"],
          allowedHosts: ["*.vault.azure.net", "https://management.azure.com"]
        })
        yield* signed.get("https://myvault.vault.azure.net/secrets/x")
        yield* signed.get("https://MANAGEMENT.azure.com/subscriptions")
        assert.strictEqual((yield* refusal(signed.get("https://vault.azure.net/"))).reason, "HostNotAllowed")
        assert.strictEqual((yield* refusal(signed.get("https://evilvault.azure.net/"))).reason, "HostNotAllowed")
        assert.strictEqual(sent.length, 2)
      }))
  })

  describe("claims challenges", () => {
    it.effect("a CAE challenge is decoded, answered with a claims token and the request retried once", () =>
      Effect.gen(function*() {
        const { client, sent } = scripted((_, n) => n === 1 ? challenge(base64(claimsJson)) : { status: 200 })
        const { calls, credential } = fakeCredential()
        const signed = AuthenticatedHttpClient.authenticate(client, credential, graph)
        const response = yield* signed.execute(
          HttpClientRequest.post("https://graph.microsoft.com/v1.0/me/sendMail").pipe(
            HttpClientRequest.bodyUnsafeJson({ subject: "hi" })
          )
        )
        assert.strictEqual(response.status, 200)
        assert.deepStrictEqual(calls.map((c) => c.options), [
          { enableCae: true, tenantId: undefined, claims: undefined },
          { enableCae: true, tenantId: undefined, claims: claimsJson }
        ])
        assert.deepStrictEqual(sent.map((s) => [s.method, s.authorization, s.body]), [
          ["POST", "Bearer secret-token-1", "{\"subject\":\"hi\"}"],
          ["POST", "Bearer secret-token-2", "{\"subject\":\"hi\"}"]
        ])
      }))

    it.effect("a second 401 is returned as it is", () =>
      Effect.gen(function*() {
        const { client, sent } = scripted(() => challenge(base64(claimsJson)))
        const { calls, credential } = fakeCredential()
        const response = yield* AuthenticatedHttpClient.authenticate(client, credential, graph).get(
          "https://graph.microsoft.com/v1.0/me"
        )
        assert.strictEqual(response.status, 401)
        assert.include(response.headers["www-authenticate"], "insufficient_claims")
        assert.deepStrictEqual(yield* response.json, { error: "insufficient_claims" })
        assert.strictEqual(sent.length, 2)
        assert.strictEqual(calls.length, 2)
      }))

    it.effect("undecodable claims: the 401 is returned, no claims token is asked for", () =>
      Effect.gen(function*() {
        for (const bad of ["%%%not-base64%%%", base64("not json"), base64("[1,2]"), ""]) {
          const { client, sent } = scripted(() => challenge(bad))
          const { calls, credential } = fakeCredential()
          const observed = Observe.make()
          const response = yield* AuthenticatedHttpClient.authenticate(client, credential, graph).get(
            "https://graph.microsoft.com/v1.0/me"
          ).pipe(Observe.observe(observed))
          assert.strictEqual(response.status, 401)
          assert.strictEqual(sent.length, 1)
          assert.strictEqual(calls.length, 1)
          const span = observed.spans.find((s) => s.name === "AuthenticatedHttpClient.execute")!
          assert.strictEqual(span.attributes.get("entra.cae.outcome"), "invalid-claims")
        }
      }))

    it.effect("an ordinary 401 (invalid_token) is not retried", () =>
      Effect.gen(function*() {
        const { client, sent } = scripted(() => ({
          status: 401,
          headers: { "www-authenticate": "Bearer error=\"invalid_token\", error_description=\"expired\"" }
        }))
        const { calls, credential } = fakeCredential()
        const response = yield* AuthenticatedHttpClient.authenticate(client, credential, graph).get(
          "https://graph.microsoft.com/v1.0/me"
        )
        assert.strictEqual(response.status, 401)
        assert.strictEqual(sent.length + calls.length, 2)
      }))

    it.effect("a tenant hint is honoured when the credential allows the tenant", () =>
      Effect.gen(function*() {
        const { client, sent } = scripted((_, n) =>
          n === 1 ? challenge(base64(claimsJson), `https://login.microsoftonline.com/${tenant}`) : { status: 200 }
        )
        const { calls, credential } = fakeCredential([tenant])
        const response = yield* AuthenticatedHttpClient.authenticate(client, credential, graph).get(
          "https://graph.microsoft.com/v1.0/me"
        )
        assert.strictEqual(response.status, 200)
        assert.deepStrictEqual(calls[1]!.options, { enableCae: true, tenantId: tenant, claims: claimsJson })
        assert.strictEqual(sent.length, 2)
      }))

    it.effect("a tenant the credential refuses: the original 401 is returned, nothing goes to that tenant", () =>
      Effect.gen(function*() {
        const { client, sent } = scripted((_, n) =>
          n === 1 ? challenge(base64(claimsJson), `https://login.microsoftonline.com/${tenant}`) : { status: 200 }
        )
        const { calls, credential } = fakeCredential([])
        const observed = Observe.make()
        const response = yield* AuthenticatedHttpClient.authenticate(client, credential, graph).get(
          "https://graph.microsoft.com/v1.0/me"
        ).pipe(Observe.observe(observed))
        assert.strictEqual(response.status, 401)
        assert.strictEqual(sent.length, 1)
        assert.strictEqual(calls.length, 2)
        assert.strictEqual(calls[1]!.options?.tenantId, tenant)
        const span = observed.spans.find((s) => s.name === "AuthenticatedHttpClient.execute")!
        assert.strictEqual(span.attributes.get("entra.cae.outcome"), "tenant-not-allowed")
      }))

    it.effect("common/organizations in authorization_uri are not a tenant hint", () =>
      Effect.gen(function*() {
        const { client } = scripted((_, n) =>
          n === 1 ? challenge(base64(claimsJson), "https://login.microsoftonline.com/organizations") : { status: 200 }
        )
        const { calls, credential } = fakeCredential([])
        const response = yield* AuthenticatedHttpClient.authenticate(client, credential, graph).get(
          "https://graph.microsoft.com/v1.0/me"
        )
        assert.strictEqual(response.status, 200)
        assert.strictEqual(calls[1]!.options?.tenantId, undefined)
      }))

    it.effect("a streamed body cannot be replayed: the 401 is returned", () =>
      Effect.gen(function*() {
        const { client, sent } = scripted(() => challenge(base64(claimsJson)))
        const { calls, credential } = fakeCredential()
        const response = yield* AuthenticatedHttpClient.authenticate(client, credential, graph).execute(
          HttpClientRequest.put("https://graph.microsoft.com/v1.0/me/drive/root:/a.txt:/content").pipe(
            HttpClientRequest.bodyStream(Stream.make(new TextEncoder().encode("data")))
          )
        )
        assert.strictEqual(response.status, 401)
        assert.strictEqual(sent.length, 1)
        assert.strictEqual(calls.length, 1)
      }))

    it.prop(
      "any claims object survives the challenge, whatever the parameter order and the other challenges",
      [
        FastCheck.dictionary(FastCheck.string(), FastCheck.jsonValue()),
        FastCheck.boolean(),
        FastCheck.boolean(),
        FastCheck.constantFrom("", "Basic realm=\"x\", ", "PoP nonce=\"a,b\", Negotiate abc==, ")
      ],
      ([claims, urlSafe, reversed, before]) => {
        const json = JSON.stringify({ access_token: claims })
        const encoded = Buffer.from(json, "utf8").toString(urlSafe ? "base64url" : "base64")
        const params = [
          "realm=\"\"",
          `authorization_uri="https://login.microsoftonline.com/${tenant}/oauth2/v2.0/authorize"`,
          "error=\"insufficient_claims\"",
          `claims="${encoded}"`
        ]
        const header = `${before}Bearer ${(reversed ? params.reverse() : params).join(", ")}`
        assert.deepStrictEqual(AuthenticatedHttpClient.parseClaimsChallenge(header), {
          _tag: "Claims",
          claims: json,
          tenantId: tenant
        })
      }
    )

    it("parseClaimsChallenge reads RFC 7235 challenge lists", () => {
      const encoded = base64(claimsJson)
      assert.deepStrictEqual(
        AuthenticatedHttpClient.parseClaimsChallenge(
          `Basic realm="x", Negotiate abc==, PoP nonce="n", Bearer realm="", ` +
            `authorization_uri="https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/authorize", ` +
            `error="insufficient_claims", claims="${encoded}"`
        ),
        { _tag: "Claims", claims: claimsJson, tenantId: "contoso.onmicrosoft.com" }
      )
      assert.deepStrictEqual(
        AuthenticatedHttpClient.parseClaimsChallenge(`bearer CLAIMS="${encoded}", ERROR="insufficient_claims"`),
        { _tag: "Claims", claims: claimsJson, tenantId: undefined }
      )
      assert.deepStrictEqual(
        AuthenticatedHttpClient.parseClaimsChallenge(`Bearer error="insufficient_claims"`),
        { _tag: "Invalid" }
      )
      assert.deepStrictEqual(AuthenticatedHttpClient.parseClaimsChallenge(undefined), { _tag: "None" })
      assert.deepStrictEqual(
        AuthenticatedHttpClient.parseClaimsChallenge(`Basic error="insufficient_claims", claims="${encoded}"`),
        { _tag: "None" }
      )
    })
  })

  describe("redirects", () => {
    it.effect("a same-origin redirect is followed and signed again", () =>
      Effect.gen(function*() {
        const { client, sent } = scripted((url) =>
          url.pathname === "/v1.0/old" ? { status: 302, headers: { location: "/v1.0/new?x=1" } } : { status: 200 }
        )
        const { credential } = fakeCredential()
        const response = yield* AuthenticatedHttpClient.authenticate(client, credential, graph).get(
          "https://graph.microsoft.com/v1.0/old"
        )
        assert.strictEqual(response.status, 200)
        assert.deepStrictEqual(sent.map((s) => [s.url, s.authorization]), [
          ["https://graph.microsoft.com/v1.0/old", "Bearer secret-token-1"],
          ["https://graph.microsoft.com/v1.0/new?x=1", "Bearer secret-token-2"]
        ])
        assert.strictEqual(response.request.url, "https://graph.microsoft.com/v1.0/new")
      }))

    it.effect("a redirect to another host or scheme is followed without the token", () =>
      Effect.gen(function*() {
        for (const location of ["https://download.example/file?sig=1", "http://graph.microsoft.com/v1.0/x"]) {
          const { client, sent } = scripted((url) =>
            url.pathname === "/v1.0/content" ? { status: 302, headers: { location } } : { status: 200 }
          )
          const { calls, credential } = fakeCredential()
          const response = yield* AuthenticatedHttpClient.authenticate(client, credential, graph).execute(
            HttpClientRequest.get("https://graph.microsoft.com/v1.0/content").pipe(
              HttpClientRequest.setHeader("x-trace", "1")
            )
          )
          assert.strictEqual(response.status, 200)
          assert.deepStrictEqual(sent.map((s) => s.authorization), ["Bearer secret-token-1", undefined])
          assert.strictEqual(sent[1]!.url, location)
          assert.strictEqual(calls.length, 1)
        }
      }))

    it.effect("once off-origin, a redirect back does not pick the token up again", () =>
      Effect.gen(function*() {
        const { client, sent } = scripted((url) =>
          url.host === "graph.microsoft.com" && url.pathname === "/a"
            ? { status: 307, headers: { location: "https://cdn.example/b" } }
            : url.host === "cdn.example"
            ? { status: 307, headers: { location: "https://graph.microsoft.com/c" } }
            : { status: 200 }
        )
        const { credential } = fakeCredential()
        yield* AuthenticatedHttpClient.authenticate(client, credential, graph).execute(
          HttpClientRequest.get("https://graph.microsoft.com/a").pipe(
            HttpClientRequest.setHeader("authorization", "Bearer callers-own")
          )
        )
        assert.deepStrictEqual(sent.map((s) => s.authorization), ["Bearer secret-token-1", undefined, undefined])
      }))

    it.effect("303 turns a POST into a GET; 307 replays the body; a stream is not replayed", () =>
      Effect.gen(function*() {
        const { client, sent } = scripted((url) =>
          url.pathname === "/see-other"
            ? { status: 303, headers: { location: "/result" } }
            : url.pathname === "/temporary"
            ? { status: 307, headers: { location: "/moved" } }
            : { status: 200 }
        )
        const { credential } = fakeCredential()
        const signed = AuthenticatedHttpClient.authenticate(client, credential, graph)
        const post = (path: string) =>
          HttpClientRequest.post(`https://graph.microsoft.com${path}`).pipe(HttpClientRequest.bodyText("payload"))
        yield* signed.execute(post("/see-other"))
        yield* signed.execute(post("/temporary"))
        const streamed = yield* signed.execute(
          HttpClientRequest.post("https://graph.microsoft.com/temporary").pipe(
            HttpClientRequest.bodyStream(Stream.make(new TextEncoder().encode("payload")))
          )
        )
        assert.strictEqual(streamed.status, 307)
        assert.deepStrictEqual(sent.map((s) => [s.method, new URL(s.url).pathname, s.body]), [
          ["POST", "/see-other", "payload"],
          ["GET", "/result", undefined],
          ["POST", "/temporary", "payload"],
          ["POST", "/moved", "payload"],
          ["POST", "/temporary", undefined]
        ])
      }))

    it.effect("maxRedirects bounds the chain; 0 returns the redirect itself", () =>
      Effect.gen(function*() {
        const { client, sent } = scripted(() => ({ status: 302, headers: { location: "/again" } }))
        const { credential } = fakeCredential()
        const none = yield* AuthenticatedHttpClient.authenticate(client, credential, { ...graph, maxRedirects: 0 }).get(
          "https://graph.microsoft.com/"
        )
        assert.strictEqual(none.status, 302)
        assert.strictEqual(sent.length, 1)
        const capped = yield* AuthenticatedHttpClient.authenticate(client, credential, { ...graph, maxRedirects: 3 })
          .get("https://graph.microsoft.com/")
        assert.strictEqual(capped.status, 302)
        assert.strictEqual(sent.length, 5)
      }))

    it.scoped("FetchHttpClient follows redirects inside fetch, which drops the token across origins", () =>
      Effect.gen(function*() {
        // Two loopback servers: A (allowed) redirects to B (another origin) and back to itself.
        const seen: Array<[string, string | null]> = []
        const listen = (handler: Http.RequestListener) =>
          Effect.acquireRelease(
            Effect.async<Http.Server>((resume) => {
              const server = Http.createServer(handler)
              server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
            }),
            (server) =>
              Effect.async<void>((resume) => {
                server.closeAllConnections()
                server.close(() => resume(Effect.void))
              })
          ).pipe(Effect.map((server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`))
        let b = ""
        const a = yield* listen((req, res) => {
          seen.push([`A${req.url}`, req.headers.authorization ?? null])
          if (req.url === "/same") res.writeHead(302, { location: "/done" }).end()
          else if (req.url === "/away") res.writeHead(302, { location: `${b}/there` }).end()
          else res.end("{}")
        })
        b = yield* listen((req, res) => {
          seen.push([`B${req.url}`, req.headers.authorization ?? null])
          res.end("{}")
        })
        const { credential } = fakeCredential()
        yield* Effect.gen(function*() {
          const client = AuthenticatedHttpClient.authenticate(yield* HttpClient.HttpClient, credential, {
            scopes: ["api://my-api/.default"],
            allowedHosts: [new URL(a).host]
          })
          yield* client.get(`${a}/same`)
          yield* client.get(`${a}/away`)
        }).pipe(Effect.provide(FetchHttpClient.layer))
        assert.deepStrictEqual(seen, [
          ["A/same", "Bearer secret-token-1"],
          ["A/done", "Bearer secret-token-1"],
          ["A/away", "Bearer secret-token-2"],
          ["B/there", null]
        ])
      }))
  })

  describe("secrets", () => {
    it.effect("the token is in no response, error, span or log a caller can see", () =>
      Effect.gen(function*() {
        const observed = Observe.make()
        const { client } = scripted((_, n) =>
          n === 1
            ? challenge(base64(claimsJson))
            : { status: 500, body: "oops", headers: { "content-type": "text/plain" } }
        )
        const { credential } = fakeCredential()
        const signed = AuthenticatedHttpClient.authenticate(client, credential, graph)
        const response = yield* signed.get("https://graph.microsoft.com/v1.0/me").pipe(Observe.observe(observed))
        assertNoToken(response)
        assert.isUndefined(response.request.headers["authorization"])
        // A status error raised on the signed client, and a body that fails to decode.
        const statusError = yield* Effect.flip(
          HttpClient.filterStatusOk(signed).get("https://graph.microsoft.com/v1.0/me").pipe(Observe.observe(observed))
        )
        assert.instanceOf(statusError, HttpClientError.ResponseError)
        assertNoToken(statusError)
        const decodeError = yield* Effect.flip(response.json)
        assertNoToken(decodeError)
        // A transport failure of the wrapped client.
        const broken = HttpClient.make((request) =>
          Effect.fail(new HttpClientError.RequestError({ request, reason: "Transport", description: "reset" }))
        )
        const transport = yield* Effect.flip(
          AuthenticatedHttpClient.authenticate(broken, credential, graph).get("https://graph.microsoft.com/")
        )
        assert.instanceOf(transport, HttpClientError.RequestError)
        assertNoToken(transport)
        const refused = yield* refusal(signed.get("https://evil.example/"))
        assertNoToken(refused)
        assert.strictEqual(
          refused.message,
          "the host evil.example is not in allowedHosts; the token was not sent (GET https://evil.example/)"
        )
        const exit = yield* Effect.exit(signed.get("https://evil.example/"))
        assert.isTrue(Exit.isFailure(exit))
        for (const text of renderings(exit)) assert.notInclude(text, "secret-token")
        assert.notInclude(observed.text(), "secret-token")
        const span = observed.spans.find((s) => s.name === "AuthenticatedHttpClient.execute")!
        assert.strictEqual(span.attributes.get("server.address"), "graph.microsoft.com")
        assert.strictEqual(span.attributes.get("entra.scopes"), "https://graph.microsoft.com/User.Read")
        assert.strictEqual(span.attributes.get("entra.cae.retry"), true)
      }))
  })
})
