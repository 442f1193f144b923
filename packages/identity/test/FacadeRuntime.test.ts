import { HttpClient } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { endpointOn } from "../src/internal/facadeRuntime.js"

const client = () => HttpClient.make(() => Effect.die("no request is sent"))

describe("the Promise facade's runtime", () => {
  it("shares one token endpoint per HTTP client and retry settings among its credentials", () => {
    const shared = client()
    const first = endpointOn(shared, {})
    assert.strictEqual(endpointOn(shared, {}), first)
    assert.strictEqual(endpointOn(shared, { requestTimeout: undefined }), first)
    assert.notStrictEqual(endpointOn(shared, { requestTimeout: 5_000 }), first)
    assert.strictEqual(endpointOn(shared, { requestTimeout: 5_000 }), endpointOn(shared, { requestTimeout: 5_000 }))
    assert.notStrictEqual(endpointOn(client(), {}), first)
  })
})
