/**
 * A token request on NodeHttp's own pool goes to undici directly (not through the platform HttpClient): it is still
 * traced like one when a tracer records spans, and under Effect's native tracer it leaves a caller's span alone.
 */
import { Emulator } from "@effect-entra/emulator"
import { assert, layer } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import type { Tracer } from "effect"
import * as TokenEndpoint from "../../src/TokenEndpoint.js"
import * as Observe from "../fixtures/Observe.js"
import * as E from "./fixtures/Emulated.js"

const redeem = Effect.gen(function*() {
  const emulator = yield* Emulator
  const { code } = yield* Effect.orDie(emulator.signIn({}))
  const endpoint = yield* Effect.orDie(TokenEndpoint.make())
  return yield* endpoint.redeemCode({
    authority: emulator.authority,
    tenantId: emulator.defaults.tenantId,
    clientId: emulator.defaults.clientId,
    clientSecret: Redacted.make(emulator.defaults.clientSecret),
    scopes: ["User.Read"],
    code: Redacted.make(code),
    redirectUri: emulator.defaults.redirectUri
  })
})

const attributesOf = (spans: ReadonlyArray<Tracer.Span>, name: string) =>
  spans.filter((span) => span.name === name).map((span) => Object.fromEntries(span.attributes))

layer(E.EmulatorLive, { excludeTestServices: true })("the token exchange on NodeHttp's own pool", (it) => {
  it.effect("a recording tracer sees TokenEndpoint.redeemCode and, inside it, an http.client POST span", () =>
    Effect.gen(function*() {
      const observed = Observe.make()
      const emulator = yield* Emulator
      const response = yield* redeem.pipe(Observe.observe(observed), Effect.provide(E.HttpLive))
      assert.isTrue(Redacted.value(response.accessToken).length > 0)
      const [redeemSpan] = attributesOf(observed.spans, "TokenEndpoint.redeemCode")
      assert.strictEqual(redeemSpan["entra.grant_type"], "authorization_code")
      assert.strictEqual(redeemSpan["http.response.status_code"], 200)
      const [http] = attributesOf(observed.spans, "http.client POST")
      assert.strictEqual(http["http.request.method"], "POST")
      assert.strictEqual(http["http.response.status_code"], 200)
      assert.strictEqual(http["url.full"], `${emulator.authority}/${emulator.defaults.tenantId}/oauth2/v2.0/token`)
      const parent = observed.spans.find((span) => span.name === "http.client POST")!.parent
      assert.strictEqual(
        parent._tag === "Some" && parent.value._tag === "Span" ? parent.value.name : "",
        "TokenEndpoint.redeemCode"
      )
      // Nothing secret in the span: the grant is in the body, which is never recorded.
      assert.notInclude(observed.text(), emulator.defaults.clientSecret)
    }))

  it.effect("under Effect's native tracer, the exchange's attributes do not land on the caller's span", () =>
    Effect.gen(function*() {
      const caller = yield* Effect.withSpan(
        Effect.zipRight(redeem.pipe(Effect.provide(E.HttpLive)), Effect.currentSpan),
        "caller"
      )
      assert.deepStrictEqual([...caller.attributes.keys()], [])
    }))
})
