import { assert, describe, it } from "@effect/vitest"
import { Effect, FastCheck, Redacted, TestClock } from "effect"
import { inspect } from "node:util"
import * as TokenCache from "../src/TokenCache.js"
import * as Observe from "./fixtures/Observe.js"
import * as Reachable from "./fixtures/Reachable.js"
import * as ScriptedEntra from "./fixtures/ScriptedEntra.js"
import * as Time from "./fixtures/Time.js"

const secret = FastCheck.stringMatching(/^[A-Za-z0-9]{20,40}$/)
const scope = "api://demo/user_impersonation"

describe("secrets", () => {
  it.effect.prop(
    "no secret appears in logs, spans, errors or inspected objects on any path",
    { clientSecret: secret, code: secret, verifier: FastCheck.stringMatching(/^[A-Za-z0-9]{43,60}$/), salt: secret },
    ({ clientSecret, code, salt, verifier }) =>
      Effect.gen(function*() {
        const observed = Observe.make()
        const errors: Array<unknown> = []
        const entra = ScriptedEntra.make()
        entra.settings.tokenSalt = salt
        entra.issueCode(ScriptedEntra.alice, { code })
        yield* Effect.gen(function*() {
          const credential = yield* ScriptedEntra.credential(entra, code, {
            clientSecret: Redacted.make(clientSecret),
            codeVerifier: Redacted.make(verifier)
          })
          const record = <A, E>(effect: Effect.Effect<A, E>) =>
            Effect.catchAll(effect, (error) => Effect.sync(() => void errors.push(error)))
          // Retries (429, transport, 503) then a successful redemption.
          entra.script.push(
            { _tag: "Respond", status: 429, body: "Too Many Requests", headers: { "retry-after": "1" } },
            { _tag: "Transport" },
            { _tag: "Respond", status: 503, body: "<html>down</html>" }
          )
          const token = yield* Time.settle(credential.getToken(scope))
          errors.push(token)
          // Cached, claims, CAE, another tenant refused, bad input.
          yield* credential.getToken(scope)
          yield* credential.getToken(scope, { claims: "{\"access_token\":{\"acrs\":{\"value\":\"c1\"}}}" })
          yield* credential.getToken(scope, { enableCae: true })
          yield* record(credential.getToken(scope, { tenantId: "elsewhere" }))
          yield* record(credential.getToken([]))
          // A 200 that leaks a refresh token but lacks an access token, an OAuth error, an HTML page.
          entra.script.push({
            _tag: "Respond",
            status: 200,
            body: JSON.stringify({ refresh_token: `leak${salt}`, expires_in: 3600 })
          })
          yield* record(credential.getToken("other/one"))
          entra.script.push({
            _tag: "Respond",
            status: 400,
            body: ScriptedEntra.errorBody("invalid_grant", 70008, "The refresh token has expired.")
          })
          yield* record(credential.getToken("other/two"))
          // A failed proactive refresh (logs a warning) and an expired-token refresh that fails.
          yield* TestClock.adjust("56 minutes")
          entra.script.push({ _tag: "Respond", status: 500, body: "{}" }, { _tag: "Respond", status: 500, body: "{}" })
          entra.script.push({ _tag: "Respond", status: 500, body: "{}" }, { _tag: "Respond", status: 500, body: "{}" })
          yield* Time.settle(credential.getToken(scope))
          errors.push(credential)
        }).pipe(Observe.observe(observed), Effect.provide(TokenCache.layerMemory), Effect.scoped)

        assert.isAtLeast(errors.length, 5)
        const shown = [
          observed.text(),
          yield* Observe.metricsText,
          ...errors.flatMap((error) => [
            String(error),
            (error as Error).message ?? "",
            JSON.stringify(error),
            inspect(error, { depth: 20 }),
            // Not only what is printed: everything reachable from the object (bytes of a request body included).
            ...Reachable.strings(error)
          ])
        ].join("\n")
        assert.isTrue(observed.logs.some((line) => line.startsWith("WARN")), "the proactive failure was logged")
        for (const value of [clientSecret, code, verifier, salt]) {
          assert.notInclude(shown, value)
        }
      }),
    { fastCheck: { numRuns: 15 } }
  )
})
