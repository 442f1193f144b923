import * as Undici from "@effect/platform-node/Undici"
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Fiber } from "effect"
import * as Http from "node:http"
import type * as Net from "node:net"
import type { Outcome } from "../src/internal/tokenRetry.js"
import { postForm } from "../src/internal/undiciExchange.js"

type Handler = (request: Http.IncomingMessage, response: Http.ServerResponse, body: string) => void

/** A loopback HTTP server answering with `handler`; it records each request's body and each socket's close. */
const serve = (handler: Handler) =>
  Effect.acquireRelease(
    Effect.async<{
      readonly origin: string
      readonly bodies: Array<string>
      readonly closedSockets: () => number
      readonly server: Http.Server
    }>((resume) => {
      const bodies: Array<string> = []
      let closed = 0
      const server = Http.createServer((request, response) => {
        let body = ""
        request.on("data", (chunk) => (body += chunk))
        request.on("end", () => {
          bodies.push(body)
          handler(request, response, body)
        })
      })
      server.on("connection", (socket: Net.Socket) => socket.on("close", () => closed++))
      server.listen(0, "127.0.0.1", () => {
        const { port } = server.address() as Net.AddressInfo
        resume(Effect.succeed({ origin: `http://127.0.0.1:${port}`, bodies, closedSockets: () => closed, server }))
      })
    }),
    ({ server }) =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  )

const agent = Effect.acquireRelease(
  Effect.sync(() => new Undici.Agent()),
  (pool) => Effect.promise(() => pool.destroy())
)

const post = (origin: string, body = "grant_type=authorization_code&code=c0de") => ({
  origin,
  path: "/tenant/oauth2/v2.0/token",
  headers: { accept: "application/json", "content-type": "application/x-www-form-urlencoded" },
  body
})

const limits = (timeoutMs = 5_000, maxBytes = 1024) => ({
  timeoutMs,
  maxBytes,
  onTimeout: (): Outcome => ({ _tag: "Timeout", timeoutMs, byDeadline: false })
})

const answer = (outcome: Outcome) => {
  assert.strictEqual(outcome._tag, "Answer")
  return outcome as Extract<Outcome, { readonly _tag: "Answer" }>
}

/** Waits until the server has seen a socket of its close (the request was aborted, not left open). */
const socketClosed = (server: { readonly closedSockets: () => number }) =>
  Effect.promise(() =>
    new Promise<void>((resolve) => {
      const check = () => (server.closedSockets() >= 1 ? resolve() : setTimeout(check, 5))
      check()
    })
  )

describe("undiciExchange.postForm (a loopback server)", () => {
  it.scoped("a 200: the status, lower-cased headers and the whole body; the form is sent as is", () =>
    Effect.gen(function*() {
      const server = yield* serve((_, response) => {
        response.writeHead(200, { "Content-Type": "application/json", "X-Ms-Request-Id": "r-1" })
        response.end(JSON.stringify({ access_token: "at", expires_in: 3600 }))
      })
      const pool = yield* agent
      const outcome = answer(yield* postForm(pool, post(server.origin), limits()))
      assert.strictEqual(outcome.status, 200)
      assert.strictEqual(outcome.headers["x-ms-request-id"], "r-1")
      assert.deepStrictEqual(outcome.body, { _tag: "Text", text: "{\"access_token\":\"at\",\"expires_in\":3600}" })
      assert.deepStrictEqual(server.bodies, ["grant_type=authorization_code&code=c0de"])
    }))

  it.scoped("a 4xx: its body is read like any other (sent in several chunks)", () =>
    Effect.gen(function*() {
      const server = yield* serve((_, response) => {
        response.writeHead(400, { "content-type": "application/json" })
        response.write("{\"error\":")
        setTimeout(() => response.end("\"invalid_grant\"}"), 5)
      })
      const pool = yield* agent
      const outcome = answer(yield* postForm(pool, post(server.origin), limits()))
      assert.strictEqual(outcome.status, 400)
      assert.deepStrictEqual(outcome.body, { _tag: "Text", text: "{\"error\":\"invalid_grant\"}" })
    }))

  it.scoped("a declared length over the cap is TooLarge at once, the connection dropped", () =>
    Effect.gen(function*() {
      const server = yield* serve((_, response) => {
        response.writeHead(200, { "content-length": "4096" })
        response.write("x".repeat(100))
        // The rest never comes: only the cap can end this attempt.
      })
      const pool = yield* agent
      const outcome = answer(yield* postForm(pool, post(server.origin), limits(60_000, 1024)))
      assert.deepStrictEqual(outcome.body, { _tag: "TooLarge", maxBytes: 1024 })
    }))

  it.scoped("an endless body without a length stops at the cap: TooLarge, the socket closed", () =>
    Effect.gen(function*() {
      let sent = 0
      const server = yield* serve((_, response) => {
        response.writeHead(200, { "content-type": "application/json" })
        const chunk = "y".repeat(512)
        const pump = () => {
          while (response.writable && sent < 64 * 1024 * 1024) {
            sent += chunk.length
            if (!response.write(chunk)) return response.once("drain", pump)
          }
        }
        pump()
      })
      const pool = yield* agent
      const outcome = answer(yield* postForm(pool, post(server.origin), limits(60_000, 2048)))
      assert.deepStrictEqual(outcome.body, { _tag: "TooLarge", maxBytes: 2048 })
      // The server stops writing when undici destroys the socket; it never sends the 64 MiB.
      yield* socketClosed(server)
      assert.isBelow(sent, 64 * 1024 * 1024)
    }))

  it.scoped("a hung server: the attempt's time-out is the outcome, and its socket is closed", () =>
    Effect.gen(function*() {
      const server = yield* serve(() => {
        // Never answers.
      })
      const pool = yield* agent
      const outcome = yield* postForm(pool, post(server.origin), limits(50))
      assert.deepStrictEqual(outcome, { _tag: "Timeout", timeoutMs: 50, byDeadline: false })
      yield* socketClosed(server)
    }))

  it.scoped("interrupting the attempt aborts the request: the server sees its socket close", () =>
    Effect.gen(function*() {
      const received = yield* Deferred.make<void>()
      const server = yield* serve(() => Deferred.unsafeDone(received, Effect.void))
      const pool = yield* agent
      const fiber = yield* Effect.fork(postForm(pool, post(server.origin), limits(60_000)))
      yield* Deferred.await(received)
      yield* Fiber.interrupt(fiber)
      yield* socketClosed(server)
    }))

  it.scoped("a refused connection is a Transport outcome carrying undici's error", () =>
    Effect.gen(function*() {
      const server = yield* serve(() => undefined)
      const origin = server.origin
      yield* Effect.async<void>((resume) => {
        server.server.close(() => resume(Effect.void))
      })
      const pool = yield* agent
      const outcome = yield* postForm(pool, post(origin), limits())
      assert.strictEqual(outcome._tag, "Transport")
      assert.strictEqual((outcome as { readonly cause: { readonly code?: string } }).cause.code, "ECONNREFUSED")
    }))

  it.scoped("a body cut off after the headers is Broken, not a transport failure", () =>
    Effect.gen(function*() {
      const server = yield* serve((_, response) => {
        response.writeHead(200, { "content-length": "100" })
        response.write("{\"access_token\":")
        setTimeout(() => response.socket?.destroy(), 5)
      })
      const pool = yield* agent
      const outcome = answer(yield* postForm(pool, post(server.origin), limits()))
      assert.strictEqual(outcome.body._tag, "Broken")
    }))

  it.effect("interrupted before its request starts: undici aborts it as soon as it does", () =>
    Effect.gen(function*() {
      let handler: Parameters<Undici.Agent["dispatch"]>[1] | undefined
      const fake = {
        dispatch: (_: unknown, h: Parameters<Undici.Agent["dispatch"]>[1]) => {
          handler = h
          return true
        }
      }
      const fiber = yield* Effect.fork(postForm(fake, post("http://127.0.0.1:1"), limits(60_000)))
      yield* Effect.yieldNow()
      yield* Fiber.interrupt(fiber)
      const aborted: Array<unknown> = []
      handler!.onRequestStart!({ abort: (reason: unknown) => aborted.push(reason) } as never, undefined)
      assert.strictEqual(aborted.length, 1)
      assert.match(String(aborted[0]), /Interrupted/)
    }))

  it.effect("an answer complete before the timer fires is the outcome; the request is not aborted", () =>
    Effect.gen(function*() {
      const aborted: Array<unknown> = []
      const fake = {
        dispatch: (_: unknown, h: Parameters<Undici.Agent["dispatch"]>[1]) => {
          const controller = { abort: (reason: unknown) => aborted.push(reason) } as never
          h.onRequestStart!(controller, undefined)
          h.onResponseStart!(controller, 200, { "content-type": "application/json" }, "OK")
          h.onResponseData!(controller, Buffer.from("{\"a\":1}"))
          h.onResponseEnd!(controller, {})
          // A late error (the socket closing) changes nothing.
          h.onResponseError!(controller, new Error("late"))
          return true
        }
      }
      const outcome = answer(yield* postForm(fake, post("http://127.0.0.1:1"), limits(1)))
      assert.deepStrictEqual(outcome.body, { _tag: "Text", text: "{\"a\":1}" })
      assert.deepStrictEqual(aborted, [])
    }))
})
