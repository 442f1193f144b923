import { HttpClient } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Deferred, Effect, Exit, FastCheck, Fiber, Layer, Option, Random, Redacted, TestClock } from "effect"
import * as TokenEndpoint from "../src/TokenEndpoint.js"
import * as ScriptedEntra from "./fixtures/ScriptedEntra.js"

// A real turn of the event loop: the scripted answer's body is read through a web `Response`, which settles
// outside the fiber scheduler.
const turn = Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))

/** The TestClock's pending sleeps, as deadlines in epoch ms. */
const pendingSleeps = Effect.map(TestClock.sleeps(), Chunk.toReadonlyArray)

const ok = (body: Record<string, unknown>): ScriptedEntra.Scripted => ({
  _tag: "Respond",
  status: 200,
  body: JSON.stringify({ token_type: "Bearer", access_token: "at-scripted", ...body })
})
const unavailable: ScriptedEntra.Scripted = { _tag: "Respond", status: 503, body: "<html>down</html>" }

const refreshRequest: TokenEndpoint.RefreshRequest = {
  authority: "https://login.example",
  tenantId: "home-tenant",
  clientId: "client-1",
  scopes: ["api://demo/user_impersonation"],
  refreshToken: Redacted.make("rt-scripted")
}

const endpointFor = (entra: ScriptedEntra.ScriptedEntra, options?: TokenEndpoint.Options) =>
  TokenEndpoint.make(options).pipe(Effect.orDie, Effect.provide(entra.layer))

// The per-attempt time-out (and so the deadline, which defaults to it when longer) is a sleep on the TestClock
// too, and stays listed after the attempt ends: make it
// long enough to tell apart from the back-off.
const timeoutMs = 600_000

/** Waits (real turns, clock still) until the retry loop sleeps, and returns when it will wake. */
const awaitBackoff = Effect.gen(function*() {
  const now = yield* TestClock.currentTimeMillis
  let backoff: ReadonlyArray<number> = []
  for (let i = 0; i < 200 && backoff.length === 0; i++) {
    yield* turn
    backoff = (yield* pendingSleeps).filter((deadline) => deadline > now && deadline < timeoutMs)
  }
  assert.strictEqual(backoff.length, 1, "exactly one pending back-off")
  return backoff[0]
})

/** Starts a refresh and waits until its first attempt has been answered and the retry is sleeping. */
const startAndAwaitRetry = (entra: ScriptedEntra.ScriptedEntra, options: TokenEndpoint.Options = {}) =>
  Effect.gen(function*() {
    const endpoint = yield* endpointFor(entra, { requestTimeout: timeoutMs, ...options })
    const fiber = yield* Effect.fork(endpoint.redeemRefreshToken(refreshRequest))
    const deadline = yield* awaitBackoff
    assert.strictEqual(entra.requests.length, 1)
    return { fiber, deadline }
  })

/** Moves the clock to `at` (epoch ms) and lets whatever was due run. */
const advanceTo = (at: number) =>
  Effect.gen(function*() {
    yield* TestClock.setTime(at)
    yield* turn
    yield* turn
  })

describe("TokenEndpoint expiry", () => {
  const expiryOf = (scripted: ScriptedEntra.Scripted) =>
    Effect.gen(function*() {
      const entra = ScriptedEntra.make()
      entra.script.push(scripted)
      yield* TestClock.setTime(1_000_000)
      // One attempt: an unusable 200 to a refresh would otherwise be retried.
      const endpoint = yield* endpointFor(entra, { maxAttempts: 1 })
      return yield* endpoint.redeemRefreshToken(refreshRequest)
    })

  it.effect("expires_on (epoch seconds) sets the expiry, and wins over expires_in", () =>
    Effect.gen(function*() {
      const response = yield* expiryOf(ok({ expires_on: 1_900_000, expires_in: 3600 }))
      assert.strictEqual(response.expiresOn, 1_900_000_000)
      assert.strictEqual(response.requestedOn, 1_000_000)
    }))

  it.effect("expires_on sent as a string (v1 endpoints, proxies) is read as a number", () =>
    Effect.gen(function*() {
      const response = yield* expiryOf(ok({ expires_on: "1900000" }))
      assert.strictEqual(response.expiresOn, 1_900_000_000)
    }))

  it.effect("expires_in counts from when the request was sent", () =>
    Effect.gen(function*() {
      const response = yield* expiryOf(ok({ expires_in: "3600", refresh_in: 1800 }))
      assert.strictEqual(response.expiresOn, 1_000_000 + 3_600_000)
      assert.strictEqual(response.refreshOn, 1_000_000 + 1_800_000)
    }))

  it.effect("a response with no expiry at all is an InvalidResponse, not a token", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(expiryOf(ok({})))
      assert.strictEqual(error.reason, "InvalidResponse")
      assert.strictEqual(error.statusCode, 200)
      assert.include(error.message, "neither expires_in nor expires_on")
      assert.notInclude(error.body ?? "", "at-scripted")
    }))

  it.effect("a zero or negative expiry counts as none", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(expiryOf(ok({ expires_in: 0, expires_on: -5 })))
      assert.strictEqual(error.reason, "InvalidResponse")
    }))
})

describe("TokenEndpoint back-off", () => {
  // The first back-off is the base delay (800 ms) times a jitter factor in [0.5, 1]: 400 to 800 ms.
  it.effect("the first retry is never sent before half the base delay", () =>
    Effect.gen(function*() {
      const entra = ScriptedEntra.make()
      entra.script.push(unavailable, ok({ expires_in: 3600 }))
      const { deadline, fiber } = yield* startAndAwaitRetry(entra)
      assert.strictEqual(deadline, 400)
      yield* advanceTo(399)
      assert.strictEqual(entra.requests.length, 1, "nothing sent before the minimum back-off")
      yield* advanceTo(400)
      yield* Fiber.join(fiber)
      assert.strictEqual(entra.requests.length, 2)
    }).pipe(Effect.withRandom(Random.fixed([0]))))

  it.effect("the first retry is sent by the full base delay at the latest", () =>
    Effect.gen(function*() {
      const entra = ScriptedEntra.make()
      entra.script.push(unavailable, ok({ expires_in: 3600 }))
      const { deadline, fiber } = yield* startAndAwaitRetry(entra)
      assert.strictEqual(deadline, 800)
      yield* advanceTo(799)
      assert.strictEqual(entra.requests.length, 1)
      yield* advanceTo(800)
      yield* Fiber.join(fiber)
      assert.strictEqual(entra.requests.length, 2)
    }).pipe(Effect.withRandom(Random.fixed([0.9999999]))))

  it.effect.prop(
    "whatever the jitter, the first retry falls between 50% and 100% of the base delay",
    { jitter: FastCheck.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }) },
    ({ jitter }) =>
      Effect.gen(function*() {
        const entra = ScriptedEntra.make()
        entra.script.push(unavailable, ok({ expires_in: 3600 }))
        const { deadline, fiber } = yield* startAndAwaitRetry(entra, { baseDelay: "1 second" })
        assert.isAtLeast(deadline, 500)
        assert.isAtMost(deadline, 1000)
        yield* advanceTo(deadline - 1)
        assert.strictEqual(entra.requests.length, 1)
        yield* advanceTo(1000)
        yield* Fiber.join(fiber)
        assert.strictEqual(entra.requests.length, 2)
      }).pipe(Effect.withRandom(Random.fixed([jitter]))),
    { fastCheck: { numRuns: 20 } }
  )

  it.effect("each retry doubles the delay, capped at maxDelay", () =>
    Effect.gen(function*() {
      const entra = ScriptedEntra.make()
      entra.script.push(unavailable, unavailable, unavailable, ok({ expires_in: 3600 }))
      const { deadline, fiber } = yield* startAndAwaitRetry(entra, { maxDelay: "2 seconds" })
      // With the lowest jitter (×0.5): 800 ms → 400, 1600 ms → 800, then min(3200, 2000) ms → 1000.
      assert.strictEqual(deadline, 400)
      yield* advanceTo(400)
      assert.strictEqual(yield* awaitBackoff, 400 + 800)
      yield* advanceTo(400 + 799)
      assert.strictEqual(entra.requests.length, 2)
      yield* advanceTo(400 + 800)
      assert.strictEqual(yield* awaitBackoff, 1200 + 1000)
      yield* advanceTo(1200 + 999)
      assert.strictEqual(entra.requests.length, 3)
      yield* advanceTo(1200 + 1000)
      yield* Fiber.join(fiber)
      assert.strictEqual(entra.requests.length, 4)
    }).pipe(Effect.withRandom(Random.fixed([0]))))

  const retryAfterCases: ReadonlyArray<[string, Record<string, string>, number]> = [
    ["Retry-After in seconds", { "retry-after": "7" }, 7000],
    ["retry-after-ms", { "retry-after-ms": "1500" }, 1500],
    ["x-ms-retry-after-ms", { "x-ms-retry-after-ms": "2500" }, 2500],
    ["Retry-After as an HTTP date", { "retry-after": new Date(5000).toUTCString() }, 5000]
  ]
  for (const [name, headers, wait] of retryAfterCases) {
    it.effect(`${name}: nothing is sent before it elapses, and no jitter shortens it`, () =>
      Effect.gen(function*() {
        const entra = ScriptedEntra.make()
        entra.script.push({ _tag: "Respond", status: 429, body: "", headers }, ok({ expires_in: 3600 }))
        const { deadline, fiber } = yield* startAndAwaitRetry(entra)
        assert.strictEqual(deadline, wait)
        yield* advanceTo(wait - 1)
        assert.strictEqual(entra.requests.length, 1)
        assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)))
        yield* advanceTo(wait)
        const exit = yield* Fiber.await(fiber)
        assert.isTrue(Exit.isSuccess(exit))
        assert.strictEqual(entra.requests.length, 2)
      }).pipe(Effect.withRandom(Random.fixed([0]))))
  }
})

describe("TokenEndpoint: an unusable 200", () => {
  const noExpiry = ok({})
  it.effect("to a refresh is retried (the refresh token may be sent again)", () =>
    Effect.gen(function*() {
      const entra = ScriptedEntra.make()
      entra.script.push(noExpiry, ok({ expires_in: 3600 }))
      const endpoint = yield* endpointFor(entra, { baseDelay: "10 millis", maxDelay: "10 millis" })
      const fiber = yield* Effect.fork(endpoint.redeemRefreshToken(refreshRequest))
      for (let i = 0; i < 20 && entra.requests.length < 2; i++) {
        yield* Effect.promise(() => new Promise((resolve) => setImmediate(resolve)))
        yield* TestClock.adjust("10 millis")
      }
      const response = yield* Fiber.join(fiber)
      assert.strictEqual(Redacted.value(response.accessToken), "at-scripted")
      assert.strictEqual(entra.requests.length, 2)
    }))

  it.effect("to a code is not retried (that 200 has spent the code)", () =>
    Effect.gen(function*() {
      const entra = ScriptedEntra.make()
      entra.script.push(noExpiry, ok({ expires_in: 3600 }))
      const endpoint = yield* endpointFor(entra)
      const error = yield* Effect.flip(endpoint.redeemCode({
        ...refreshRequest,
        code: Redacted.make("code-1"),
        redirectUri: "http://localhost/callback",
        codeVerifier: undefined
      }))
      assert.strictEqual(error.reason, "InvalidResponse")
      assert.strictEqual(entra.requests.length, 1)
    }))
})

describe("TokenEndpoint: the time-out of an attempt on the live clock", () => {
  // A token endpoint that never answers and records what happens to each request it holds.
  const hanging = () => {
    const held = { started: 0, interrupted: 0 }
    const started = Effect.runSync(Deferred.make<void>())
    const client = HttpClient.make(() =>
      Effect.zipRight(
        Effect.sync(() => held.started++).pipe(Effect.zipRight(Deferred.succeed(started, undefined))),
        Effect.never
      ).pipe(Effect.onInterrupt(() => Effect.sync(() => held.interrupted++)))
    )
    return { held, started, layer: Layer.succeed(HttpClient.HttpClient, client) }
  }

  it.live("an attempt that does not answer in time is a Timeout, and its request is interrupted", () =>
    Effect.gen(function*() {
      const entra = hanging()
      const endpoint = yield* TokenEndpoint.make({ requestTimeout: "50 millis", maxAttempts: 1 }).pipe(
        Effect.provide(entra.layer)
      )
      const error = yield* Effect.flip(endpoint.redeemRefreshToken(refreshRequest))
      assert.strictEqual(error.reason, "Timeout")
      assert.strictEqual(error.errorResponse.errorDescription, "The token request timed out after 50 ms")
      assert.deepStrictEqual(entra.held, { started: 1, interrupted: 1 })
    }))

  it.live("interrupting the caller interrupts the request in flight", () =>
    Effect.gen(function*() {
      const entra = hanging()
      const endpoint = yield* TokenEndpoint.make().pipe(Effect.provide(entra.layer))
      const fiber = yield* Effect.fork(endpoint.redeemRefreshToken(refreshRequest))
      yield* Deferred.await(entra.started)
      yield* Fiber.interrupt(fiber)
      assert.deepStrictEqual(entra.held, { started: 1, interrupted: 1 })
    }))
})
