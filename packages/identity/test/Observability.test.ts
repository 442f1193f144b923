import { assert, describe, it } from "@effect/vitest"
import { Effect, Metric, TestClock } from "effect"
import type { Tracer } from "effect"
import * as CredentialMetrics from "../src/CredentialMetrics.js"
import * as TokenCache from "../src/TokenCache.js"
import * as Observe from "./fixtures/Observe.js"
import * as ScriptedEntra from "./fixtures/ScriptedEntra.js"
import * as Time from "./fixtures/Time.js"

const scope = "api://demo/user_impersonation"

const count = (metric: Metric.Metric.Counter<number>, labels: Record<string, string> = {}) =>
  Metric.value(Object.entries(labels).reduce((m, [k, v]) => Metric.tagged(m, k, v), metric)).pipe(
    Effect.map((state) => state.count)
  )

const snapshot = Effect.all({
  codeOk: count(CredentialMetrics.tokenRequests, { grant_type: "authorization_code", outcome: "success" }),
  refreshOk: count(CredentialMetrics.tokenRequests, { grant_type: "refresh_token", outcome: "success" }),
  refreshGrantError: count(CredentialMetrics.tokenRequests, { grant_type: "refresh_token", outcome: "invalid_grant" }),
  retries: count(CredentialMetrics.tokenRequestRetries, { grant_type: "refresh_token" }),
  // Through the public counter and its label, as an exporter sees it (the hot path updates a pre-labelled key).
  hits: count(CredentialMetrics.cacheLookups, { result: "hit" }),
  misses: count(CredentialMetrics.cacheLookups, { result: "miss" }),
  renewals: count(CredentialMetrics.cacheLookups, { result: "renew" }),
  refreshFailures: count(CredentialMetrics.refreshFailures)
})

const attributes = (spans: ReadonlyArray<Tracer.Span>, name: string) =>
  spans.filter((span) => span.name === name).map((span) => Object.fromEntries(span.attributes))

describe("observability", () => {
  it.effect("every step is a span with useful attributes, and metrics count requests, hits, retries", () =>
    Effect.gen(function*() {
      const observed = Observe.make()
      const entra = ScriptedEntra.make()
      const code = entra.issueCode(ScriptedEntra.alice)
      const before = yield* snapshot
      yield* Effect.gen(function*() {
        const credential = yield* ScriptedEntra.credential(entra, code)
        yield* credential.getToken(scope) // redeem
        yield* credential.getToken(scope) // hit
        assert.isDefined(credential.unsafeCachedToken(scope)) // a hit on the facade's synchronous path
        yield* credential.getToken("other/scope") // miss → refresh
        // A retried refresh (503, then success) for a third scope.
        entra.script.push({ _tag: "Respond", status: 503, body: "" })
        yield* Time.settle(credential.getToken("third/scope"))
        // A refused refresh carries the AADSTS code on its span.
        entra.script.push({
          _tag: "Respond",
          status: 400,
          body: ScriptedEntra.errorBody("invalid_grant", 70008, "The refresh token has expired.")
        })
        yield* Effect.flip(credential.getToken("fourth/scope"))
      }).pipe(Observe.observe(observed), Effect.provide(TokenCache.layerMemory), Effect.scoped)
      const after = yield* snapshot
      const delta = Object.fromEntries(
        Object.entries(after).map(([k, v]) => [k, v - before[k as keyof typeof before]])
      )
      assert.deepStrictEqual(delta, {
        codeOk: 1,
        refreshOk: 2,
        refreshGrantError: 1,
        retries: 1,
        hits: 2,
        misses: 3,
        renewals: 0,
        refreshFailures: 0
      })

      const names = new Set(observed.spans.map((span) => span.name))
      for (
        const name of [
          "AuthorizationCodeCredential.getToken",
          "RedeemCode",
          "CacheLookup",
          "RefreshToken",
          "TokenEndpoint.redeemCode",
          "TokenEndpoint.redeemRefreshToken"
        ]
      ) assert.isTrue(names.has(name), `span ${name}`)
      assert.isTrue([...names].some((name) => name.startsWith("http.client")), "the HTTP call is a span")

      const getTokens = attributes(observed.spans, "AuthorizationCodeCredential.getToken")
      assert.strictEqual(getTokens[0]["entra.tenant_id"], "home-tenant")
      assert.strictEqual(getTokens[0]["entra.scopes"], scope)
      // A hit is one span, getToken marked `entra.cache.hit` (a span costs more than the lookup); misses show the steps.
      assert.deepStrictEqual(getTokens.map((a) => a["entra.cache.hit"]), [
        undefined,
        true,
        undefined,
        undefined,
        undefined
      ])
      assert.strictEqual(getTokens[1]["entra.scopes"], scope)
      const lookups = attributes(observed.spans, "CacheLookup")
      assert.deepStrictEqual(lookups.map((a) => a["entra.cache.hit"]), [false, false, false])
      const redeem = attributes(observed.spans, "TokenEndpoint.redeemCode")[0]
      assert.strictEqual(redeem["entra.grant_type"], "authorization_code")
      assert.strictEqual(redeem["http.response.status_code"], 200)
      const refreshes = attributes(observed.spans, "TokenEndpoint.redeemRefreshToken")
      assert.strictEqual(refreshes[1]["entra.retries"], 1)
      assert.strictEqual(refreshes[2]["entra.aadsts"], 70008)
      assert.strictEqual(refreshes[2]["http.response.status_code"], 400)
    }))

  it.effect("a token request's duration, retries included, is recorded on the clock the request ran on", () =>
    Effect.gen(function*() {
      const entra = ScriptedEntra.make()
      const code = entra.issueCode(ScriptedEntra.alice)
      const histogram = Metric.tagged(CredentialMetrics.tokenRequestDuration, "grant_type", "refresh_token")
      const before = yield* Metric.value(histogram)
      yield* Effect.gen(function*() {
        const credential = yield* ScriptedEntra.credential(entra, code)
        yield* credential.getToken(scope)
        // A refresh retried once: its back-off passes on the TestClock, and counts in the request's duration.
        entra.script.push({ _tag: "Respond", status: 503, body: "" })
        yield* Time.settle(credential.getToken("other/scope"))
      }).pipe(Effect.provide(TokenCache.layerMemory), Effect.scoped)
      const after = yield* Metric.value(histogram)
      assert.strictEqual(after.count - before.count, 1)
      assert.isAtLeast(after.sum - before.sum, 400, "the retry's back-off (at least half of the 800 ms base delay)")
    }))

  it.effect("a failed proactive renewal is counted", () =>
    Effect.gen(function*() {
      const entra = ScriptedEntra.make()
      entra.settings.refreshIn = 600
      const code = entra.issueCode(ScriptedEntra.alice)
      const before = yield* count(CredentialMetrics.refreshFailures)
      yield* Effect.gen(function*() {
        const credential = yield* ScriptedEntra.credential(entra, code, { http: { maxAttempts: 1 } })
        yield* credential.getToken(scope)
        yield* TestClock.adjust("11 minutes")
        entra.script.push({ _tag: "Respond", status: 500, body: "{}" })
        yield* credential.getToken(scope)
      }).pipe(Effect.provide(TokenCache.layerMemory), Effect.scoped)
      assert.strictEqual((yield* count(CredentialMetrics.refreshFailures)) - before, 1)
    }))
})
