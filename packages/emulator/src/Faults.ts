/**
 * Scripted failures for the next N matching requests of an endpoint.
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
  "resource",
  "devicecode",
  "userinfo"
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

// Printable ASCII only: a CR or LF would split the header (and Node refuses to send it).
const HeaderValue = Schema.String.pipe(Schema.pattern(/^[\x20-\x7e]*$/))

/**
 * Presets of the `numbers` fault: what each sets on a 200 token answer.
 *
 * @since 0.1.0
 * @category constants
 */
export const oddNumbers = {
  /** The default. JSON has no Infinity, so servers that mean it send a string. */
  infinity: { expires_in: "Infinity", ext_expires_in: "Infinity" },
  nan: { expires_in: "NaN", ext_expires_in: "NaN" },
  huge: { expires_in: 1e30, ext_expires_in: 1e30 },
  negative: { expires_in: -3600, ext_expires_in: -3600 },
  fractional: { expires_in: 3599.5, ext_expires_in: 3599.5 },
  null: { expires_in: null, ext_expires_in: null },
  /** `expires_on` one day after the Unix epoch: a token already expired on arrival. */
  epoch: { expires_on: 86400 }
} as const satisfies Record<string, Record<string, unknown>>

/**
 * @since 0.1.0
 * @category schemas
 */
export const OddNumbers = Schema.Literal("infinity", "nan", "huge", "negative", "fractional", "null", "epoch")

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
 * - `endless`: a 200 JSON answer whose body never ends (`{"access_token":"AAAA...`), written as fast as the client
 *   reads it, until the client goes away or the emulator closes.
 * - `slow`: handle the request, send the headers at once, then the body `bytes` at a time every `intervalMs`.
 * - `numbers`: handle the request; a 200 JSON answer gets odd lifetimes (`variant`, then `fields` on top).
 *
 * @since 0.1.0
 * @category schemas
 */
export const FaultSpec = Schema.Union(
  Schema.Struct({
    kind: Schema.Literal("status"),
    ...Common,
    status: Schema.Number.pipe(Schema.int(), Schema.between(100, 599)),
    /** Seconds, or a string sent as is (an HTTP date, or garbage to test a client's parser). */
    retryAfter: Schema.optional(Schema.Union(Schema.Number.pipe(Schema.nonNegative()), HeaderValue)),
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
  }),
  Schema.Struct({
    kind: Schema.Literal("endless"),
    ...Common,
    /** Size of each written chunk. Default 16 KiB. */
    chunkBytes: Schema.optional(Schema.Number.pipe(Schema.int(), Schema.between(1, 1024 * 1024)))
  }),
  Schema.Struct({
    kind: Schema.Literal("slow"),
    ...Common,
    /** Pause before each piece of the body. Default 1000. */
    intervalMs: Schema.optional(Schema.Number.pipe(Schema.nonNegative(), Schema.lessThanOrEqualTo(3_600_000))),
    /** Bytes per piece. Default 1. */
    bytes: Schema.optional(Schema.Number.pipe(Schema.int(), Schema.positive()))
  }),
  Schema.Struct({
    kind: Schema.Literal("numbers"),
    ...Common,
    variant: Schema.optional(OddNumbers),
    /** Fields set on the token answer after the variant's, e.g. `{"refresh_in": -1}`. */
    fields: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.Unknown }))
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
