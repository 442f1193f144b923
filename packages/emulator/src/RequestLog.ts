/**
 * The request log: what each request asked and how it was answered, for tests to assert on.
 *
 * It never holds a secret: no codes, client secrets, PKCE verifiers or tokens; only whether they were present.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { Endpoint } from "./Faults.js"

/**
 * @since 0.1.0
 * @category schemas
 */
export const RequestLogEntry = Schema.Struct({
  seq: Schema.Number,
  /** ISO time on the emulator clock. */
  at: Schema.String,
  method: Schema.String,
  /** The path only; query strings can carry codes. */
  path: Schema.String,
  endpoint: Schema.Union(Endpoint, Schema.Literal("other")),
  tenant: Schema.optional(Schema.String),
  clientId: Schema.optional(Schema.String),
  grantType: Schema.optional(Schema.String),
  scope: Schema.optional(Schema.String),
  status: Schema.Number,
  error: Schema.optional(Schema.String),
  /** The AADSTS number of the error, if any. */
  errorCode: Schema.optional(Schema.Number),
  hasClientSecret: Schema.Boolean,
  /** Whether a `client_assertion` (certificate or federated credential) was sent. */
  hasClientAssertion: Schema.Boolean,
  hasCodeVerifier: Schema.Boolean,
  hasClaims: Schema.Boolean,
  /** The kind of the injected fault applied to this request, if any. */
  fault: Schema.optional(Schema.String)
})
/**
 * @since 0.1.0
 * @category models
 */
export type RequestLogEntry = typeof RequestLogEntry.Type

/**
 * @since 0.1.0
 * @category models
 */
export interface RequestLogFilter {
  readonly endpoint?: string | undefined
  readonly grantType?: string | undefined
}

/**
 * @since 0.1.0
 * @category filtering
 */
export const filter = (
  entries: ReadonlyArray<RequestLogEntry>,
  f: RequestLogFilter = {}
): ReadonlyArray<RequestLogEntry> =>
  entries.filter((e) =>
    (f.endpoint === undefined || e.endpoint === f.endpoint) &&
    (f.grantType === undefined || e.grantType === f.grantType)
  )
