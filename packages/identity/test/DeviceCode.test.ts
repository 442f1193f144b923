/**
 * The device-code flow on a scripted endpoint and the TestClock: when each poll is sent (the interval, five
 * seconds more per `slow_down`, nothing past `expires_in`, nothing after an interruption), the typed errors, the
 * confidential client's credentials, and the cache written as a code redemption writes it.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, Either, Fiber, Layer, Metric, Redacted, TestClock } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { inspect } from "node:util"
import * as AuthorizationCodeCredential from "../src/AuthorizationCodeCredential.js"
import * as CredentialMetrics from "../src/CredentialMetrics.js"
import * as DeviceCode from "../src/DeviceCode.js"
import { resolveHttpOptions } from "../src/internal/httpOptions.js"
import { makeExchange } from "../src/internal/tokenExchange.js"
import { makeRetrySchedule } from "../src/internal/tokenRetry.js"
import * as TokenCache from "../src/TokenCache.js"
import * as Observe from "./fixtures/Observe.js"
import * as ScriptedEntra from "./fixtures/ScriptedEntra.js"
import { settle } from "./fixtures/Time.js"

const { alice } = ScriptedEntra
const authority = "https://login.example"
const tenantId = "home-tenant"
const clientId = "client-1"
const scope = "api://resource/read"
const deviceCode = "DAQABIQEAAA-device-code-secret-0123456789"
const deviceGrant = "urn:ietf:params:oauth:grant-type:device_code"

const respond = (status: number, body: unknown): ScriptedEntra.Scripted => ({
  _tag: "Respond",
  status,
  body: typeof body === "string" ? body : JSON.stringify(body)
})

const deviceAnswer = (overrides: Record<string, unknown> = {}) =>
  respond(200, {
    user_code: "ABCD2345",
    device_code: deviceCode,
    verification_uri: "https://login.example/devicelogin",
    expires_in: 900,
    interval: 5,
    message: "To sign in, use a web browser to open the page https://login.example/devicelogin and enter the code " +
      "ABCD2345 to authenticate.",
    ...overrides
  })

const pollError = (error: string, code: number, text = "scripted") =>
  respond(400, ScriptedEntra.errorBody(error, code, text))

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url")

/**
 * Entra's 200 for the device code. Its ID token is unsigned: the logic tests turn validation off (the emulator
 * suite validates real ones).
 */
const tokens = (n: number) =>
  Effect.succeed(respond(200, {
    token_type: "Bearer",
    scope,
    expires_in: 3600,
    access_token: `at-${n}`,
    refresh_token: `rt-${n}`,
    id_token: `${b64({ alg: "none" })}.${
      b64({ oid: alice.oid, tid: alice.tid, name: alice.name, preferred_username: alice.username })
    }.`,
    client_info: b64({ uid: alice.oid, utid: alice.tid })
  }))

/** The scripted endpoint, with the Effect-clock time of every request it records. */
const setup = () => {
  const entra = ScriptedEntra.make()
  const times: Array<number> = []
  const client = entra.client.pipe(
    HttpClient.tapRequest((request) =>
      request.method === "POST" ? Effect.map(Clock.currentTimeMillis, (t) => void times.push(t)) : Effect.void
    )
  )
  const layer = Layer.merge(Layer.succeed(HttpClient.HttpClient, client), TokenCache.layerMemory)
  const polls = () => entra.requests.filter((r) => r.form.grant_type === deviceGrant)
  return { entra, times, layer, polls }
}

const options: DeviceCode.Options = { tenantId, clientId, authority, validateIdToken: false }

describe("DeviceCode", () => {
  it.effect("pending, slow_down, then tokens: polls at the interval, then 5 s slower; the account is cached", () => {
    const { entra, layer, polls, times } = setup()
    return Effect.gen(function*() {
      entra.script.push(deviceAnswer(), pollError("authorization_pending", 70016), pollError("slow_down", 70016))
      entra.script.push(yield* tokens(1))
      const flow = yield* DeviceCode.make(options)
      const pending = yield* flow.start(scope)
      assert.deepStrictEqual(pending.info, {
        userCode: "ABCD2345",
        verificationUri: "https://login.example/devicelogin",
        message: "To sign in, use a web browser to open the page https://login.example/devicelogin and enter the " +
          "code ABCD2345 to authenticate.",
        expiresIn: 900,
        interval: 5,
        expiresOn: 900_000
      })
      const devicecode = entra.requests[0]!
      assert.strictEqual(devicecode.url, `${authority}/${tenantId}/oauth2/v2.0/devicecode`)
      assert.deepStrictEqual(devicecode.form, { client_id: clientId, scope: `${scope} openid profile offline_access` })

      const signIn = yield* settle(pending.await)
      // The device-code request at 0; polls at 5 s and 10 s (pending, slow_down), then 10 s later.
      assert.deepStrictEqual(times, [0, 5_000, 10_000, 20_000])
      assert.deepStrictEqual(polls()[0]!.form, {
        client_id: clientId,
        grant_type: deviceGrant,
        device_code: deviceCode,
        client_info: "1"
      })
      assert.deepStrictEqual(signIn.account, {
        homeAccountId: "oid-alice.home-tenant",
        tenantId: "home-tenant",
        username: "alice@contoso.example",
        name: "Alice"
      })
      assert.strictEqual(Redacted.value(signIn.accessToken.token), "at-1")
      const cache = yield* TokenCache.TokenCache
      const [account] = yield* cache.listAccounts
      assert.strictEqual(account?.clientId, clientId)
      assert.strictEqual(account?.authority, authority)
      assert.strictEqual(Redacted.value(account!.refreshToken!), "rt-1")
    }).pipe(Effect.provide(layer))
  })

  it.effect("afterwards the resumed credential serves the token from the cache, then refreshes it", () => {
    const { entra, layer, polls } = setup()
    return Effect.gen(function*() {
      entra.script.push(deviceAnswer({ interval: 1 }), yield* tokens(1))
      const flow = yield* DeviceCode.make(options)
      const { account } = yield* settle(flow.signIn(scope, () => Effect.void))
      assert.strictEqual(polls().length, 1)
      const credential = yield* AuthorizationCodeCredential.make({
        tenantId,
        clientId,
        authority,
        validateIdToken: false,
        redirectUri: "http://localhost",
        homeAccountId: account.homeAccountId
      })
      const cached = yield* credential.getToken(scope)
      assert.strictEqual(Redacted.value(cached.token), "at-1")
      assert.strictEqual(entra.grants("refresh_token").length, 0)
      yield* TestClock.adjust("1 hour")
      entra.script.push(yield* tokens(2))
      const renewed = yield* credential.getToken(scope)
      assert.strictEqual(Redacted.value(renewed.token), "at-2")
      assert.strictEqual(entra.grants("refresh_token")[0]!.form.refresh_token, "rt-1")
    }).pipe(Effect.provide(layer), Effect.scoped)
  })

  it.effect("expired_token from Entra is an AuthenticationError carrying Entra's answer", () => {
    const { entra, layer, polls } = setup()
    return Effect.gen(function*() {
      entra.script.push(deviceAnswer(), pollError("expired_token", 70019, "Verification code expired."))
      const pending = yield* (yield* DeviceCode.make(options)).start(scope)
      const error = yield* Effect.flip(settle(pending.await))
      assert.strictEqual(error._tag, "AuthenticationError")
      assert.strictEqual(error.reason, "ErrorResponse")
      assert.strictEqual(error.statusCode, 400)
      assert.strictEqual(error.errorResponse.error, "expired_token")
      assert.deepStrictEqual(error.errorResponse.errorCodes, [70019])
      assert.strictEqual(error.aadstsCode, 70019)
      assert.strictEqual(error.message, "AADSTS70019: Verification code expired. (expired_token, HTTP 400)")
      assert.strictEqual(polls().length, 1)
      assert.deepStrictEqual(yield* (yield* TokenCache.TokenCache).listAccounts, [])
    }).pipe(Effect.provide(layer))
  })

  it.effect("the code's lifetime ends on the client's clock too: no poll at or after expires_in", () => {
    const { entra, layer, times } = setup()
    return Effect.gen(function*() {
      entra.script.push(deviceAnswer({ expires_in: 12 }))
      for (let i = 0; i < 5; i++) entra.script.push(pollError("authorization_pending", 70016))
      const pending = yield* (yield* DeviceCode.make(options)).start(scope)
      const error = yield* Effect.flip(settle(pending.await))
      assert.deepStrictEqual(times, [0, 5_000, 10_000])
      assert.strictEqual(error.reason, "DeadlineExceeded")
      assert.strictEqual(error.errorResponse.error, "expired_token")
      assert.strictEqual(yield* Clock.currentTimeMillis, 12_000)
    }).pipe(Effect.provide(layer))
  })

  it.effect("declined is authorization_declined; the device code never appears in the error", () => {
    const { entra, layer } = setup()
    return Effect.gen(function*() {
      entra.script.push(
        deviceAnswer(),
        pollError("authorization_declined", 65004, `User declined to consent to access the app (${deviceCode}).`)
      )
      const pending = yield* (yield* DeviceCode.make(options)).start(scope)
      const error = yield* Effect.flip(settle(pending.await))
      assert.strictEqual(error.errorResponse.error, "authorization_declined")
      assert.strictEqual(error.aadstsCode, 65004)
      assert.strictEqual(error.grantType, "device_code")
      for (const text of [error.message, inspect(error, { depth: 10 }), JSON.stringify(error), error.body ?? ""]) {
        assert.notInclude(text, deviceCode)
      }
    }).pipe(Effect.provide(layer))
  })

  it.effect("an interrupted wait sends no further request", () => {
    const { entra, layer, polls } = setup()
    return Effect.gen(function*() {
      entra.script.push(deviceAnswer())
      for (let i = 0; i < 5; i++) entra.script.push(pollError("authorization_pending", 70016))
      const pending = yield* (yield* DeviceCode.make(options)).start(scope)
      const fiber = yield* Effect.fork(pending.await)
      yield* settle(
        Effect.suspend(() => polls().length === 1 ? Effect.void : Effect.sleep("1 second")).pipe(
          Effect.repeat({ until: () => polls().length === 1 })
        )
      )
      yield* Fiber.interrupt(fiber)
      yield* TestClock.adjust("20 minutes")
      assert.strictEqual(polls().length, 1)
    }).pipe(Effect.provide(layer))
  })

  it.effect("an unusable device authorization answer names the field, never the device code", () => {
    const { entra, layer } = setup()
    return Effect.gen(function*() {
      entra.script.push(deviceAnswer({ interval: 0 }), deviceAnswer({ verification_uri: "javascript:alert(1)" }))
      const flow = yield* DeviceCode.make(options)
      const badInterval = yield* Effect.flip(flow.start(scope))
      assert.strictEqual(badInterval._tag, "AuthenticationError")
      if (badInterval._tag !== "AuthenticationError") return
      assert.strictEqual(badInterval.reason, "InvalidResponse")
      assert.include(badInterval.message, "interval is not a whole number of seconds")
      assert.notInclude(inspect(badInterval, { depth: 10 }), deviceCode)
      const badUri = yield* Effect.flip(flow.start(scope))
      assert.include(badUri.message, "verification_uri is not an http(s) URL")
    }).pipe(Effect.provide(layer))
  })

  it.effect("an error answer to the device authorization request carries Entra's error", () => {
    const { entra, layer } = setup()
    return Effect.gen(function*() {
      entra.script.push(respond(400, ScriptedEntra.errorBody("invalid_scope", 70011, "The scope is not valid.")))
      const error = yield* Effect.flip((yield* DeviceCode.make(options)).start(scope))
      assert.strictEqual(error._tag, "AuthenticationError")
      if (error._tag !== "AuthenticationError") return
      assert.strictEqual(error.errorResponse.error, "invalid_scope")
      assert.strictEqual(error.statusCode, 400)
    }).pipe(Effect.provide(layer))
  })

  it.effect("a confidential client authenticates each poll: a secret, or a certificate's client assertion", () => {
    const { entra, layer, polls } = setup()
    const pem = Fs.readFileSync(Path.join(import.meta.dirname, "fixtures", "certs", "client.pem"), "utf8")
    return Effect.gen(function*() {
      entra.script.push(deviceAnswer({ interval: 1 }), yield* tokens(1))
      const withSecret = yield* DeviceCode.make({ ...options, clientSecret: Redacted.make("s3cret") })
      yield* settle(withSecret.signIn(scope, () => Effect.void))
      assert.strictEqual(polls()[0]!.form.client_secret, "s3cret")

      entra.script.push(deviceAnswer({ interval: 1 }), yield* tokens(2))
      const withCertificate = yield* DeviceCode.make({
        ...options,
        clientCertificate: { certificate: Redacted.make(pem) }
      })
      yield* settle(withCertificate.signIn(scope, () => Effect.void))
      const form = polls()[1]!.form
      assert.isUndefined(form.client_secret)
      assert.strictEqual(form.client_assertion_type, "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
      assert.match(form.client_assertion!, /^eyJ[\w-]+\.[\w-]+\.[\w-]+$/)
      // The devicecode request itself carries no client credential.
      assert.deepStrictEqual(Object.keys(entra.requests[2]!.form).sort(), ["client_id", "scope"])
    }).pipe(Effect.provide(layer))
  })

  it.effect("an ID token that fails validation (the default) is InvalidIdToken of the device_code grant, and nothing is cached", () => {
    const { entra, layer } = setup()
    return Effect.gen(function*() {
      entra.script.push(deviceAnswer({ interval: 1 }), yield* tokens(1))
      const flow = yield* DeviceCode.make({ tenantId, clientId, authority })
      const error = yield* Effect.flip(settle(flow.signIn(scope, () => Effect.void)))
      assert.strictEqual(error._tag, "AuthenticationError")
      if (error._tag !== "AuthenticationError") return
      assert.strictEqual(error.reason, "InvalidIdToken")
      assert.strictEqual(error.grantType, "device_code")
      const cache = yield* TokenCache.TokenCache
      assert.deepStrictEqual(yield* cache.listAccounts, [])
    }).pipe(Effect.provide(layer))
  })

  it.effect("options are checked before anything is sent", () => {
    const { entra, layer } = setup()
    return Effect.gen(function*() {
      const twoCredentials = yield* Effect.flip(DeviceCode.make({
        ...options,
        clientSecret: Redacted.make("s"),
        clientAssertion: Effect.succeed(Redacted.make("jwt"))
      }))
      assert.strictEqual(twoCredentials.field, "clientAssertion")
      const emptySecret = yield* Effect.flip(DeviceCode.make({ ...options, clientSecret: Redacted.make("") }))
      assert.strictEqual(emptySecret.field, "clientSecret")
      const noClient = yield* Effect.flip(DeviceCode.make({ ...options, clientId: " " }))
      assert.strictEqual(noClient.field, "clientId")
      const noScope = yield* Effect.flip((yield* DeviceCode.make(options)).start([]))
      assert.strictEqual(noScope._tag, "InvalidOptionError")
      assert.strictEqual(entra.requests.length, 0)
    }).pipe(Effect.provide(layer))
  })
})

describe("DeviceCode: the grant is device_code", () => {
  const requests = (grantType: string, outcome: string) =>
    Metric.value(
      CredentialMetrics.tokenRequests.pipe(Metric.tagged("grant_type", grantType), Metric.tagged("outcome", outcome))
    ).pipe(Effect.map((state) => state.count))

  it.effect("polls count as device_code in metrics, and the sign-in's spans say device_code", () => {
    const { entra, layer } = setup()
    return Effect.gen(function*() {
      const observed = Observe.make()
      const before = {
        pending: yield* requests("device_code", "authorization_pending"),
        ok: yield* requests("device_code", "success"),
        code: yield* requests("authorization_code", "authorization_pending")
      }
      entra.script.push(deviceAnswer({ interval: 1 }), pollError("authorization_pending", 70016), yield* tokens(1))
      yield* settle((yield* DeviceCode.make(options)).signIn(scope, () => Effect.void)).pipe(
        Observe.observe(observed)
      )
      assert.strictEqual((yield* requests("device_code", "authorization_pending")) - before.pending, 1)
      assert.strictEqual((yield* requests("device_code", "success")) - before.ok, 1)
      assert.strictEqual((yield* requests("authorization_code", "authorization_pending")) - before.code, 0)
      const grantOf = (name: string) =>
        observed.spans.filter((span) => span.name === name).map((span) => span.attributes.get("entra.grant_type"))
      assert.deepStrictEqual(grantOf("DeviceCode.await"), ["device_code"])
      assert.deepStrictEqual(grantOf("RedeemCode"), ["device_code"])
    }).pipe(Effect.provide(layer))
  })

  it.effect("a 200 without a token is never resent: the device code is spent by it", () => {
    const { entra, layer, polls } = setup()
    return Effect.gen(function*() {
      entra.script.push(deviceAnswer({ interval: 1 }), respond(200, { token_type: "Bearer" }), yield* tokens(1))
      const error = yield* Effect.flip(settle((yield* DeviceCode.make(options)).signIn(scope, () => Effect.void)))
      assert.strictEqual(error._tag, "AuthenticationError")
      if (error._tag !== "AuthenticationError") return
      assert.strictEqual(error.reason, "InvalidResponse")
      assert.strictEqual(error.grantType, "device_code")
      assert.strictEqual(polls().length, 1)
    }).pipe(Effect.provide(layer))
  })

  it.effect("the token exchange itself blanks the device code out of an error's texts", () => {
    const { entra } = setup()
    return Effect.gen(function*() {
      const settings = Either.getOrThrow(resolveHttpOptions({ maxAttempts: 1 }))
      const exchange = makeExchange(entra.client, settings, makeRetrySchedule(settings))
      entra.script.push(pollError("invalid_request", 90014, `The device_code ${deviceCode} is malformed.`))
      const error = yield* Effect.flip(exchange("device_code", { authority, tenantId, clientId, scopes: [scope] }, {
        client_id: clientId,
        grant_type: deviceGrant,
        device_code: deviceCode
      }))
      assert.strictEqual(error.grantType, "device_code")
      assert.include(error.message, "malformed")
      for (const text of [error.message, inspect(error, { depth: 10 }), JSON.stringify(error), error.body ?? ""]) {
        assert.notInclude(text, deviceCode)
      }
    })
  })
})
