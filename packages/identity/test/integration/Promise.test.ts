import type { RunningEmulator } from "@effect-entra/emulator"
import { startEmulator } from "@effect-entra/emulator"
import { afterAll, assert, beforeAll, beforeEach, describe, it } from "@effect/vitest"
import { inspect } from "node:util"
import type { AuthorizationCodeCredentialOptions } from "../../src/promise.js"
import { AuthenticationError, AuthorizationCodeCredential } from "../../src/promise.js"
import * as E from "./fixtures/Emulated.js"

let emulator: RunningEmulator

beforeAll(async () => {
  emulator = await startEmulator()
})
afterAll(() => emulator.close())
beforeEach(() => emulator.reset())

const graphUser = "https://graph.microsoft.com/User.Read"

const make = async (options: AuthorizationCodeCredentialOptions = {}) => {
  const { code } = await emulator.signIn()
  const credential = new AuthorizationCodeCredential(
    emulator.defaults.tenantId,
    emulator.defaults.clientId,
    code,
    emulator.defaults.redirectUri,
    {
      clientSecret: emulator.defaults.clientSecret,
      authority: emulator.authority,
      ca: emulator.caPem,
      retryOptions: { maxRetries: 2, retryDelayInMs: 10, maxRetryDelayInMs: 50 },
      requestTimeoutInMs: 5_000,
      ...options
    }
  )
  return { credential, code }
}

const counts = async () => E.grantCounts(await emulator.requests({ endpoint: "token" }))

const rejection = async (promise: Promise<unknown>): Promise<unknown> => {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error("expected a rejection")
}

describe("Promise facade against the emulator", () => {
  it("100 concurrent first calls over two scope sets: one redemption, one refresh", async () => {
    const { credential } = await make()
    const tokens = await Promise.all(
      Array.from({ length: 100 }, (_, i) => credential.getToken(i % 2 === 0 ? emulator.defaults.scope : graphUser))
    )
    assert.strictEqual(new Set(tokens.map((t) => t.token)).size, 2)
    assert.isTrue(tokens.every((t) => t.tokenType === "Bearer" && t.expiresOnTimestamp > Date.now()))
    assert.deepStrictEqual(await counts(), { authorization_code: 1, refresh_token: 1 })
    // Served from the cache afterwards.
    const again = await credential.getToken(graphUser)
    assert.strictEqual(again.token, tokens[1]!.token)
    assert.deepStrictEqual(await counts(), { authorization_code: 1, refresh_token: 1 })
    await credential.close()
  })

  it("an abortSignal cancels an in-flight request and rejects with an AbortError", async () => {
    const { credential } = await make()
    await credential.getToken(emulator.defaults.scope)
    await emulator.injectFault({ endpoint: "token", kind: "delay", ms: 3_000 })
    const controller = new AbortController()
    const started = Date.now()
    const pending = credential.getToken(graphUser, { abortSignal: controller.signal })
    setTimeout(() => controller.abort(), 100)
    const error = await rejection(pending)
    assert.isBelow(Date.now() - started, 1_500)
    assert.instanceOf(error, DOMException)
    assert.strictEqual((error as DOMException).name, "AbortError")
    // The credential still works: the next call sends a new refresh.
    const token = await credential.getToken(graphUser)
    assert.strictEqual(E.jwtPayload(token.token)["aud"], "https://graph.microsoft.com")
    const log = await emulator.requests({ endpoint: "token" })
    assert.deepStrictEqual(log.map((e) => [e.grantType, e.status]), [
      ["authorization_code", 200],
      ["refresh_token", 200]
    ])
    await credential.close()
  })

  it("an already aborted signal rejects at once without a request", async () => {
    const { credential } = await make()
    const error = await rejection(credential.getToken(emulator.defaults.scope, { abortSignal: AbortSignal.abort() }))
    assert.strictEqual((error as Error).name, "AbortError")
    assert.deepStrictEqual(await counts(), {})
    await credential.close()
  })

  it("aborting the first call does not lose the code: the redemption finishes for the next caller", async () => {
    const { credential } = await make()
    await emulator.injectFault({ endpoint: "token", kind: "delay", ms: 400 })
    const controller = new AbortController()
    const pending = credential.getToken(emulator.defaults.scope, { abortSignal: controller.signal })
    setTimeout(() => controller.abort(), 50)
    assert.strictEqual(((await rejection(pending)) as Error).name, "AbortError")
    const token = await credential.getToken(emulator.defaults.scope)
    assert.isString(token.token)
    assert.deepStrictEqual(await counts(), { authorization_code: 1 })
    await credential.close()
  })

  it("rejects with the AuthenticationError itself, with Entra's fields and no secret", async () => {
    const secret = "wrong~Facade.secret-0123456789abcdef"
    const { code, credential } = await make({ clientSecret: secret })
    const error = await rejection(credential.getToken(emulator.defaults.scope))
    assert.instanceOf(error, AuthenticationError)
    const e = error as AuthenticationError
    assert.strictEqual(e.name, "AuthenticationError")
    assert.strictEqual(e.statusCode, 401)
    assert.strictEqual(e.errorResponse.error, "invalid_client")
    assert.deepStrictEqual(e.errorResponse.errorCodes, [7000215])
    assert.match(e.errorResponse.errorDescription, /^AADSTS7000215:/)
    assert.match(e.errorResponse.traceId ?? "", /^[0-9a-f-]{36}$/)
    assert.match(e.errorResponse.correlationId ?? "", /^[0-9a-f-]{36}$/)
    assert.match(e.message, /^AADSTS7000215: .*\(invalid_client, HTTP 401\)$/)
    for (const text of [e.message, String(e), JSON.stringify(e), inspect(e, { depth: 10 }), e.stack ?? ""]) {
      for (const value of [secret, code, emulator.defaults.clientSecret]) assert.notInclude(text, value)
    }
    await credential.close()
  })

  it("without the emulator's CA the TLS handshake is refused (Transport), never skipped", async () => {
    const { credential } = await make({ ca: undefined, retryOptions: { maxRetries: 0 } })
    const error = await rejection(credential.getToken(emulator.defaults.scope))
    assert.instanceOf(error, AuthenticationError)
    assert.strictEqual((error as AuthenticationError).reason, "Transport")
    assert.strictEqual((error as AuthenticationError).statusCode, 0)
    assert.deepStrictEqual(await counts(), {})
    await credential.close()
  })

  it("close() releases the credential: later calls reject, close is idempotent", async () => {
    const { credential } = await make()
    await credential.getToken(emulator.defaults.scope)
    await credential.close()
    await credential.close()
    const error = await rejection(credential.getToken(emulator.defaults.scope))
    assert.match((error as Error).message, /closed/)
    assert.deepStrictEqual(await counts(), { authorization_code: 1 })
  })
})
