/**
 * The per-request envelope every route runs in: read the parameters (with a byte cap), apply a queued fault, run
 * the handler, add Entra's correlation headers, and append a secret-free entry to the request log.
 *
 * @internal
 */
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import type * as Headers from "@effect/platform/Headers"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Effect from "effect/Effect"
import type { EmulatorContext } from "../EmulatorState.js"
import { guid, now } from "../EmulatorState.js"
import type { EntraError, Trace } from "../EntraErrors.js"
import * as EntraErrors from "../EntraErrors.js"
import type { Endpoint } from "../Faults.js"
import * as Faults from "../Faults.js"
import type { RequestLogEntry } from "../RequestLog.js"
import * as FaultAnswers from "./faultAnswers.js"
import { mergeParams, readCapped } from "./requestBody.js"

/** @internal */
export interface RequestInfo {
  readonly method: string
  readonly path: string
  readonly query: URLSearchParams
  /** The form body, when the request had one. */
  readonly form: URLSearchParams
  /** Query and form parameters together; the form wins. */
  readonly params: URLSearchParams
  readonly bodyText: string
  readonly contentType: string
  readonly headers: Headers.Headers
  readonly tenant: string | undefined
  readonly trace: Trace
  readonly request: HttpServerRequest.HttpServerRequest
}

/** @internal */
export interface LogInfo {
  readonly tenant?: string | undefined
  readonly clientId?: string | undefined
  readonly grantType?: string | undefined
  readonly scope?: string | undefined
  readonly error?: string | undefined
  readonly errorCode?: number | undefined
}

/** @internal */
export interface Outcome {
  readonly response: HttpServerResponse.HttpServerResponse
  readonly log?: LogInfo | undefined
}

/** @internal */
export const param = (p: URLSearchParams, name: string): string | undefined => {
  const v = p.get(name)
  return v === null || v.length === 0 ? undefined : v
}

const noStore = { "cache-control": "no-store, no-cache", pragma: "no-cache", expires: "-1" }

/** @internal */
export const json = (
  body: unknown,
  status = 200,
  headers: Record<string, string> = {}
): HttpServerResponse.HttpServerResponse =>
  HttpServerResponse.unsafeJson(body, {
    status,
    headers: { ...noStore, "x-content-type-options": "nosniff", ...headers }
  })

/** @internal */
export const html = (
  body: string,
  status = 200,
  headers: Record<string, string> = {}
): HttpServerResponse.HttpServerResponse =>
  HttpServerResponse.text(body, {
    status,
    contentType: "text/html; charset=utf-8",
    headers: { ...noStore, "x-frame-options": "DENY", ...headers }
  })

/** An Entra JSON error answer, with the log fields filled in. @internal */
export const jsonError = (e: EntraError, trace: Trace, log: LogInfo = {}): Outcome => ({
  response: json(EntraErrors.body(e, trace), e.status),
  log: { ...log, error: e.error, errorCode: e.code }
})

const basicClientSecret = (headers: Headers.Headers): boolean => {
  const auth = headers["authorization"]
  return typeof auth === "string" && /^basic\s/i.test(auth)
}

const guidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

interface ReadRequest {
  readonly url: URL
  readonly text: string
  readonly form: URLSearchParams
  readonly params: URLSearchParams
  readonly tooLarge: boolean
}

// The body is read only for methods that carry one, with the configured cap.
const readRequest = (
  ctx: EmulatorContext,
  request: HttpServerRequest.HttpServerRequest,
  contentType: string
): Effect.Effect<ReadRequest> =>
  Effect.gen(function*() {
    const url = new URL(request.url, "https://emulator.invalid")
    const read = request.method === "POST" || request.method === "PUT" || request.method === "DELETE" ?
      yield* readCapped(NodeHttpServerRequest.toIncomingMessage(request), ctx.config.maxRequestBodyBytes) :
      { _tag: "Body" as const, text: "" }
    const text = read._tag === "Body" ? read.text : ""
    const form = contentType.startsWith("application/x-www-form-urlencoded")
      ? new URLSearchParams(text)
      : new URLSearchParams()
    return { url, text, form, params: mergeParams(url.searchParams, form), tooLarge: read._tag === "TooLarge" }
  })

const recordEntry = (
  ctx: EmulatorContext,
  info: RequestInfo,
  name: Endpoint | "other",
  fault: Faults.FaultSpec | undefined
) =>
(status: number, log: LogInfo | undefined) => {
  const state = ctx.state
  const params = info.params
  state.logSeq += 1
  const entry: RequestLogEntry = {
    seq: state.logSeq,
    at: new Date(info.trace.now).toISOString(),
    method: info.method,
    path: info.path,
    endpoint: name,
    ...definedOnly({
      tenant: log?.tenant ?? info.tenant,
      clientId: log?.clientId ?? param(params, "client_id"),
      grantType: log?.grantType ?? param(params, "grant_type"),
      scope: log?.scope ?? param(params, "scope"),
      error: log?.error,
      errorCode: log?.errorCode,
      fault: fault?.kind
    }),
    status,
    hasClientSecret: params.has("client_secret") || basicClientSecret(info.headers),
    hasClientAssertion: params.has("client_assertion"),
    hasCodeVerifier: params.has("code_verifier"),
    hasClaims: params.has("claims")
  }
  state.log.push(entry)
}

/**
 * Wraps a route handler with the body cap, fault injection, correlation headers and request logging.
 *
 * @internal
 */
export const endpoint = (
  ctx: EmulatorContext,
  name: Endpoint | "other",
  handler: (info: RequestInfo) => Effect.Effect<Outcome>
): Effect.Effect<
  HttpServerResponse.HttpServerResponse,
  never,
  HttpServerRequest.HttpServerRequest | HttpRouter.RouteContext
> =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const routeParams = yield* HttpRouter.params
    const contentType = String(request.headers["content-type"] ?? "").toLowerCase()
    const read = yield* readRequest(ctx, request, contentType)
    const at = yield* now(ctx)
    // MSAL sends `client-request-id` as a header on some endpoints and as a query parameter on /token.
    const headerId = request.headers["client-request-id"]
    const requestId = typeof headerId === "string"
      ? headerId
      : read.url.searchParams.get("client-request-id") ?? undefined
    const trace: Trace = {
      traceId: guid(),
      correlationId: typeof requestId === "string" && guidPattern.test(requestId) ? requestId : guid(),
      now: at
    }
    const info: RequestInfo = {
      method: request.method,
      path: read.url.pathname,
      query: read.url.searchParams,
      form: read.form,
      params: read.params,
      bodyText: read.text,
      contentType,
      headers: request.headers,
      tenant: routeParams["tenant"],
      trace,
      request
    }
    const decorate = (response: HttpServerResponse.HttpServerResponse) =>
      HttpServerResponse.setHeaders(response, {
        "x-ms-request-id": trace.traceId,
        // A query value may hold anything; only printable ASCII can be echoed as a header.
        ...(typeof requestId === "string" && /^[\x20-\x7e]*$/.test(requestId) ? { "client-request-id": requestId } : {})
      })
    if (read.tooLarge) {
      // The rest of the body is never read: the connection closes after the answer.
      const refused = jsonError(EntraErrors.Errors.requestTooLarge(ctx.config.maxRequestBodyBytes), trace)
      recordEntry(ctx, info, name, undefined)(413, refused.log)
      return decorate(HttpServerResponse.setHeader(refused.response, "connection", "close"))
    }
    const fault = name === "other" ?
      undefined :
      Faults.take(ctx.state.faults, {
        endpoint: name,
        grantType: param(read.params, "grant_type"),
        clientId: param(read.params, "client_id")
      })
    const record = recordEntry(ctx, info, name, fault)
    return yield* answer(ctx, info, fault, handler, record).pipe(Effect.map(decorate))
  })

const answer = (
  ctx: EmulatorContext,
  info: RequestInfo,
  fault: Faults.FaultSpec | undefined,
  handler: (info: RequestInfo) => Effect.Effect<Outcome>,
  record: (status: number, log: LogInfo | undefined) => void
): Effect.Effect<HttpServerResponse.HttpServerResponse> =>
  Effect.gen(function*() {
    const { request, trace } = info
    switch (fault?.kind) {
      case "drop":
        record(0, {})
        NodeHttpServerRequest.toIncomingMessage(request).socket.destroy()
        return yield* Effect.interrupt
      case "endless":
        record(200, {})
        return yield* FaultAnswers.endless(ctx.streams, request, fault, trace.traceId)
      case "status":
      case "html":
      case "malformed": {
        const response = FaultAnswers.cannedAnswer(fault, trace)
        record(response.status, FaultAnswers.cannedLog(response))
        return response
      }
      case "delay":
        yield* Effect.sleep(fault.ms)
        break
    }
    const outcome = yield* handler(info)
    record(outcome.response.status, outcome.log)
    switch (fault?.kind) {
      // The handler ran (a code is spent, as when a real response is lost or late).
      case "truncate":
        return yield* FaultAnswers.truncated(request, outcome.response, trace.traceId)
      case "slow":
        return yield* FaultAnswers.slow(ctx.streams, request, fault, outcome.response, trace.traceId)
      case "numbers":
        return FaultAnswers.withOddNumbers(fault, outcome.response)
      default:
        return outcome.response
    }
  })

const definedOnly = <A extends Record<string, unknown>>(a: A): Partial<A> =>
  Object.fromEntries(Object.entries(a).filter(([, v]) => v !== undefined)) as Partial<A>
