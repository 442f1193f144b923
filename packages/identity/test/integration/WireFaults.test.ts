import { assert, describe, layer } from "@effect/vitest"
import { Effect } from "effect"
import type { AuthenticationError, InvalidOptionError } from "../../src/AuthenticationError.js"
import * as E from "./fixtures/Emulated.js"

const authError = (error: AuthenticationError | InvalidOptionError): AuthenticationError => {
  assert.strictEqual(error._tag, "AuthenticationError")
  return error as AuthenticationError
}

// Real TLS, the live clock: the emulator writes an endless body as fast as the socket takes it.
layer(E.EmulatorLive, { excludeTestServices: true, timeout: "60 seconds" })(
  "hostile answers from the emulator",
  (it) => {
    describe("bounded bodies", () => {
      it.effect("an endless 200 fails with ResponseTooLarge on the first attempt, long before the time-out", () =>
        E.withCredentialDeps(Effect.gen(function*() {
          const { credential, emulator, secrets } = yield* E.setup({
            http: { ...E.fastHttp, requestTimeout: "30 seconds" }
          })
          yield* emulator.injectFault({ endpoint: "token", kind: "endless", times: 5 })
          const error = authError(yield* Effect.flip(credential.getToken(emulator.defaults.scope)))
          assert.strictEqual(error.reason, "ResponseTooLarge")
          assert.strictEqual(error.attempts, 1)
          E.assertNoSecret(error, secrets)
          assert.strictEqual((yield* E.tokenRequests).length, 1)
        })))
    })

    describe("numbers from the wire", () => {
      for (const variant of ["infinity", "nan", "huge", "negative", "fractional", "null", "epoch"] as const) {
        it.effect(`${variant}: an InvalidResponse, and nothing is cached`, () =>
          E.withCredentialDeps(Effect.gen(function*() {
            const { credential, emulator } = yield* E.setup()
            yield* emulator.injectFault({ endpoint: "token", kind: "numbers", variant })
            const error = authError(yield* Effect.flip(credential.getToken(emulator.defaults.scope)))
            assert.strictEqual(error.reason, "InvalidResponse")
            assert.strictEqual(error.statusCode, 200)
            if (variant === "epoch") assert.include(error.message, "expired on arrival")
            assert.isUndefined(credential.unsafeCachedToken(emulator.defaults.scope))
          })))
      }
    })
  }
)
