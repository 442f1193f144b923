/**
 * Scripted failures for the next N matching requests of an endpoint (ENTRA-PROTOCOL §12.4 item 8).
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * The endpoints a fault (and a request-log entry) can name.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Endpoint = Schema.Literal(
  "token",
  "authorize",
  "keys",
  "openid-configuration",
  "instance",
  "resource"
)
/**
 * @since 0.1.0
 * @category models
 */
export type Endpoint = typeof Endpoint.Type

const Common = {
  endpoint: Endpoint,
  /** How many matching requests the fault applies to. Default 1. */
  times: Schema.optional(Schema.Number.pipe(Schema.int(), Schema.positive())),
  /** Only requests with this `grant_type` (token endpoint). */
  grantType: Schema.optional(Schema.String),
  /** Only requests with this `client_id`. */
  clientId: Schema.optional(Schema.String)
}

/**
 * A fault, as posted to `POST /_emulator/faults`:
 *
 * - `status`: an error answer with `status`, optional `retryAfter` (seconds), and either an Entra error body built
 *   from `errorCode` (AADSTS number, with optional `error` override) or a given JSON `body`.
 * - `html`: an HTML error page with `status` (default 502), as a gateway would send.
 * - `delay`: wait `ms`, then answer normally.
 * - `drop`: destroy the connection without an answer.
 * - `truncate`: handle the request, then send only half of the body and cut the connection.
 * - `malformed`: a 200 that is not JSON (`variant: "text"`, default) or JSON without `access_token` (`"no-token"`).
 *
 * @since 0.1.0
 * @category schemas
 */
export const FaultSpec = Schema.Union(
  Schema.Struct({
    kind: Schema.Literal("status"),
    ...Common,
    status: Schema.Number.pipe(Schema.int(), Schema.between(100, 599)),
    retryAfter: Schema.optional(Schema.Number.pipe(Schema.nonNegative())),
    errorCode: Schema.optional(Schema.Number.pipe(Schema.int())),
    error: Schema.optional(Schema.String),
    body: Schema.optional(Schema.Unknown)
  }),
  Schema.Struct({
    kind: Schema.Literal("html"),
    ...Common,
    status: Schema.optional(Schema.Number.pipe(Schema.int(), Schema.between(100, 599)))
  }),
  Schema.Struct({ kind: Schema.Literal("delay"), ...Common, ms: Schema.Number.pipe(Schema.nonNegative()) }),
  Schema.Struct({ kind: Schema.Literal("drop"), ...Common }),
  Schema.Struct({ kind: Schema.Literal("truncate"), ...Common }),
  Schema.Struct({
    kind: Schema.Literal("malformed"),
    ...Common,
    variant: Schema.optional(Schema.Literal("text", "no-token"))
  })
)
/**
 * @since 0.1.0
 * @category models
 */
export type FaultSpec = typeof FaultSpec.Type

/**
 * A queued fault with its remaining count.
 *
 * @since 0.1.0
 * @category models
 */
export interface QueuedFault {
  readonly spec: FaultSpec
  remaining: number
}

/**
 * What a request offers for matching.
 *
 * @since 0.1.0
 * @category models
 */
export interface FaultTarget {
  readonly endpoint: Endpoint
  readonly grantType: string | undefined
  readonly clientId: string | undefined
}

/**
 * Takes the first queued fault matching the request, decrementing its count (and dropping it at zero).
 *
 * @since 0.1.0
 * @category matching
 */
export const take = (queue: Array<QueuedFault>, target: FaultTarget): FaultSpec | undefined => {
  const i = queue.findIndex(({ spec }) =>
    spec.endpoint === target.endpoint &&
    (spec.grantType === undefined || spec.grantType === target.grantType) &&
    (spec.clientId === undefined || spec.clientId === target.clientId)
  )
  if (i < 0) return undefined
  const q = queue[i]!
  q.remaining -= 1
  if (q.remaining <= 0) queue.splice(i, 1)
  return q.spec
}
