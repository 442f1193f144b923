import { isTokenCredential } from "@azure/core-auth"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { inspect } from "node:util"
import {
  AuthenticationError,
  AuthorizationCodeCredential,
  createTokenCache,
  InvalidOptionError
} from "../src/promise.js"
import * as ScriptedEntra from "./fixtures/ScriptedEntra.js"

const tenantId = "home-tenant"
const scope = "api://demo/user_impersonation"

const make = (entra = ScriptedEntra.make(), options: Record<string, unknown> = {}) => {
  const code = entra.issueCode(ScriptedEntra.alice)
  const credential = new AuthorizationCodeCredential(tenantId, "client-1", code, "http://localhost/callback", {
    clientSecret: "facade-secret-value",
    authority: "https://login.example",
    httpClient: entra.client,
    ...options
  })
  return { credential, entra, code }
}

describe("Promise facade", () => {
  it("is an @azure/core-auth TokenCredential", async () => {
    const { credential } = make()
    assert.isTrue(isTokenCredential(credential))
    await credential.close()
  })

  it("getToken returns @azure/core-auth's AccessToken with millisecond timestamps", async () => {
    const { credential, entra } = make()
    entra.settings.refreshIn = 1800
    const before = Date.now()
    const token = await credential.getToken(scope)
    assert.match(token.token, /^at-/)
    assert.strictEqual(token.tokenType, "Bearer")
    assert.approximately(token.expiresOnTimestamp, before + 3_600_000, 5_000)
    assert.approximately(token.refreshAfterTimestamp!, before + 1_800_000, 5_000)
    // The second call is served from the cache, synchronously.
    const again = await credential.getToken([scope])
    assert.strictEqual(again.token, token.token)
    assert.strictEqual(entra.requests.length, 1)
    await credential.close()
  })

  it("getTokenInfo returns Python's AccessTokenInfo with second timestamps", async () => {
    const { credential } = make()
    const info = await credential.getTokenInfo(scope)
    assert.isTrue(Number.isInteger(info.expiresOn))
    assert.approximately(info.expiresOn, Date.now() / 1000 + 3600, 5)
    assert.isUndefined(info.refreshOn)
    await credential.close()
  })

  it("accepts @azure/identity's form with the client secret third", async () => {
    const entra = ScriptedEntra.make()
    const code = entra.issueCode(ScriptedEntra.alice)
    const credential = new AuthorizationCodeCredential(
      tenantId,
      "client-1",
      "third-form-secret",
      code,
      "http://localhost/callback",
      { authorityHost: "login.example", httpClient: entra.client }
    )
    await credential.getToken(scope)
    assert.strictEqual(entra.requests[0].form.client_secret, "third-form-secret")
    assert.strictEqual(entra.requests[0].form.code, code)
    assert.strictEqual(entra.requests[0].url, "https://login.example/home-tenant/oauth2/v2.0/token")
    await credential.close()
  })

  it("rejects with the AuthenticationError itself, never a FiberFailure", async () => {
    const { credential, entra } = make()
    entra.script.push({
      _tag: "Respond",
      status: 400,
      body: ScriptedEntra.errorBody("invalid_grant", 70008, "The provided authorization code has expired.")
    })
    const error = await credential.getToken(scope).then(() => undefined, (e: unknown) => e)
    assert.instanceOf(error, AuthenticationError)
    const e = error as AuthenticationError
    assert.strictEqual(e.name, "AuthenticationError")
    assert.strictEqual(e.statusCode, 400)
    assert.strictEqual(e.errorResponse.error, "invalid_grant")
    assert.strictEqual(
      e.errorResponse.errorDescription.split("\r\n")[0],
      "AADSTS70008: The provided authorization code has expired."
    )
    assert.deepStrictEqual(e.errorResponse.errorCodes, [70008])
    assert.strictEqual(e.errorResponse.traceId, "0d1c2b3a-0000-4000-8000-000000000001")
    assert.strictEqual(e.errorResponse.correlationId, "0d1c2b3a-0000-4000-8000-000000000002")
    assert.strictEqual(e.errorResponse.timestamp, "2026-11-24 10:00:00Z")
    await credential.close()
  })

  it("throws a typed error naming the field from the constructor, before any request", () => {
    assert.throws(
      () => new AuthorizationCodeCredential("bad/tenant", "client", "code", "http://localhost"),
      InvalidOptionError,
      /tenantId/
    )
    assert.throws(
      () => new AuthorizationCodeCredential(tenantId, "client", "code", "http://localhost", { authority: "http://x" }),
      /Invalid authority/
    )
    const { credential, entra } = make()
    return credential.getToken([]).then(
      () => assert.fail("should reject"),
      async (error: unknown) => {
        assert.instanceOf(error, InvalidOptionError)
        assert.strictEqual((error as InvalidOptionError).field, "scopes")
        assert.strictEqual(entra.requests.length, 0)
        await credential.close()
      }
    )
  })

  const badHttp: ReadonlyArray<[string, Record<string, unknown>]> = [
    ["requestTimeoutInMs", { requestTimeoutInMs: Number.NaN }],
    ["requestTimeoutInMs", { requestTimeoutInMs: -1 }],
    ["requestTimeoutInMs", { requestTimeoutInMs: Infinity }],
    ["retryOptions.maxRetries", { retryOptions: { maxRetries: -1 } }],
    ["retryOptions.maxRetries", { retryOptions: { maxRetries: 1.5 } }],
    ["retryOptions.retryDelayInMs", { retryOptions: { retryDelayInMs: Number.NaN } }],
    ["retryOptions.maxRetryDelayInMs", { retryOptions: { maxRetryDelayInMs: Infinity } }],
    ["ca", { ca: "/etc/ssl/certs/proxy-ca.pem", httpClient: undefined }]
  ]
  for (const [field, options] of badHttp) {
    it(`${JSON.stringify(options)} is an InvalidOptionError for ${field} from the constructor`, () => {
      const entra = ScriptedEntra.make()
      try {
        make(entra, options)
        assert.fail("the constructor accepted it")
      } catch (e) {
        assert.instanceOf(e, InvalidOptionError)
        assert.strictEqual((e as InvalidOptionError).field, field)
      }
      assert.strictEqual(entra.requests.length, 0)
    })
  }

  it("reports the token type Entra returned (pop), not always Bearer", async () => {
    const { credential, entra } = make()
    entra.script.push({
      _tag: "Respond",
      status: 200,
      body: JSON.stringify({
        token_type: "PoP",
        access_token: "at-pop",
        expires_in: 3600,
        id_token: Effect.runSync(ScriptedEntra.idToken())
      })
    })
    assert.strictEqual((await credential.getToken(scope)).tokenType, "pop")
    assert.strictEqual((await credential.getToken(scope)).tokenType, "pop", "from the cache too")
    assert.strictEqual((await credential.getTokenInfo(scope)).tokenType, "pop")
    await credential.close()
  })

  it("an abort signal cancels the request and rejects with an AbortError", async () => {
    const { credential, entra } = make()
    await credential.getToken(scope)
    entra.script.push({ _tag: "Hang" })
    const controller = new AbortController()
    const pending = credential.getToken("other/scope", { abortSignal: controller.signal })
    setTimeout(() => controller.abort(), 20)
    const error = await pending.then(() => undefined, (e: unknown) => e)
    assert.strictEqual((error as Error).name, "AbortError")
    // The credential still works afterwards.
    const token = await credential.getToken("other/scope")
    assert.match(token.token, /^at-/)
    await credential.close()
  })

  it("several credentials can share one cache without crossing users", async () => {
    const entra = ScriptedEntra.make()
    const tokenCache = createTokenCache()
    const a = make(entra, { tokenCache }).credential
    const bobCode = entra.issueCode(ScriptedEntra.bob)
    const b = new AuthorizationCodeCredential(tenantId, "client-1", bobCode, "http://localhost/callback", {
      authority: "https://login.example",
      httpClient: entra.client,
      tokenCache
    })
    assert.include((await a.getToken(scope)).token, "oid-alice")
    assert.include((await b.getToken(scope)).token, "oid-bob")
    assert.include((await a.getToken(scope)).token, "oid-alice")
    assert.deepStrictEqual((await b.getAccount())?.username, "bob@contoso.example")
    await a.close()
    await b.close()
  })

  it("close() and Symbol.asyncDispose release it; later calls reject", async () => {
    const { credential } = make()
    await credential.getToken(scope)
    await credential[Symbol.asyncDispose]()
    await credential.getToken(scope).then(
      () => assert.fail("should reject"),
      (error: unknown) => assert.match(String(error), /closed/)
    )
  })

  it("a call in flight during close() does not re-open the cached path", async () => {
    const { credential } = make()
    const inFlight = credential.getToken(scope) // the redemption, not yet answered
    await credential.close()
    await inFlight.then(() => undefined, () => undefined)
    await credential.getToken(scope).then(
      () => assert.fail("should reject after close()"),
      (error: unknown) => assert.match(String(error), /closed/)
    )
  })

  it("inspect, JSON.stringify and String show no secret", async () => {
    const { code, credential } = make()
    const token = await credential.getToken(scope)
    for (
      const shown of [
        inspect(credential, { depth: 10, showHidden: true }),
        JSON.stringify(credential),
        String(credential)
      ]
    ) {
      assert.notInclude(shown, "facade-secret-value")
      assert.notInclude(shown, code)
      assert.notInclude(shown, token.token)
      assert.include(shown, "client-1")
    }
    await credential.close()
  })

  it("getTokenInfo with refresh_in: integer epoch seconds for expiresOn and refreshOn, and the token type", async () => {
    const { credential, entra } = make()
    entra.settings.refreshIn = 1800
    const before = Date.now()
    const info = await credential.getTokenInfo(scope)
    assert.deepStrictEqual(Object.keys(info).sort(), ["expiresOn", "refreshOn", "token", "tokenType"])
    assert.match(info.token, /^at-/)
    assert.strictEqual(info.tokenType, "Bearer")
    assert.isTrue(Number.isInteger(info.expiresOn))
    assert.isTrue(Number.isInteger(info.refreshOn))
    assert.approximately(info.expiresOn, before / 1000 + 3600, 5)
    assert.approximately(info.refreshOn!, before / 1000 + 1800, 5)
    // The same token as getToken, with its millisecond timestamps floored to seconds.
    const token = await credential.getToken(scope)
    assert.strictEqual(info.token, token.token)
    assert.strictEqual(info.expiresOn, Math.floor(token.expiresOnTimestamp / 1000))
    assert.strictEqual(info.refreshOn, Math.floor(token.refreshAfterTimestamp! / 1000))
    assert.strictEqual(entra.requests.length, 1)
    await credential.close()
  })

  it("a rejection carries Entra's claims challenge, suberror and error URI", async () => {
    const { credential, entra } = make()
    const claims = "{\"access_token\":{\"capolids\":{\"essential\":true,\"values\":[\"c1\"]}}}"
    entra.script.push({
      _tag: "Respond",
      status: 400,
      body: ScriptedEntra.errorBody("interaction_required", 50076, "Due to a configuration change made by your admin", {
        claims,
        suberror: "basic_action"
      })
    })
    const error = await credential.getToken(scope).then(() => undefined, (e: unknown) => e)
    assert.instanceOf(error, AuthenticationError)
    const e = error as AuthenticationError
    assert.strictEqual(e.errorResponse.claims, claims)
    assert.strictEqual(e.errorResponse.errorUri, "https://login.microsoftonline.com/error?code=50076")
    assert.strictEqual(e.errorResponse.suberror, "basic_action")
    assert.strictEqual(e.aadstsCode, 50076)
    assert.isTrue(e.isInteractionRequired)
    // Serialised too: a caller that logs the error as JSON keeps the challenge.
    const json = JSON.parse(JSON.stringify(e)) as { errorResponse: Record<string, unknown> }
    assert.strictEqual(json.errorResponse.claims, claims)
    assert.strictEqual(json.errorResponse.errorUri, "https://login.microsoftonline.com/error?code=50076")
    await credential.close()
  })

  describe("multi-tenant switch", () => {
    const variable = "AZURE_IDENTITY_DISABLE_MULTITENANTAUTH"
    // The facade reads the variable in its constructor (synchronously), so it is set only around that call.
    const makeWithEnv = (value: string | undefined, options: Record<string, unknown> = {}) => {
      const saved = process.env[variable]
      try {
        if (value === undefined) delete process.env[variable]
        else process.env[variable] = value
        return make(ScriptedEntra.make(), options)
      } finally {
        if (saved === undefined) delete process.env[variable]
        else process.env[variable] = saved
      }
    }
    const tenantOfFirstRequest = async (
      credential: AuthorizationCodeCredential,
      entra: ScriptedEntra.ScriptedEntra
    ) => {
      await credential.getToken(scope, { tenantId: "someone-else" })
      return new URL(entra.requests[0].url).pathname.split("/")[1]
    }

    for (const value of ["TRUE", "1", "true", "Yes"]) {
      it(`${variable}="${value}" ignores per-request tenants`, async () => {
        const { credential, entra } = makeWithEnv(value)
        assert.strictEqual(await tenantOfFirstRequest(credential, entra), "home-tenant")
        await credential.close()
      })
    }

    it(`${variable}="false" leaves per-request tenants on`, async () => {
      const { credential, entra } = makeWithEnv("false")
      const error = await credential.getToken(scope, { tenantId: "someone-else" }).then(() => undefined, (e) => e)
      assert.instanceOf(error, InvalidOptionError)
      assert.strictEqual(entra.requests.length, 0)
      await credential.close()
    })

    it("the disableMultiTenantAuth option turns them off without the variable", async () => {
      const { credential, entra } = makeWithEnv(undefined, { disableMultiTenantAuth: true })
      assert.strictEqual(await tenantOfFirstRequest(credential, entra), "home-tenant")
      await credential.close()
    })

    it("disableMultiTenantAuth: false wins over the variable", async () => {
      const { credential, entra } = makeWithEnv("TRUE", {
        disableMultiTenantAuth: false,
        additionallyAllowedTenants: ["*"]
      })
      assert.strictEqual(await tenantOfFirstRequest(credential, entra), "someone-else")
      await credential.close()
    })
  })
})
