/**
 * What an injected fault sends: canned answers (status, html, malformed), rewritten answers (numbers), and the
 * answers written straight to the socket (truncate, endless, slow).
 *
 * @internal
 */
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as FiberSet from "effect/FiberSet"
import type * as Http from "node:http"
import type { Trace } from "../EntraErrors.js"
import * as EntraErrors from "../EntraErrors.js"
import type { FaultSpec } from "../Faults.js"
import { oddNumbers } from "../Faults.js"
import type { LogInfo } from "./endpoint.js"
import { html, json } from "./endpoint.js"

/** @internal */
export const bodyText = (response: HttpServerResponse.HttpServerResponse): string =>
  response.body._tag === "Uint8Array" ? new TextDecoder().decode(response.body.body) : ""

/** The answer of a fault that replaces the handler (status, html, malformed). @internal */
export const cannedAnswer = (fault: FaultSpec, trace: Trace): HttpServerResponse.HttpServerResponse => {
  switch (fault.kind) {
    case "status": {
      const headers: Record<string, string> = fault.retryAfter === undefined ?
        {} :
        { "retry-after": typeof fault.retryAfter === "string" ? fault.retryAfter : String(Math.ceil(fault.retryAfter)) }
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

/** The `error` and first error code of a canned JSON answer, for the request log. @internal */
export const cannedLog = (response: HttpServerResponse.HttpServerResponse): LogInfo => {
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

/** A 200 JSON answer with the `numbers` fault's fields set; anything else passes unchanged. @internal */
export const withOddNumbers = (
  fault: Extract<FaultSpec, { kind: "numbers" }>,
  response: HttpServerResponse.HttpServerResponse
): HttpServerResponse.HttpServerResponse => {
  if (response.status !== 200) return response
  let body: unknown
  try {
    body = JSON.parse(bodyText(response))
  } catch {
    return response
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) return response
  return json({ ...body, ...oddNumbers[fault.variant ?? "infinity"], ...fault.fields })
}

const toServerResponse = (request: HttpServerRequest.HttpServerRequest): Http.ServerResponse =>
  NodeHttpServerRequest.toServerResponse(request)

// Resolves once the chunk is flushed to the socket (so a client that stops reading stops the writer: memory stays
// flat), with false when the connection is gone.
const write = (res: Http.ServerResponse, chunk: Uint8Array | string) =>
  Effect.async<boolean>((resume) => {
    if (res.destroyed || res.writableEnded) return resume(Effect.succeed(false))
    res.write(chunk, (error) => resume(Effect.succeed(error == null)))
  })

/**
 * Runs a writer in the emulator's fiber set (so closing the emulator interrupts it) and waits for it; interrupting
 * the request's fiber (the client went away) interrupts the writer too.
 */
const supervised = (streams: FiberSet.FiberSet<void, never>, writer: Effect.Effect<void>) =>
  Effect.acquireUseRelease(
    // A fiber forked in `acquire` would inherit its uninterruptible region: the writer must stay interruptible.
    FiberSet.run(streams, Effect.interruptible(writer)),
    Fiber.join,
    Fiber.interrupt
  )

/** Half the body, then the connection is cut (the handler ran: a code is spent). @internal */
export const truncated = (
  request: HttpServerRequest.HttpServerRequest,
  response: HttpServerResponse.HttpServerResponse,
  requestId: string
): Effect.Effect<never> =>
  Effect.gen(function*() {
    const full = Buffer.from(bodyText(response))
    const res = toServerResponse(request)
    res.writeHead(response.status, {
      "content-type": "application/json; charset=utf-8",
      "content-length": String(full.length),
      "x-ms-request-id": requestId
    })
    yield* write(res, full.subarray(0, Math.floor(full.length / 2)))
    res.socket?.destroy()
    return yield* Effect.interrupt
  })

/** A 200 JSON answer that never ends, written as fast as the client reads. @internal */
export const endless = (
  streams: FiberSet.FiberSet<void, never>,
  request: HttpServerRequest.HttpServerRequest,
  fault: Extract<FaultSpec, { kind: "endless" }>,
  requestId: string
): Effect.Effect<never> =>
  Effect.gen(function*() {
    const res = toServerResponse(request)
    res.writeHead(200, { "content-type": "application/json; charset=utf-8", "x-ms-request-id": requestId })
    const chunk = Buffer.alloc(fault.chunkBytes ?? 16 * 1024, "A")
    yield* supervised(
      streams,
      Effect.gen(function*() {
        if (!(yield* write(res, "{\"access_token\":\""))) return
        while (yield* write(res, chunk)) {
          // until the client goes away
        }
      })
    )
    res.socket?.destroy()
    return yield* Effect.interrupt
  })

/**
 * The handler's answer, headers at once, then the body a few bytes at a time. Succeeds with the (already sent)
 * answer when the client waited for all of it.
 *
 * @internal
 */
export const slow = (
  streams: FiberSet.FiberSet<void, never>,
  request: HttpServerRequest.HttpServerRequest,
  fault: Extract<FaultSpec, { kind: "slow" }>,
  response: HttpServerResponse.HttpServerResponse,
  requestId: string
): Effect.Effect<HttpServerResponse.HttpServerResponse> =>
  Effect.gen(function*() {
    const full = Buffer.from(bodyText(response))
    const res = toServerResponse(request)
    res.writeHead(response.status, {
      "content-type": "application/json; charset=utf-8",
      "content-length": String(full.length),
      "cache-control": "no-store, no-cache",
      "x-ms-request-id": requestId
    })
    res.flushHeaders()
    const step = fault.bytes ?? 1
    yield* supervised(
      streams,
      Effect.gen(function*() {
        for (let at = 0; at < full.length; at += step) {
          yield* Effect.sleep(fault.intervalMs ?? 1000)
          if (!(yield* write(res, full.subarray(at, at + step)))) return
        }
        res.end()
      })
    )
    if (res.writableEnded) return response
    res.socket?.destroy()
    return yield* Effect.interrupt
  })
