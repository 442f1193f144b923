import { HttpClientError, HttpClientRequest, HttpClientResponse } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted, Stream } from "effect"
import { readBounded } from "../src/internal/boundedBody.js"
import * as TokenEndpoint from "../src/TokenEndpoint.js"
import * as ScriptedEntra from "./fixtures/ScriptedEntra.js"

const parameters = {
  authority: "https://login.example",
  tenantId: "home-tenant",
  clientId: "client-1",
  scopes: ["api://demo/user_impersonation"]
} as const
const refresh = { ...parameters, refreshToken: Redacted.make("rt-scripted") }
const redeem = { ...parameters, code: Redacted.make("code-scripted"), redirectUri: "http://localhost/cb" }

const endpointFor = (entra: ScriptedEntra.ScriptedEntra, options?: TokenEndpoint.Options) =>
  TokenEndpoint.make(options).pipe(Effect.provide(entra.layer))

const ok = (body: Record<string, unknown>): ScriptedEntra.Scripted => ({
  _tag: "Respond",
  status: 200,
  body: JSON.stringify({ token_type: "Bearer", expires_in: 3600, access_token: "at-scripted", ...body })
})

describe("bounded responses", () => {
  it.effect("an endless 200 stops at the cap with ResponseTooLarge, reading about the cap and no more", () =>
    Effect.gen(function*() {
      const entra = ScriptedEntra.make()
      const pulled = { count: 0 }
      entra.script.push({ _tag: "Endless", pulled })
      const endpoint = yield* endpointFor(entra)
      const error = yield* Effect.flip(endpoint.redeemRefreshToken(refresh))
      assert.strictEqual(error.reason, "ResponseTooLarge")
      assert.strictEqual(error.errorResponse.error, "response_too_large")
      assert.include(error.message, "1048576 bytes")
      // 16 KiB chunks: 65 of them pass 1 MiB; a few more may be buffered by the stream, never hundreds.
      assert.isAtMost(pulled.count, 70)
      assert.strictEqual(entra.requests.length, 1, "never retried, even for a refresh token")
    }))

  it.effect("an endless body is not retried for a code either, and an endless 503 is not retried", () =>
    Effect.gen(function*() {
      const entra = ScriptedEntra.make()
      entra.script.push({ _tag: "Endless" })
      const endpoint = yield* endpointFor(entra)
      assert.strictEqual((yield* Effect.flip(endpoint.redeemCode(redeem))).reason, "ResponseTooLarge")
      entra.script.push({ _tag: "Endless", status: 503 })
      const error = yield* Effect.flip(endpoint.redeemRefreshToken(refresh))
      assert.strictEqual(error.reason, "ResponseTooLarge")
      assert.strictEqual(error.statusCode, 503)
      assert.strictEqual(entra.requests.length, 2)
    }))

  it.effect("maxResponseBytes changes the cap; a Content-Length over it is refused without reading", () =>
    Effect.gen(function*() {
      const entra = ScriptedEntra.make()
      const padded = ok({ padding: "x".repeat(4096) })
      entra.script.push(padded, padded)
      const small = yield* endpointFor(entra, { maxResponseBytes: 2048 })
      assert.strictEqual((yield* Effect.flip(small.redeemRefreshToken(refresh))).reason, "ResponseTooLarge")
      const roomy = yield* endpointFor(entra, { maxResponseBytes: 8192 })
      assert.strictEqual(Redacted.value((yield* roomy.redeemRefreshToken(refresh)).accessToken), "at-scripted")
      entra.script.push({ ...padded, headers: { "content-length": "99999999" } } as ScriptedEntra.Scripted)
      assert.strictEqual((yield* Effect.flip(small.redeemRefreshToken(refresh))).reason, "ResponseTooLarge")
    }))

  for (const field of ["access_token", "refresh_token", "id_token"]) {
    it.effect(`a ${field} over 64 KiB is refused, and its value is not quoted`, () =>
      Effect.gen(function*() {
        const entra = ScriptedEntra.make()
        entra.script.push(ok({ [field]: `tok-${"B".repeat(64 * 1024)}` }))
        // One attempt: an unusable 200 to a refresh is otherwise retried.
        const endpoint = yield* endpointFor(entra, { maxAttempts: 1 })
        const error = yield* Effect.flip(endpoint.redeemRefreshToken(refresh))
        assert.strictEqual(error.reason, "InvalidResponse")
        assert.include(error.message, `${field} is longer than 65536 characters`)
        assert.notInclude(JSON.stringify(error) + (error.body ?? ""), "BBBB")
      }))
  }

  it.effect("a token of 64 KiB exactly is accepted", () =>
    Effect.gen(function*() {
      const entra = ScriptedEntra.make()
      entra.script.push(ok({ access_token: "C".repeat(64 * 1024) }))
      const endpoint = yield* endpointFor(entra)
      assert.strictEqual(Redacted.value((yield* endpoint.redeemRefreshToken(refresh)).accessToken).length, 65536)
    }))

  it.effect("a 600 KB error_description is cut: the message quotes 2 KiB, the typed field keeps 8 KiB", () =>
    Effect.gen(function*() {
      const entra = ScriptedEntra.make()
      const description = `AADSTS70008: ${"d".repeat(600_000)}`
      entra.script.push({
        _tag: "Respond",
        status: 400,
        body: JSON.stringify({ error: "invalid_grant", error_description: description, error_codes: [70008] })
      })
      const endpoint = yield* endpointFor(entra)
      const error = yield* Effect.flip(endpoint.redeemRefreshToken(refresh))
      assert.strictEqual(error.aadstsCode, 70008)
      assert.isAtMost(error.message.length, 2200)
      assert.isAtMost(error.errorResponse.errorDescription.length, 8 * 1024 + 20)
      assert.isTrue(error.errorResponse.errorDescription.startsWith("AADSTS70008: ddd"))
      assert.isAtMost((error.body ?? "").length, 9 * 1024)
    }))

  describe("readBounded", () => {
    const request = HttpClientRequest.post("https://login.example/t/oauth2/v2.0/token")
    const answer = (body: string, headers: Record<string, string>) =>
      HttpClientResponse.fromWeb(request, new Response(body, { status: 200, headers }))
    // The same response, but reading its `stream` fails: only a whole-body read can succeed.
    const withoutStream = (response: HttpClientResponse.HttpClientResponse) =>
      Object.create(response, {
        stream: {
          value: Stream.fail(new HttpClientError.ResponseError({ request, response, reason: "Decode" }))
        }
      }) as HttpClientResponse.HttpClientResponse

    it.effect("a body whose length is declared is read whole, in one step, not chunk by chunk", () =>
      Effect.gen(function*() {
        const body = JSON.stringify({ access_token: "at" })
        const read = yield* readBounded(withoutStream(answer(body, { "content-length": `${body.length}` })), 1024)
        assert.deepStrictEqual(read, { _tag: "Text", text: body })
      }))

    it.effect("a body without a declared length is still read through the cap's chunk loop", () =>
      Effect.gen(function*() {
        const read = yield* readBounded(withoutStream(answer("{}", {})), 1024)
        assert.strictEqual(read._tag, "Broken")
      }))

    it.effect("a declared length the body does not keep (a client that does not frame by it) is still capped", () =>
      Effect.gen(function*() {
        const read = yield* readBounded(answer("x".repeat(5000), { "content-length": "10" }), 1024)
        assert.deepStrictEqual(read, { _tag: "TooLarge", maxBytes: 1024 })
      }))

    it.effect("a declared body that breaks off is Broken, with the client's error as cause", () =>
      Effect.gen(function*() {
        const response = answer("{}", { "content-length": "2" })
        const failing = new HttpClientError.ResponseError({ request, response, reason: "Decode" })
        const broken = Object.create(response, { arrayBuffer: { value: Effect.fail(failing) } })
        const read = yield* readBounded(broken as HttpClientResponse.HttpClientResponse, 1024)
        assert.deepStrictEqual(read, { _tag: "Broken", cause: failing })
      }))
  })
})
