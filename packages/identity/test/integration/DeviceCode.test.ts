/**
 * The device-code flow against the emulator over TLS: the test plays the user on the emulator's device page
 * (enter the code, pick the account, accept or decline) with HTTP requests, while the flow polls. Both clocks move
 * together (the TestClock for the polls, the emulator's offset for its `slow_down` and expiry rules).
 */
import type { EmulatorService } from "@effect-entra/emulator"
import { Emulator } from "@effect-entra/emulator"
import { HttpClient, HttpClientRequest } from "@effect/platform"
import { assert, describe, layer } from "@effect/vitest"
import { Effect, Fiber, Option, Redacted, TestClock } from "effect"
import * as AuthorizationCodeCredential from "../../src/AuthorizationCodeCredential.js"
import * as DeviceCode from "../../src/DeviceCode.js"
import * as TokenCache from "../../src/TokenCache.js"
import * as E from "./fixtures/Emulated.js"

const deviceGrant = "urn:ietf:params:oauth:grant-type:device_code"
// The emulator issues tokens for 3599 s.
const lifetimeMs = 3_599_000
const turn = Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))

const options = (emulator: EmulatorService): DeviceCode.Options => ({
  tenantId: emulator.defaults.tenantId,
  clientId: emulator.defaults.publicClientId,
  authority: emulator.authority,
  http: E.fastHttp
})

/** Resets the emulator and sets the TestClock to the wall clock (the ID token is validated against it). */
const fresh = Effect.gen(function*() {
  const emulator = yield* Emulator
  yield* emulator.reset()
  yield* TestClock.setTime(Date.now())
  return emulator
})

const devicePolls = Effect.map(E.tokenRequests, (log) => log.filter((entry) => entry.grantType === deviceGrant))

/** Moves both clocks a second at a time until `done` holds (at most `maxSeconds`). */
const advanceUntil = (done: Effect.Effect<boolean, never, Emulator>, maxSeconds = 120) =>
  Effect.gen(function*() {
    for (let i = 0; i < maxSeconds && !(yield* done); i++) {
      yield* turn
      yield* E.advance(1_000)
    }
  })

/** Runs `effect` to its end, moving both clocks a second at a time. */
const settle = <A, E2, R>(effect: Effect.Effect<A, E2, R>) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(effect)
    yield* advanceUntil(Effect.map(Fiber.poll(fiber), Option.isSome), 900)
    return yield* Fiber.join(fiber)
  })

/** What the user does on the device page: enter the code, pick the account, then accept or decline. */
const onDevicePage = (userCode: string, action: "accept" | "cancel", username = "alice@contoso.example") =>
  Effect.gen(function*() {
    const emulator = yield* Emulator
    const http = yield* HttpClient.HttpClient
    const post = (form: Record<string, string>) =>
      http.execute(
        HttpClientRequest.post(`${emulator.authority}/devicelogin`).pipe(HttpClientRequest.bodyUrlParams(form))
      ).pipe(Effect.flatMap((response) => response.text), Effect.orDie)
    assert.include(yield* post({ emu_step: "code", otc: userCode }), `data-username="${username}"`)
    assert.include(yield* post({ emu_step: "signin", otc: userCode, emu_pick: username }), "id=\"accept\"")
    const done = yield* post({ emu_step: "consent", otc: userCode, emu_user: username, emu_action: action })
    assert.include(done, `data-result="${action === "accept" ? "approved" : "declined"}"`)
  })

layer(E.EmulatorLive)("DeviceCode against the emulator", (it) => {
  describe("sign-in", () => {
    it.effect("pending until the user accepts on the device page; then token from the cache and a refresh", () =>
      E.withCredentialDeps(Effect.gen(function*() {
        const emulator = yield* fresh
        const flow = yield* DeviceCode.make(options(emulator))
        const pending = yield* flow.start(emulator.defaults.scope)
        assert.strictEqual(pending.info.verificationUri, `${emulator.authority}/devicelogin`)
        assert.include(pending.info.message, pending.info.userCode)
        assert.strictEqual(pending.info.interval, 5)
        assert.strictEqual(pending.info.expiresIn, 900)

        const fiber = yield* Effect.fork(pending.await)
        yield* advanceUntil(Effect.map(devicePolls, (polls) => polls.length === 1))
        assert.strictEqual((yield* devicePolls)[0]!.error, "authorization_pending")
        yield* onDevicePage(pending.info.userCode, "accept")
        const signIn = yield* settle(Fiber.join(fiber))
        assert.strictEqual(signIn.account.username, "alice@contoso.example")
        assert.deepStrictEqual((yield* devicePolls).map((entry) => entry.status), [400, 200])
        // The ID token was validated against the tenant's published keys.
        assert.strictEqual((yield* Effect.orDie(emulator.requests({ endpoint: "keys" }))).length, 1)

        // The account is in the cache as after a browser sign-in: the resumed credential serves and refreshes.
        const credential = yield* AuthorizationCodeCredential.make({
          tenantId: emulator.defaults.tenantId,
          clientId: emulator.defaults.publicClientId,
          authority: emulator.authority,
          redirectUri: emulator.defaults.redirectUri,
          homeAccountId: signIn.account.homeAccountId,
          validateIdToken: false,
          http: E.fastHttp
        })
        const cached = yield* credential.getToken(emulator.defaults.scope)
        assert.strictEqual(E.tokenOf(cached), E.tokenOf(signIn.accessToken))
        yield* E.advance(lifetimeMs + 1_000)
        const renewed = yield* credential.getToken(emulator.defaults.scope)
        assert.notStrictEqual(E.tokenOf(renewed), E.tokenOf(cached))
        assert.deepStrictEqual(yield* E.countTokenRequests, { [deviceGrant]: 2, refresh_token: 1 })
        const [account] = yield* (yield* TokenCache.TokenCache).listAccounts
        assert.strictEqual(account?.username, "alice@contoso.example")
      })))

    it.effect("a confidential client sends its secret with every poll", () =>
      E.withCredentialDeps(Effect.gen(function*() {
        const emulator = yield* fresh
        const flow = yield* DeviceCode.make({
          ...options(emulator),
          clientId: emulator.defaults.clientId,
          clientSecret: Redacted.make(emulator.defaults.clientSecret)
        })
        const pending = yield* flow.start(emulator.defaults.scope)
        yield* onDevicePage(pending.info.userCode, "accept")
        const signIn = yield* settle(pending.await)
        assert.strictEqual(signIn.account.username, "alice@contoso.example")
        const polls = yield* devicePolls
        assert.deepStrictEqual(polls.map((entry) => [entry.status, entry.hasClientSecret]), [[200, true]])
      })))
  })

  describe("failures", () => {
    it.effect("declining on the device page is authorization_declined, and nothing is cached", () =>
      E.withCredentialDeps(Effect.gen(function*() {
        const emulator = yield* fresh
        const pending = yield* (yield* DeviceCode.make(options(emulator))).start(emulator.defaults.scope)
        yield* onDevicePage(pending.info.userCode, "cancel", "bob@contoso.example")
        const error = yield* Effect.flip(settle(pending.await))
        assert.strictEqual(error.errorResponse.error, "authorization_declined")
        assert.strictEqual(error.aadstsCode, 65004)
        assert.strictEqual(error.statusCode, 400)
        assert.deepStrictEqual(yield* (yield* TokenCache.TokenCache).listAccounts, [])
      })))

    it.effect("a code the emulator has expired is expired_token, with Entra's AADSTS70019", () =>
      E.withCredentialDeps(Effect.gen(function*() {
        const emulator = yield* fresh
        const pending = yield* (yield* DeviceCode.make(options(emulator))).start(emulator.defaults.scope)
        // Only the emulator's clock: it says so before this process would notice.
        yield* Effect.orDie(emulator.advanceTime(901_000))
        const error = yield* Effect.flip(settle(pending.await))
        assert.strictEqual(error.reason, "ErrorResponse")
        assert.strictEqual(error.errorResponse.error, "expired_token")
        assert.strictEqual(error.aadstsCode, 70019)
        assert.strictEqual((yield* devicePolls).length, 1)
      })))
  })
})
