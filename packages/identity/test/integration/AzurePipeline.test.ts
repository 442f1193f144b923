/**
 * Interop with the real Azure SDK packages against the emulator over TLS (its CA trusted explicitly, never
 * verification turned off):
 *
 * - Effect → Azure: the Promise facade is an `@azure/core-auth` `TokenCredential` that a real
 *   `@azure/core-rest-pipeline` bearer policy uses to call `/_resource/me`, including a CAE claims challenge.
 * - Azure → Effect: a real `@azure/identity` `AuthorizationCodeCredential` wrapped by `AzureTokenCredential`.
 */
import { isTokenCredential, type TokenCredential } from "@azure/core-auth"
import type { Pipeline, PipelineResponse } from "@azure/core-rest-pipeline"
import {
  bearerTokenAuthenticationPolicy,
  createDefaultHttpClient,
  createPipelineFromOptions,
  createPipelineRequest
} from "@azure/core-rest-pipeline"
import { AuthorizationCodeCredential as AzureIdentityAuthorizationCodeCredential } from "@azure/identity"
import type { RunningEmulator } from "@effect-entra/emulator"
import { startEmulator } from "@effect-entra/emulator"
import { afterAll, assert, beforeAll, beforeEach, describe, it } from "@effect/vitest"
import { Effect, Exit, Redacted } from "effect"
import { AuthenticationError } from "../../src/AuthenticationError.js"
import * as AzureTokenCredential from "../../src/AzureTokenCredential.js"
import { AuthorizationCodeCredential } from "../../src/promise.js"
import * as E from "./fixtures/Emulated.js"

let emulator: RunningEmulator

beforeAll(async () => {
  emulator = await startEmulator()
})
afterAll(() => emulator.close())
beforeEach(() => emulator.reset())

// The claims request a CAE-enabled resource sends after a revocation event (ENTRA-PROTOCOL §8).
const revocationClaims = { access_token: { nbf: { essential: true, value: "1604106651" } } }

const facade = async () => {
  const { code } = await emulator.signIn()
  return new AuthorizationCodeCredential(
    emulator.defaults.tenantId,
    emulator.defaults.clientId,
    code,
    emulator.defaults.redirectUri,
    {
      clientSecret: emulator.defaults.clientSecret,
      authority: emulator.authority,
      ca: emulator.caPem,
      retryOptions: { maxRetries: 0 },
      requestTimeoutInMs: 5_000
    }
  )
}

type AzureCredential = AzureTokenCredential.AzureTokenCredential

/** A credential that records the options each `getToken` got, then delegates. */
const recording = (inner: AzureCredential) => {
  const calls: Array<AzureTokenCredential.AzureGetTokenOptions | undefined> = []
  const credential: AzureCredential = {
    getToken: (scopes, options) => {
      calls.push(options)
      return inner.getToken(scopes, options)
    }
  }
  return { credential, calls }
}

/**
 * A real core-rest-pipeline (the policies every Azure SDK client uses) with the bearer policy. core-rest-pipeline's
 * node client trusts a CA through `tlsOptions`, which the tlsPolicy copies onto each request's `tlsSettings`.
 */
const pipelineFor = (credential: AzureCredential): Pipeline => {
  const pipeline = createPipelineFromOptions({ tlsOptions: { ca: emulator.caPem }, retryOptions: { maxRetries: 0 } })
  pipeline.addPolicy(bearerTokenAuthenticationPolicy({ credential, scopes: emulator.defaults.scope }))
  return pipeline
}

const httpClient = createDefaultHttpClient()

const getMe = (pipeline: Pipeline): Promise<PipelineResponse> =>
  pipeline.sendRequest(httpClient, createPipelineRequest({ url: `${emulator.authority}/_resource/me`, method: "GET" }))

const bodyOf = (response: PipelineResponse) => JSON.parse(response.bodyAsText ?? "null") as Record<string, unknown>

const resourceLog = async () =>
  (await emulator.requests()).filter((e) => e.path === "/_resource/me").map((e) => [e.status, e.error ?? "ok"])

const tokenLog = async () =>
  (await emulator.requests({ endpoint: "token" })).map((e) => ({ grant: e.grantType, claims: e.hasClaims }))

describe("Effect → Azure: the Promise facade in a real @azure/core-rest-pipeline", () => {
  it("is an @azure/core-auth TokenCredential", async () => {
    const credential = await facade()
    assert.isTrue(isTokenCredential(credential))
    // A compile-time check too (tests are type-checked with `exactOptionalPropertyTypes`): core-auth's own type.
    const typed: TokenCredential = credential
    assert.strictEqual(typeof typed.getToken, "function")
    await credential.close()
  })

  it("the bearer policy gets a token from it and the resource answers 200", async () => {
    const credential = await facade()
    const { calls, credential: spy } = recording(credential)
    const response = await getMe(pipelineFor(spy))
    assert.strictEqual(response.status, 200)
    const me = bodyOf(response)
    assert.strictEqual(me["tid"], emulator.defaults.tenantId)
    assert.strictEqual(me["scp"], "access_as_user")
    // core-rest-pipeline asks for CAE by default; the facade declares cp1, so the token carries xms_cc.
    assert.strictEqual(calls[0]?.enableCae, true)
    assert.deepStrictEqual(me["xms_cc"], ["cp1"])
    assert.deepStrictEqual(await tokenLog(), [{ grant: "authorization_code", claims: true }])
    await credential.close()
  })

  it("a CAE insufficient_claims challenge: the policy asks the facade again with claims, the retry passes", async () => {
    const credential = await facade()
    const { calls, credential: spy } = recording(credential)
    const pipeline = pipelineFor(spy)
    assert.strictEqual((await getMe(pipeline)).status, 200)
    const first = await credential.getToken(emulator.defaults.scope, { enableCae: true })

    await emulator.challengeResource(revocationClaims)
    await emulator.clearRequests()
    const response = await getMe(pipeline)

    assert.strictEqual(response.status, 200)
    assert.deepStrictEqual(await resourceLog(), [[401, "insufficient_claims"], [200, "ok"]])
    // The policy decoded the challenge's base64 claims and passed the JSON to our getToken.
    const challenged = calls.find((options) => options?.claims !== undefined)
    assert.deepStrictEqual(JSON.parse(challenged!.claims!), revocationClaims)
    assert.strictEqual(challenged!.enableCae, true)
    // The facade bypassed its cache and sent the claims to the token endpoint (a refresh, not a cache hit).
    assert.deepStrictEqual(await tokenLog(), [{ grant: "refresh_token", claims: true }])
    const second = await credential.getToken(emulator.defaults.scope, { enableCae: true })
    assert.notStrictEqual(second.token, first.token)
    // Later calls use the new token: no new challenge, no new token request.
    assert.strictEqual((await getMe(pipeline)).status, 200)
    assert.deepStrictEqual(await tokenLog(), [{ grant: "refresh_token", claims: true }])
    await credential.close()
  })

  it("a fault at the token endpoint surfaces in the pipeline as our AuthenticationError", async () => {
    const credential = await facade()
    await emulator.injectFault({ endpoint: "token", kind: "status", status: 400, errorCode: 70008 })
    const error = await getMe(pipelineFor(credential)).then(() => undefined, (e: unknown) => e)
    assert.instanceOf(error, AuthenticationError)
    assert.strictEqual((error as AuthenticationError).errorResponse.error, "invalid_grant")
    await credential.close()
  })

  it("an Effect TokenCredential turned into an Azure credential (toAzure) drives the pipeline too", async () => {
    const credential = await facade()
    // Any Effect service works; here the Azure-wrapped facade, to go Azure → Effect → Azure.
    const program = Effect.gen(function*() {
      const service = yield* AzureTokenCredential.make(credential)
      return AzureTokenCredential.fromService(service)
    })
    const azure = await Effect.runPromise(program)
    assert.isTrue(isTokenCredential(azure))
    const response = await getMe(pipelineFor(azure))
    assert.strictEqual(response.status, 200)
    await credential.close()
  })
})

describe("Azure → Effect: a real @azure/identity credential wrapped by AzureTokenCredential", () => {
  const azureIdentity = async (clientSecret = emulator.defaults.clientSecret) => {
    const { code } = await emulator.signIn()
    const credential = new AzureIdentityAuthorizationCodeCredential(
      emulator.defaults.tenantId,
      emulator.defaults.clientId,
      clientSecret,
      code,
      emulator.defaults.redirectUri,
      {
        authorityHost: emulator.authority,
        disableInstanceDiscovery: true,
        // @azure/identity's HTTP goes through core-rest-pipeline too, so `tlsOptions` trusts the emulator's CA.
        tlsOptions: { ca: emulator.caPem },
        retryOptions: { maxRetries: 0 }
      }
    )
    return { credential, code }
  }

  // @azure/identity keeps separate MSAL apps (and caches) for CAE and non-CAE requests, and core-rest-pipeline's
  // bearer policy always asks with `enableCae: true`; so these tests ask with `enableCae: true` throughout.
  const cae = { enableCae: true } as const

  it("gets a Redacted token from Entra through MSAL, valid at the resource", async () => {
    const { credential } = await azureIdentity()
    const service = await Effect.runPromise(AzureTokenCredential.make(credential))
    const token = await Effect.runPromise(service.getToken(emulator.defaults.scope, cae))
    assert.isTrue(Redacted.isRedacted(token.token))
    assert.strictEqual(token.tokenType, "Bearer")
    assert.isAbove(token.expiresOnTimestamp, Date.now())
    const payload = E.jwtPayload(Redacted.value(token.token))
    // A v2 token for the app's own API carries the client id as its audience, as Entra's does.
    assert.strictEqual(payload["aud"], emulator.defaults.clientId)
    // The same token works at the resource, sent by a core-rest-pipeline fed from the Effect service.
    const response = await getMe(pipelineFor(AzureTokenCredential.fromService(service)))
    assert.strictEqual(response.status, 200)
    assert.deepStrictEqual((await tokenLog()).map((e) => e.grant), ["authorization_code"])
  })

  it("passes claims and enableCae to @azure/identity, which sends them to the token endpoint", async () => {
    const { credential } = await azureIdentity()
    const service = await Effect.runPromise(AzureTokenCredential.make(credential))
    await Effect.runPromise(service.getToken(emulator.defaults.scope, cae))
    await emulator.clearRequests()
    const token = await Effect.runPromise(
      service.getToken(emulator.defaults.scope, { claims: JSON.stringify(revocationClaims), enableCae: true })
    )
    assert.isTrue(Redacted.isRedacted(token.token))
    // MSAL skips its cache when claims are given and refreshes with them.
    assert.deepStrictEqual(await tokenLog(), [{ grant: "refresh_token", claims: true }])
  })

  it("pins an @azure/identity quirk: switching enableCae redeems the single-use code again (AADSTS54005)", async () => {
    const { credential } = await azureIdentity()
    const service = await Effect.runPromise(AzureTokenCredential.make(credential))
    await Effect.runPromise(service.getToken(emulator.defaults.scope))
    const exit = await Effect.runPromiseExit(service.getToken(emulator.defaults.scope, cae))
    const error = Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error : undefined
    assert.instanceOf(error, AuthenticationError)
    const e = error as AuthenticationError
    assert.strictEqual(e.errorResponse.error, "invalid_grant")
    assert.strictEqual(e.aadstsCode, 54005)
    assert.isTrue(e.isInteractionRequired)
    assert.deepStrictEqual((await tokenLog()).map((entry) => entry.grant), ["authorization_code", "authorization_code"])
  })

  it("a wrong client secret fails with AuthenticationError carrying Entra's fields and no secret", async () => {
    const wrongSecret = "wrong~Azure.identity-secret-0123456789"
    const { code, credential } = await azureIdentity(wrongSecret)
    const service = await Effect.runPromise(AzureTokenCredential.make(credential))
    const exit = await Effect.runPromiseExit(service.getToken(emulator.defaults.scope))
    assert.isTrue(Exit.isFailure(exit))
    const error = Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error : undefined
    assert.instanceOf(error, AuthenticationError)
    const e = error as AuthenticationError
    assert.strictEqual(e.reason, "ErrorResponse")
    assert.strictEqual(e.errorResponse.error, "invalid_client")
    assert.strictEqual(e.aadstsCode, 7000215)
    assert.match(e.errorResponse.errorDescription, /^AADSTS7000215:/)
    // MSAL's ServerError does not carry the HTTP status on the code path, so there is none to keep.
    assert.oneOf(e.statusCode, [0, 401])
    assert.match(e.errorResponse.correlationId ?? "", /^[0-9a-f-]{36}$/)
    assert.match(e.errorResponse.traceId ?? "", /^[0-9a-f-]{36}$/)
    assert.match(e.errorResponse.timestamp ?? "", /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/)
    assert.match(e.message, /^AADSTS7000215: .*\(invalid_client(, HTTP 401)?\)$/)
    E.assertNoSecret(e, [wrongSecret, code, emulator.defaults.clientSecret])
  })
})
