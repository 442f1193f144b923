import { assert, describe, it } from "@effect/vitest"
import * as RefreshPolicy from "../src/RefreshPolicy.js"

const minute = 60_000
const hourToken = { issuedOn: 0, expiresOn: 60 * minute }

describe("RefreshPolicy (pure functions)", () => {
  it("default: a one-hour token is due 5 minutes before expiry", () => {
    assert.strictEqual(RefreshPolicy.defaultPolicy.renewAt(hourToken), 55 * minute)
    assert.isFalse(RefreshPolicy.isDue(RefreshPolicy.defaultPolicy, hourToken, 55 * minute - 1))
    assert.isTrue(RefreshPolicy.isDue(RefreshPolicy.defaultPolicy, hourToken, 55 * minute))
  })

  it("default: Entra's refresh_in wins when it comes first, never when it comes later", () => {
    assert.strictEqual(RefreshPolicy.defaultPolicy.renewAt({ ...hourToken, refreshOn: 30 * minute }), 30 * minute)
    assert.strictEqual(RefreshPolicy.defaultPolicy.renewAt({ ...hourToken, refreshOn: 58 * minute }), 55 * minute)
  })

  it("default: never before half of the lifetime (a 4-minute token is due at 2 minutes)", () => {
    assert.strictEqual(
      RefreshPolicy.defaultPolicy.renewAt({ issuedOn: 1000, expiresOn: 1000 + 4 * minute }),
      1000 + 2 * minute
    )
  })

  it("default: a failed renewal waits 30 s", () => {
    assert.strictEqual(RefreshPolicy.defaultPolicy.retryDelay(hourToken, 56 * minute), 30_000)
  })

  it("make: another window and retry delay", () => {
    const policy = RefreshPolicy.make({ window: "10 minutes", retryDelay: "5 seconds" })
    assert.strictEqual(policy.renewAt(hourToken), 50 * minute)
    assert.strictEqual(policy.retryDelay(hourToken, 0), 5_000)
  })

  it("atFractionOfLifetime(0.8): due at 80% of the lifetime, or at refresh_in when earlier", () => {
    const policy = RefreshPolicy.atFractionOfLifetime(0.8)
    assert.strictEqual(policy.renewAt(hourToken), 48 * minute)
    assert.strictEqual(policy.renewAt({ issuedOn: 10 * minute, expiresOn: 20 * minute }), 18 * minute)
    assert.strictEqual(policy.renewAt({ ...hourToken, refreshOn: 40 * minute }), 40 * minute)
    assert.strictEqual(policy.retryDelay(hourToken, 0), 30_000)
  })

  it("atFractionOfLifetime refuses a fraction outside (0, 1]", () => {
    for (const fraction of [0, -0.5, 1.5, Number.NaN]) {
      assert.throws(() => RefreshPolicy.atFractionOfLifetime(fraction), RangeError)
    }
  })

  it("a policy is any pair of functions: a user-written one is used as is", () => {
    const policy: RefreshPolicy.RefreshPolicy = {
      renewAt: (token) => token.expiresOn - 1,
      retryDelay: (_token, failedAt) => (failedAt % 2 === 0 ? 1_000 : 2_000)
    }
    assert.isFalse(RefreshPolicy.isDue(policy, hourToken, 60 * minute - 2))
    assert.isTrue(RefreshPolicy.isDue(policy, hourToken, 60 * minute - 1))
    assert.strictEqual(policy.retryDelay(hourToken, 3), 2_000)
  })
})
