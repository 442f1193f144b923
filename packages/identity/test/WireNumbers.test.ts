import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, FastCheck as fc, Redacted, Schedule, TestClock } from "effect"
import { vi } from "vitest"
import type * as ErrorBody from "../src/internal/errorBody.js"
import { headerValue } from "../src/internal/errorBody.js"
import type * as TokenResponse from "../src/internal/tokenResponse.js"
import { decodeTokenResponse } from "../src/internal/tokenResponse.js"
import * as TokenEndpoint from "../src/TokenEndpoint.js"
import * as ScriptedEntra from "./fixtures/ScriptedEntra.js"

// The decoder, counted: a 200 is decoded once per attempt, not once more to interpret the last one.
vi.mock("../src/internal/tokenResponse.js", async (importOriginal) => {
  const original = await importOriginal<typeof TokenResponse>()
  return { ...original, decodeTokenResponse: vi.fn(original.decodeTokenResponse) }
})
const decodes = vi.mocked(decodeTokenResponse)
// And the scrubbing of the request id, which only an error quotes.
vi.mock("../src/internal/errorBody.js", async (importOriginal) => {
  const original = await importOriginal<typeof ErrorBody>()
  return { ...original, headerValue: vi.fn(original.headerValue) }
})
const headerScrubs = vi.mocked(headerValue)

const refresh: TokenEndpoint.RefreshRequest = {
  authority: "https://login.example",
  tenantId: "home-tenant",
  clientId: "client-1",
  scopes: ["api://demo/user_impersonation"],
  refreshToken: Redacted.make("rt-scripted")
}

const now = 1_700_000_000_000
const threeDays = 3 * 24 * 3600

/** The endpoint's answer to a 200 with these fields, at `now`. */
const answer = (fields: Record<string, unknown>) =>
  Effect.gen(function*() {
    const entra = ScriptedEntra.make()
    entra.script.push({
      _tag: "Respond",
      status: 200,
      body: JSON.stringify({ token_type: "Bearer", access_token: "at-scripted", ...fields })
    })
    yield* TestClock.setTime(now)
    // One attempt: an unusable 200 to a refresh is otherwise retried (on a TestClock that does not move).
    const endpoint = yield* TokenEndpoint.make({ maxAttempts: 1 }).pipe(Effect.provide(entra.layer))
    return yield* Effect.either(endpoint.redeemRefreshToken(refresh))
  })

const refused = (fields: Record<string, unknown>, why: string) =>
  Effect.gen(function*() {
    const result = yield* answer(fields)
    assert(Either.isLeft(result), `accepted ${JSON.stringify(fields)}`)
    assert.strictEqual(result.left.reason, "InvalidResponse")
    assert.include(result.left.message, why)
  })

describe("numbers from the wire", () => {
  const odd: ReadonlyArray<[string, unknown]> = [
    ["the string Infinity", "Infinity"],
    ["the string NaN", "NaN"],
    ["1e30", 1e30],
    ["a negative", -3600],
    ["a fraction", 3599.5],
    ["zero", 0],
    ["more than 3 days", threeDays + 1],
    ["null", null],
    ["an object", { seconds: 3600 }]
  ]
  for (const field of ["expires_in", "ext_expires_in", "refresh_in"]) {
    for (const [name, value] of odd) {
      it.effect(`${field} as ${name} is an InvalidResponse`, () => refused({ expires_in: 3600, [field]: value }, field))
    }
  }

  it.effect("an expires_on in 1970 is an error, not an expired success", () =>
    refused({ expires_on: 86_400, expires_in: 3600 }, "expired on arrival"))

  it.effect("an expires_on equal to the request time is expired on arrival", () =>
    refused({ expires_on: now / 1000 }, "expired on arrival"))

  it.effect("an expires_on more than 30 days ahead, fractional or Infinity is refused", () =>
    Effect.gen(function*() {
      yield* refused({ expires_on: now / 1000 + 31 * 24 * 3600 }, "expires_on")
      yield* refused({ expires_on: now / 1000 + 3600.5 }, "expires_on")
      yield* refused({ expires_on: "Infinity" }, "expires_on")
    }))

  it.effect("the bounds themselves are accepted: 1 s and 3 days, as numbers or strings", () =>
    Effect.gen(function*() {
      for (const expiresIn of [1, threeDays, "3600"]) {
        const result = yield* answer({ expires_in: expiresIn, ext_expires_in: expiresIn, refresh_in: expiresIn })
        assert(Either.isRight(result))
        assert.strictEqual(result.right.expiresOn, now + Number(expiresIn) * 1000)
      }
    }))

  it.effect("a token_type other than Bearer or pop is refused; pop and bearer are normalised", () =>
    Effect.gen(function*() {
      yield* refused({ expires_in: 3600, token_type: "mac" }, "token_type")
      const pop = yield* answer({ expires_in: 3600, token_type: "PoP" })
      assert(Either.isRight(pop))
      assert.strictEqual(pop.right.tokenType, "pop")
      const bearer = yield* answer({ expires_in: 3600, token_type: "bearer" })
      assert(Either.isRight(bearer))
      assert.strictEqual(bearer.right.tokenType, "Bearer")
    }))

  const anyNumberish = fc.oneof(
    fc.double(),
    fc.integer(),
    fc.integer({ min: -10, max: 4 * threeDays }),
    fc.constantFrom("Infinity", "-Infinity", "NaN", "", "1e400", "0x10", " 60 "),
    fc.string({ maxLength: 12 }),
    fc.constant(null),
    fc.boolean()
  )

  it.effect.prop(
    "whatever the four numbers are, the answer is a sane token or a typed InvalidResponse, never a defect",
    {
      fields: fc.record({
        expires_in: anyNumberish,
        expires_on: anyNumberish,
        ext_expires_in: anyNumberish,
        refresh_in: anyNumberish
      }, { requiredKeys: [] })
    },
    ({ fields }) =>
      Effect.gen(function*() {
        const result = yield* answer(fields)
        if (Either.isLeft(result)) {
          assert.strictEqual(result.left.reason, "InvalidResponse")
          return
        }
        const { expiresOn, refreshOn, requestedOn } = result.right
        assert.isTrue(Number.isSafeInteger(expiresOn))
        assert.isAbove(expiresOn, requestedOn)
        assert.isAtMost(expiresOn - requestedOn, 30 * 24 * 3600 * 1000)
        assert.doesNotThrow(() => new Date(expiresOn).toISOString())
        if (refreshOn !== undefined) assert.isAtMost(refreshOn - requestedOn, threeDays * 1000)
      }),
    { fastCheck: { numRuns: 200 } }
  )

  describe("decoding", () => {
    const respond = (fields: Record<string, unknown>): ScriptedEntra.Scripted => ({
      _tag: "Respond",
      status: 200,
      body: JSON.stringify({ token_type: "Bearer", access_token: "at-scripted", ...fields })
    })

    it.effect("a usable 200 to a refresh is decoded once", () =>
      Effect.gen(function*() {
        const entra = ScriptedEntra.make()
        entra.script.push(respond({ expires_in: 3600 }))
        const endpoint = yield* TokenEndpoint.make().pipe(Effect.provide(entra.layer))
        decodes.mockClear()
        yield* endpoint.redeemRefreshToken(refresh)
        assert.strictEqual(decodes.mock.calls.length, 1)
      }))

    it.effect("an unusable 200 to a refresh is decoded once per attempt, the last one included", () =>
      Effect.gen(function*() {
        const entra = ScriptedEntra.make()
        entra.script.push(respond({}), respond({}))
        // Two attempts, no wait between them.
        const endpoint = yield* TokenEndpoint.make({ retrySchedule: Schedule.recurs(1) }).pipe(
          Effect.provide(entra.layer)
        )
        decodes.mockClear()
        const error = yield* Effect.flip(endpoint.redeemRefreshToken(refresh))
        assert.strictEqual(error.reason, "InvalidResponse")
        assert.strictEqual(error.attempts, 2)
        assert.strictEqual(entra.requests.length, 2)
        assert.strictEqual(decodes.mock.calls.length, 2)
      }))

    it.effect("a success does not scrub the request id it will not quote; an error still quotes it", () =>
      Effect.gen(function*() {
        const entra = ScriptedEntra.make()
        const headers = { "x-ms-request-id": "req-1" }
        entra.script.push(
          {
            _tag: "Respond",
            status: 200,
            body: JSON.stringify({ token_type: "Bearer", access_token: "at-scripted", expires_in: 3600 }),
            headers
          },
          { _tag: "Respond", status: 400, body: JSON.stringify({ error: "invalid_grant" }), headers }
        )
        const endpoint = yield* TokenEndpoint.make().pipe(Effect.provide(entra.layer))
        headerScrubs.mockClear()
        yield* endpoint.redeemRefreshToken(refresh)
        assert.strictEqual(headerScrubs.mock.calls.length, 0)
        const error = yield* Effect.flip(endpoint.redeemRefreshToken(refresh))
        assert.strictEqual(error.errorResponse.traceId, "req-1")
      }))
  })
})
