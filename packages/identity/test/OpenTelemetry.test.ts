/**
 * The wiring docs/observability.md shows, run for real: @effect/opentelemetry's NodeSdk with in-memory
 * exporters. Spans and metrics reach OpenTelemetry with their attributes, and nothing secret does.
 */
import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import { assert, describe, it } from "@effect/vitest"
import { MetricReader } from "@opentelemetry/sdk-metrics"
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { Effect, Redacted } from "effect"
import * as TokenCache from "../src/TokenCache.js"
import * as ScriptedEntra from "./fixtures/ScriptedEntra.js"

class CollectingReader extends MetricReader {
  protected onForceFlush() {
    return Promise.resolve()
  }
  protected onShutdown() {
    return Promise.resolve()
  }
}

describe("OpenTelemetry", () => {
  it.effect("spans and metrics are exported through @effect/opentelemetry, without secrets", () =>
    Effect.gen(function*() {
      const spans = new InMemorySpanExporter()
      const metrics = new CollectingReader()
      const Telemetry = NodeSdk.layer(() => ({
        resource: { serviceName: "effect-entra-test" },
        spanProcessor: new SimpleSpanProcessor(spans),
        metricReader: metrics
      }))
      const entra = ScriptedEntra.make()
      entra.settings.tokenSalt = "SALT-7f1d2c"
      const code = entra.issueCode(ScriptedEntra.alice, { code: "CODE-b9e04a" })
      // Read the exporters before the layer shuts the SDK down (shutting down empties the in-memory exporter).
      const { collected, finished } = yield* Effect.gen(function*() {
        const credential = yield* ScriptedEntra.credential(entra, code, {
          clientSecret: Redacted.make("SECRET-51c8aa")
        })
        yield* credential.getToken("api://demo/.default")
        yield* credential.getToken("api://demo/.default")
        entra.script.push({
          _tag: "Respond",
          status: 400,
          body: ScriptedEntra.errorBody("invalid_grant", 70008, "The refresh token has expired.")
        })
        yield* Effect.flip(credential.getToken("other/scope"))
        return {
          finished: spans.getFinishedSpans(),
          collected: yield* Effect.promise(() => metrics.collect())
        }
      }).pipe(Effect.provide(TokenCache.layerMemory), Effect.scoped, Effect.provide(Telemetry))

      const exported = finished.map((span) => ({
        name: span.name,
        attributes: span.attributes,
        status: span.status,
        events: span.events.map((event) => ({ name: event.name, attributes: event.attributes }))
      }))
      const names = exported.map((span) => span.name)
      for (const name of ["AuthorizationCodeCredential.getToken", "RedeemCode", "CacheLookup", "RefreshToken"]) {
        assert.include(names, name)
      }
      const refresh = exported.find((span) => span.name === "TokenEndpoint.redeemRefreshToken")
      assert.strictEqual(refresh?.attributes["entra.aadsts"], 70008)
      assert.strictEqual(refresh?.status.code, 2) // SpanStatusCode.ERROR

      const metricNames = collected.resourceMetrics.scopeMetrics.flatMap((scope) =>
        scope.metrics.map((metric) => metric.descriptor.name)
      )
      assert.include(metricNames, "entra_token_requests_total")
      assert.include(metricNames, "entra_token_cache_lookups_total")

      const text = JSON.stringify({ exported, collected: collected.resourceMetrics.scopeMetrics })
      for (const secret of ["SALT-7f1d2c", "CODE-b9e04a", "SECRET-51c8aa"]) assert.notInclude(text, secret)
    }))
})
