/**
 * The emulator's controls, as Effects (for the in-process APIs) and as the JSON API under `/_emulator/`.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as FiberSet from "effect/FiberSet"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import type { EmulatorContext } from "./EmulatorState.js"
import { now, reset as resetState } from "./EmulatorState.js"
import { FaultSpec } from "./Faults.js"
import type { Outcome, RequestInfo } from "./internal/endpoint.js"
import { json, param } from "./internal/endpoint.js"
import type { RequestLogEntry, RequestLogFilter } from "./RequestLog.js"
import { filter } from "./RequestLog.js"

/**
 * A management request was invalid.
 *
 * @since 0.1.0
 * @category errors
 */
export class ManagementError extends Data.TaggedError("ManagementError")<{ readonly reason: string }> {
  override get message(): string {
    return this.reason
  }
}

const decodeFault = Schema.decodeUnknownEither(FaultSpec, { errors: "all" })

/**
 * Queues a fault for the next `times` (default 1) matching requests.
 *
 * @since 0.1.0
 * @category operations
 */
export const injectFault = (ctx: EmulatorContext, spec: unknown): Effect.Effect<void, ManagementError> =>
  Either.match(decodeFault(spec), {
    onLeft: (e) =>
      Effect.fail(
        new ManagementError({
          reason: `invalid fault: ${ParseResult.TreeFormatter.formatErrorSync(e).replace(/\s*\n\s*/g, "; ")}`
        })
      ),
    onRight: (fault) => Effect.sync(() => void ctx.state.faults.push({ spec: fault, remaining: fault.times ?? 1 }))
  })

/**
 * @since 0.1.0
 * @category operations
 */
export const requests = (
  ctx: EmulatorContext,
  f?: RequestLogFilter
): Effect.Effect<ReadonlyArray<RequestLogEntry>> => Effect.sync(() => filter([...ctx.state.log], f))

/**
 * @since 0.1.0
 * @category operations
 */
export const clearRequests = (ctx: EmulatorContext): Effect.Effect<void> =>
  Effect.sync(() => {
    ctx.state.log = []
  })

/**
 * Forgets every code and refresh token, fault, log entry and challenge, and puts the clock back.
 *
 * @since 0.1.0
 * @category operations
 */
export const reset = (ctx: EmulatorContext): Effect.Effect<void> => Effect.sync(() => resetState(ctx.state))

/**
 * How far ahead of real time the emulator clock may run: ten years (365-day years), in milliseconds.
 *
 * @since 0.1.0
 * @category constants
 */
export const maxClockOffsetMs = 10 * 365 * 24 * 3600 * 1000

/**
 * Moves the emulator clock forward by a whole, non-negative number of milliseconds. The clock never runs more than
 * {@link maxClockOffsetMs} ahead: further than that, dates stop meaning anything to a client (and far enough, they
 * cannot be printed).
 *
 * @since 0.1.0
 * @category operations
 */
export const advanceTime = (ctx: EmulatorContext, ms: number): Effect.Effect<void, ManagementError> => {
  if (typeof ms !== "number" || !Number.isSafeInteger(ms) || ms < 0) {
    return Effect.fail(new ManagementError({ reason: "advanceMs must be a non-negative whole number of milliseconds" }))
  }
  if (ctx.state.offsetMs + ms > maxClockOffsetMs) {
    return Effect.fail(
      new ManagementError({
        reason: `advanceMs ${ms} would put the emulator clock more than 10 years (${maxClockOffsetMs} ms) ahead ` +
          `(it is ${ctx.state.offsetMs} ms ahead now)`
      })
    )
  }
  return Effect.sync(() => {
    ctx.state.offsetMs += ms
  })
}

/**
 * Revokes the refresh tokens of one user (by username) or of everyone; they then fail with AADSTS50173.
 *
 * @since 0.1.0
 * @category operations
 */
export const revokeRefreshTokens = (ctx: EmulatorContext, username?: string): Effect.Effect<number> =>
  Effect.sync(() => {
    let n = 0
    for (const grant of ctx.state.refreshTokens.values()) {
      if (username === undefined || grant.user.username.toLowerCase() === username.toLowerCase()) {
        if (!grant.revoked) n += 1
        grant.revoked = true
      }
    }
    return n
  })

/**
 * Makes `/_resource/me` reject every access token issued so far with a CAE `insufficient_claims` challenge
 * carrying `claims`; tokens issued afterwards pass. `undefined` clears the challenge.
 *
 * @since 0.1.0
 * @category operations
 */
export const challengeResource = (ctx: EmulatorContext, claims: object | undefined): Effect.Effect<void> =>
  Effect.sync(() => {
    ctx.state.challenge = claims === undefined ?
      undefined :
      { claims: JSON.stringify(claims), beforeSeq: ctx.state.issueSeq }
  })

/**
 * The configuration without secrets, and the emulator clock.
 *
 * @since 0.1.0
 * @category operations
 */
export const settings = (ctx: EmulatorContext): Effect.Effect<Record<string, unknown>> =>
  Effect.map(Effect.zip(now(ctx), FiberSet.size(ctx.streams)), ([t, activeStreams]) => ({
    authority: ctx.authority,
    now: new Date(t).toISOString(),
    clockOffsetMs: ctx.state.offsetMs,
    tenants: ctx.config.tenants,
    apps: ctx.config.apps.map(({ secrets, ...app }) => ({ ...app, secretCount: secrets.length })),
    users: ctx.config.users,
    accessTokenLifetime: ctx.config.accessTokenLifetime,
    refreshTokenLifetime: ctx.config.refreshTokenLifetime,
    authorizationCodeLifetime: ctx.config.authorizationCodeLifetime,
    refreshIn: ctx.config.refreshIn ?? null,
    refreshTokenRotation: ctx.config.refreshTokenRotation,
    resourceScope: ctx.config.resourceScope,
    resourceAudience: ctx.config.resourceAudience,
    maxRequestBodyBytes: ctx.config.maxRequestBodyBytes,
    pendingFaults: ctx.state.faults.map((f) => ({ ...f.spec, remaining: f.remaining })),
    /** Endless and slow fault bodies being written now. */
    activeStreams
  }))

const badRequest = (reason: string): Outcome => ({ response: json({ error: "invalid_request", message: reason }, 400) })

const jsonBody = (info: RequestInfo): Either.Either<unknown, string> => {
  if (info.bodyText.trim().length === 0) return Either.right({})
  try {
    return Either.right(JSON.parse(info.bodyText))
  } catch {
    return Either.left("the body must be JSON")
  }
}

const ok = (body: unknown = { ok: true }): Outcome => ({ response: json(body) })

/**
 * Routes one `/_emulator/{action}` request.
 *
 * @since 0.1.0
 * @category handlers
 */
export const handle = (ctx: EmulatorContext, action: string, info: RequestInfo): Effect.Effect<Outcome> =>
  Effect.gen(function*() {
    const body = jsonBody(info)
    if (Either.isLeft(body)) return badRequest(body.left)
    const b = body.right as Record<string, unknown>
    const m = info.method
    switch (`${m} ${action}`) {
      case "GET health":
        return ok({ status: "ok" })
      case "GET settings":
        return ok(yield* settings(ctx))
      case "GET requests":
        return ok(
          yield* requests(ctx, { endpoint: param(info.query, "endpoint"), grantType: param(info.query, "grantType") })
        )
      case "DELETE requests":
        yield* clearRequests(ctx)
        return ok()
      case "POST faults": {
        const specs = Array.isArray(b) ? b : [b]
        for (const spec of specs) {
          const r = yield* Effect.either(injectFault(ctx, spec))
          if (Either.isLeft(r)) return badRequest(r.left.reason)
        }
        return ok()
      }
      case "DELETE faults":
        ctx.state.faults = []
        return ok()
      case "POST reset":
        yield* reset(ctx)
        return ok()
      case "POST time": {
        // No Number(...) here: it would read "", null and [] as 0 and true as 1.
        const advanceMs = typeof b["advanceMs"] === "number" ? b["advanceMs"] : Number.NaN
        const r = yield* Effect.either(advanceTime(ctx, advanceMs))
        if (Either.isLeft(r)) return badRequest(r.left.reason)
        return ok(yield* settings(ctx).pipe(Effect.map((s) => ({ now: s["now"], clockOffsetMs: s["clockOffsetMs"] }))))
      }
      case "POST revoke": {
        const username = typeof b["username"] === "string" ? b["username"] : undefined
        return ok({ revoked: yield* revokeRefreshTokens(ctx, username) })
      }
      case "POST resource": {
        const challenge = b["challenge"]
        if (challenge === null) {
          yield* challengeResource(ctx, undefined)
          return ok()
        }
        const claims = typeof challenge === "object" && challenge !== undefined ?
          (challenge as Record<string, unknown>)["claims"] :
          undefined
        if (typeof claims !== "object" || claims === null) {
          return badRequest("expected {\"challenge\": {\"claims\": {...}}} or {\"challenge\": null}")
        }
        yield* challengeResource(ctx, claims)
        return ok()
      }
      default:
        return { response: json({ error: "not_found", message: `no management action ${m} ${action}` }, 404) }
    }
  })
