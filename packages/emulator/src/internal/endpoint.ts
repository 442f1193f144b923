/**
 * The per-request envelope every route runs in: read the parameters, apply a queued fault, run the handler, add
 * Entra's correlation headers, and append a secret-free entry to the request log.
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

const bodyText = (response: HttpServerResponse.HttpServerResponse): string =>
  response.body._tag === "Uint8Array" ? new TextDecoder().decode(response.body.body) : ""

const faultBody = (fault: Faults.FaultSpec, trace: Trace): HttpServerResponse.HttpServerResponse => {
  switch (fault.kind) {
    case "status": {
      const headers: Record<string, string> = fault.retryAfter === undefined ?
        {} :
        { "retry-after": String(Math.ceil(fault.retryAfter)) }
      if (fault.body !== undefined) return json(fault.body, fault.status, headers)
      const e = EntraErrors.fromCode(
        fault.errorCode ?? (fault.status === 429 ? 90055 : fault.status >= 500 ? 90033 : 9002313),
        { error: fault.error, status: fault.status }
      )
      return json(EntraErrors.body(e, trace), fault.status, headers)
    }
    case "html":
      return html(
        `<!doctype html><html><head><title>${fault.status ?? 502} Bad Gateway</title></head><body>` +
          `<h1>${fault.status ?? 502} Bad Gateway</h1><p>The emulator injected this error page.</p></body></html>`,
        fault.status ?? 502
      )
    case "malformed":
      return fault.variant === "no-token" ?
        json({ token_type: "Bearer", expires_in: 3599, ext_expires_in: 3599 }) :
        HttpServerResponse.text("<html><body>Service temporarily unavailable</body></html>", {
          status: 200,
          contentType: "text/plain; charset=utf-8"
        })
    default:
      return json({}, 500)
  }
}

const faultLog = (response: HttpServerResponse.HttpServerResponse): LogInfo => {
  try {
    const body = JSON.parse(bodyText(response)) as { error?: unknown; error_codes?: unknown }
    const code = Array.isArray(body.error_codes) && typeof body.error_codes[0] === "number" ?
      body.error_codes[0] :
      undefined
    return { error: typeof body.error === "string" ? body.error : undefined, errorCode: code }
  } catch {
    return {}
  }
}

/**
 * Wraps a route handler with fault injection, correlation headers and request logging.
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
    const url = new URL(request.url, "https://emulator.invalid")
    const contentType = String(request.headers["content-type"] ?? "").toLowerCase()
    const text = request.method === "POST" || request.method === "PUT" || request.method === "DELETE" ?
      yield* Effect.orElseSucceed(request.text, () => "") :
      ""
    const form = contentType.startsWith("application/x-www-form-urlencoded")
      ? new URLSearchParams(text)
      : new URLSearchParams()
    const params = new URLSearchParams(url.searchParams)
    for (const [k, v] of form) params.set(k, v)
    const at = yield* now(ctx)
    const requestId = request.headers["client-request-id"]
    const trace: Trace = {
      traceId: guid(),
      correlationId: typeof requestId === "string" && guidPattern.test(requestId) ? requestId : guid(),
      now: at
    }
    const info: RequestInfo = {
      method: request.method,
      path: url.pathname,
      query: url.searchParams,
      form,
      params,
      bodyText: text,
      contentType,
      headers: request.headers,
      tenant: routeParams["tenant"],
      trace,
      request
    }
    const state = ctx.state
    const fault = name === "other" ?
      undefined :
      Faults.take(state.faults, {
        endpoint: name,
        grantType: param(params, "grant_type"),
        clientId: param(params, "client_id")
      })

    const record = (status: number, log: LogInfo | undefined) => {
      state.logSeq += 1
      const entry: RequestLogEntry = {
        seq: state.logSeq,
        at: new Date(at).toISOString(),
        method: request.method,
        path: url.pathname,
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
        hasClientSecret: params.has("client_secret") || basicClientSecret(request.headers),
        hasCodeVerifier: params.has("code_verifier"),
        hasClaims: params.has("claims")
      }
      state.log.push(entry)
    }

    const decorate = (response: HttpServerResponse.HttpServerResponse) =>
      HttpServerResponse.setHeaders(response, {
        "x-ms-request-id": trace.traceId,
        ...(typeof requestId === "string" ? { "client-request-id": requestId } : {})
      })

    if (fault?.kind === "drop") {
      record(0, {})
      NodeHttpServerRequest.toIncomingMessage(request).socket.destroy()
      return yield* Effect.interrupt
    }
    if (fault?.kind === "delay") yield* Effect.sleep(fault.ms)
    if (fault !== undefined && fault.kind !== "delay" && fault.kind !== "truncate") {
      const response = faultBody(fault, trace)
      record(response.status, faultLog(response))
      return decorate(response)
    }
    const outcome = yield* handler(info)
    if (fault?.kind === "truncate") {
      // The handler ran (a code is spent, as when a real response is lost); only half the body reaches the client.
      record(outcome.response.status, outcome.log)
      const full = Buffer.from(bodyText(outcome.response))
      const res = NodeHttpServerRequest.toServerResponse(request)
      yield* Effect.async<void>((resume) => {
        res.writeHead(outcome.response.status, {
          "content-type": "application/json; charset=utf-8",
          "content-length": String(full.length),
          "x-ms-request-id": trace.traceId
        })
        res.write(full.subarray(0, Math.floor(full.length / 2)), () => resume(Effect.void))
      })
      res.socket?.destroy()
      return yield* Effect.interrupt
    }
    record(outcome.response.status, outcome.log)
    return decorate(outcome.response)
  })

const definedOnly = <A extends Record<string, unknown>>(a: A): Partial<A> =>
  Object.fromEntries(Object.entries(a).filter(([, v]) => v !== undefined)) as Partial<A>
