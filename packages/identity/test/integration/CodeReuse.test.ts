/**
 * What a new user hits when a code meets an error or a layer is built twice: only errors that spend the code end
 * it, and building a credential again from options whose code was already redeemed is a typed error, not a defect.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Effect, Exit, Layer, Redacted } from "effect"
import type { AuthenticationError } from "../../src/AuthenticationError.js"
import * as AuthorizationCodeCredential from "../../src/AuthorizationCodeCredential.js"
import * as TokenCredential from "../../src/TokenCredential.js"
import * as E from "./fixtures/Emulated.js"

layer(E.EmulatorLive)("an authorization code across errors and rebuilds", (it) => {
  describe("errors that do not spend the code", () => {
    it.effect("a mistyped scope fails on its own; the code still redeems for a good scope", () =>
      E.withCredentialDeps(Effect.gen(function*() {
        const { credential, emulator } = yield* E.setup()
        const error = yield* Effect.flip(credential.getToken("api://no-such-app/.default"))
        assert.strictEqual(error._tag, "AuthenticationError")
        assert.strictEqual((error as AuthenticationError).reason, "ErrorResponse")
        const token = yield* credential.getToken(emulator.defaults.scope)
        assert.isString(E.tokenOf(token))
        const log = yield* E.tokenRequests
        assert.deepStrictEqual(log.map((entry) => entry.status), [log[0]!.status, 200])
        assert.isAtLeast(log[0]!.status, 400)
      })))

    it.effect("a wrong secret is reported by every call, each with its own answer, not as 'sign in again'", () =>
      E.withCredentialDeps(Effect.gen(function*() {
        const { credential, emulator } = yield* E.setup({
          clientSecret: Redacted.make("wrong~Secret.not-the-emulator-one_0123456789")
        })
        for (let i = 0; i < 2; i++) {
          const error = (yield* Effect.flip(credential.getToken(emulator.defaults.scope))) as AuthenticationError
          assert.strictEqual(error.reason, "ErrorResponse")
          assert.strictEqual(error.aadstsCode, 7000215)
        }
        assert.deepStrictEqual(yield* E.countTokenRequests, { authorization_code: 2 })
      })))

    it.effect("an expired code (invalid_grant) spends it: the next call asks for a new sign-in without a request", () =>
      E.withCredentialDeps(Effect.gen(function*() {
        const { credential, emulator } = yield* E.setup()
        yield* E.advance(11 * 60 * 1000)
        const first = (yield* Effect.flip(credential.getToken(emulator.defaults.scope))) as AuthenticationError
        assert.strictEqual(first.errorResponse.error, "invalid_grant")
        const again = (yield* Effect.flip(credential.getToken(emulator.defaults.scope))) as AuthenticationError
        assert.strictEqual(again.reason, "ReauthenticationRequired")
        assert.deepStrictEqual(yield* E.countTokenRequests, { authorization_code: 1 })
      })))
  })

  describe("building the layer twice", () => {
    it.effect("the second build from the same options fails with a typed error naming the cause", () =>
      Effect.gen(function*() {
        const { code, emulator } = yield* E.setup().pipe(Effect.provide(E.CredentialDeps), Effect.scoped)
        const CredentialLive = AuthorizationCodeCredential.layer({
          ...E.appOptions(emulator),
          authorizationCode: Redacted.make(code)
        }).pipe(Layer.provide(E.CredentialDeps))
        // The docs' tempting pattern: a provide per call, so the layer is built for each call.
        const call = TokenCredential.getToken(emulator.defaults.scope).pipe(Effect.provide(CredentialLive))
        yield* call
        const second = yield* Effect.exit(call)
        assert.isTrue(Exit.isFailure(second))
        if (Exit.isSuccess(second)) return
        const failure = second.cause._tag === "Fail" ? second.cause.error : undefined
        assert.strictEqual(failure?._tag, "InvalidOptionError", String(second.cause))
        if (failure?._tag === "InvalidOptionError") {
          assert.strictEqual(failure.field, "authorizationCode")
          assert.match(failure.message, /already redeemed/)
          assert.match(failure.message, /build the credential layer once/)
        }
        // Nothing was sent for the second build.
        assert.deepStrictEqual(yield* E.countTokenRequests, { authorization_code: 1 })
      }))
  })
})
