import { Emulator } from "@effect-entra/emulator"
import { assert, layer } from "@effect/vitest"
import { Effect, TestClock } from "effect"
import { demo } from "../src/Demo.js"

// `yield* Emulator` (the bare tag, as in earlier versions) and `Emulator.Emulator` are the same tag.
layer(Emulator.layer())("the example service graph against the emulator", (it) => {
  it.effect("ProfileService reads the signed-in user's profile, across a claims challenge", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator
      yield* emulator.reset()
      // The emulator signs its ID tokens at the real time; the credential validates them against the Effect clock.
      yield* TestClock.setTime(Date.now())
      const { afterChallenge, profile } = yield* demo()
      assert.strictEqual(profile.preferred_username, "alice@contoso.example")
      assert.strictEqual(profile.name, "Alice Example")
      assert.strictEqual(profile.tid, emulator.defaults.tenantId)
      assert.deepStrictEqual(afterChallenge, profile)
      // The API answered 200, then challenged the revoked token once; the credential fetched a claims token.
      const resource = yield* emulator.requests({ endpoint: "resource" })
      assert.deepStrictEqual(resource.map((e) => e.status), [200, 401, 200])
      const tokens = yield* emulator.requests({ endpoint: "token" })
      assert.deepStrictEqual(tokens.map((e) => e.grantType), ["authorization_code", "refresh_token"])
      assert.isTrue(tokens[1]!.hasClaims)
    }))

  it.effect("the graph signs whoever signed in", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator
      yield* emulator.reset()
      // The emulator signs its ID tokens at the real time; the credential validates them against the Effect clock.
      yield* TestClock.setTime(Date.now())
      const { profile } = yield* demo("bob@contoso.example")
      assert.strictEqual(profile.name, "Bob Example")
    }))
})
