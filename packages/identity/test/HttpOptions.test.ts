import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Redacted, Schedule, TestClock } from "effect"
import * as NodeHttp from "../src/NodeHttp.js"
import * as TokenEndpoint from "../src/TokenEndpoint.js"
import * as ScriptedEntra from "./fixtures/ScriptedEntra.js"

const refresh: TokenEndpoint.RefreshRequest = {
  authority: "https://login.example",
  tenantId: "home-tenant",
  clientId: "client-1",
  scopes: ["api://demo/.default"],
  refreshToken: Redacted.make("rt-scripted")
}
const unavailable: ScriptedEntra.Scripted = { _tag: "Respond", status: 503, body: "down" }

describe("HTTP options are checked before any request", () => {
  const bad: ReadonlyArray<unknown> = [Number.NaN, -1, Infinity, "-5 seconds", "Infinity", "soon", 1e12]
  for (const field of ["baseDelay", "maxDelay", "maxRetryAfter", "requestTimeout", "deadline"] as const) {
    for (const value of bad) {
      it.effect(`${field}: ${String(value)} is an InvalidOptionError`, () =>
        Effect.gen(function*() {
          const entra = ScriptedEntra.make()
          const error = yield* Effect.flip(
            TokenEndpoint.make({ [field]: value } as TokenEndpoint.Options).pipe(Effect.provide(entra.layer))
          )
          assert.strictEqual(error._tag, "InvalidOptionError")
          assert.strictEqual(error.field, field)
          assert.strictEqual(entra.requests.length, 0)
        }))
    }
  }
  for (
    const [field, value] of [
      ["maxAttempts", 0],
      ["maxAttempts", 2.5],
      ["maxAttempts", Number.NaN],
      ["maxAttempts", 11],
      ["maxResponseBytes", 10],
      ["maxResponseBytes", Infinity],
      ["retrySchedule", "3 times"]
    ] as const
  ) {
    it.effect(`${field}: ${String(value)} is an InvalidOptionError`, () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(
          TokenEndpoint.make({ [field]: value } as TokenEndpoint.Options).pipe(
            Effect.provide(ScriptedEntra.make().layer)
          )
        )
        assert.strictEqual(error.field, field)
      }))
  }
})

describe("one deadline per token request", () => {
  it.effect("hanging attempts stop at the 60 s default deadline with DeadlineExceeded", () =>
    Effect.gen(function*() {
      const entra = ScriptedEntra.make()
      entra.script.push({ _tag: "Hang" }, { _tag: "Hang" }, { _tag: "Hang" }, { _tag: "Hang" })
      const endpoint = yield* TokenEndpoint.make().pipe(Effect.provide(entra.layer))
      const fiber = yield* Effect.fork(Effect.flip(endpoint.redeemRefreshToken(refresh)))
      yield* TestClock.adjust("10 minutes")
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error.reason, "DeadlineExceeded")
      // 30 s, a back-off of at most 0.8 s, then the rest of the 60 s.
      assert.strictEqual(entra.requests.length, 2)
    }))

  it.effect("a Retry-After that would end past the deadline is not waited for: the 429 is reported", () =>
    Effect.gen(function*() {
      const entra = ScriptedEntra.make()
      const throttled = { _tag: "Respond", status: 429, body: "", headers: { "retry-after": "45" } } as const
      entra.script.push(throttled, throttled)
      const endpoint = yield* TokenEndpoint.make({ deadline: "60 seconds" }).pipe(Effect.provide(entra.layer))
      const fiber = yield* Effect.fork(Effect.flip(endpoint.redeemRefreshToken(refresh)))
      yield* TestClock.adjust("2 minutes")
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error.statusCode, 429)
      assert.strictEqual(error.retryAfterMs, 45_000)
      assert.strictEqual(entra.requests.length, 2)
    }))
})

describe("the retry schedule", () => {
  it.effect("can be replaced: no retries at all", () =>
    Effect.gen(function*() {
      const entra = ScriptedEntra.make()
      entra.script.push(unavailable, unavailable)
      const endpoint = yield* TokenEndpoint.make({ retrySchedule: Schedule.stop }).pipe(Effect.provide(entra.layer))
      const error = yield* Effect.flip(endpoint.redeemRefreshToken(refresh))
      assert.strictEqual(error.statusCode, 503)
      assert.strictEqual(entra.requests.length, 1)
    }))

  it.effect("can be replaced: a fixed spacing, fed the failures it decides on", () =>
    Effect.gen(function*() {
      const entra = ScriptedEntra.make()
      entra.script.push(unavailable, { _tag: "Transport" }, {
        _tag: "Respond",
        status: 200,
        body: JSON.stringify({ token_type: "Bearer", access_token: "at", expires_in: 3600 })
      })
      const seen: Array<string> = []
      const schedule = Schedule.spaced("1 second").pipe(
        Schedule.intersect(Schedule.recurs(5)),
        Schedule.tapInput((failure: TokenEndpoint.RetryableFailure) =>
          Effect.sync(() => seen.push(`${failure.attempt}:${failure.kind}`))
        )
      )
      const endpoint = yield* TokenEndpoint.make({ retrySchedule: schedule }).pipe(Effect.provide(entra.layer))
      const fiber = yield* Effect.fork(endpoint.redeemRefreshToken(refresh))
      yield* TestClock.adjust("1 second")
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(fiber)
      assert.deepStrictEqual(seen, ["1:Status", "2:Transport"])
      assert.strictEqual(entra.requests.length, 3)
    }))

  for (const code of ["UNABLE_TO_VERIFY_LEAF_SIGNATURE", "SELF_SIGNED_CERT_IN_CHAIN", "ERR_TLS_CERT_ALTNAME_INVALID"]) {
    it.effect(`a rejected certificate (${code}) fails at once, not after four attempts`, () =>
      Effect.gen(function*() {
        const entra = ScriptedEntra.make()
        entra.script.push({ _tag: "Transport", code }, { _tag: "Transport", code })
        const endpoint = yield* TokenEndpoint.make().pipe(Effect.provide(entra.layer))
        const error = yield* Effect.flip(endpoint.redeemRefreshToken(refresh))
        assert.strictEqual(error.reason, "Transport")
        assert.strictEqual(error.attempts, 1)
        assert.include(error.message, code)
        assert.strictEqual(entra.requests.length, 1)
      }))
  }

  it.effect("a CA option that is a file path fails the first request at once, saying so", () =>
    Effect.gen(function*() {
      const endpoint = yield* TokenEndpoint.make().pipe(
        Effect.provide(NodeHttp.layer({ ca: "/etc/ssl/certs/proxy-ca.pem" }))
      )
      const error = yield* Effect.flip(endpoint.redeemRefreshToken(refresh))
      assert.strictEqual(error.reason, "Transport")
      assert.strictEqual(error.attempts, 1)
      assert.include(error.message, "looks like a file path")
    }))
})
