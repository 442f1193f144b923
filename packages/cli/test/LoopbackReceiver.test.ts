import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, Exit, Fiber, Option, Redacted } from "effect"
import * as Http from "node:http"
import * as Net from "node:net"
import * as LoopbackReceiver from "../src/LoopbackReceiver.js"
import * as Spinner from "../src/Spinner.js"
import { httpGet } from "./fixtures/cli.js"

const redirect = (receiver: LoopbackReceiver.Receiver, query: Record<string, string>) => {
  const url = new URL(receiver.redirectUri)
  for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value)
  return url
}

const get = (url: URL | string) => Effect.promise(() => httpGet(url))

describe("LoopbackReceiver", () => {
  it.scoped("listens on 127.0.0.1 with a free port and the registered path", () =>
    Effect.gen(function*() {
      const receiver = yield* LoopbackReceiver.make({
        redirectUri: "http://127.0.0.1/callback",
        expectedState: "s"
      })
      assert.match(receiver.redirectUri, /^http:\/\/127\.0\.0\.1:\d+\/callback$/)
      assert.isAbove(receiver.port, 0)
    }))

  it.scoped("ignores a foreign state, answers a favicon 404, and holds the code's page until complete", () =>
    Effect.gen(function*() {
      const ignored: Array<string> = []
      const receiver = yield* LoopbackReceiver.make({
        redirectUri: "http://127.0.0.1/callback",
        expectedState: "the-state",
        onIgnored: (why) => ignored.push(why)
      })
      const waiting = yield* Effect.fork(receiver.awaitRedirect)
      const forged = yield* get(redirect(receiver, { code: "c", state: "other" }))
      assert.strictEqual(forged.status, 400)
      assert.strictEqual(forged.body, LoopbackReceiver.pages.ignored)
      assert.strictEqual((yield* get(new URL("/favicon.ico", receiver.redirectUri))).status, 404)
      assert.isTrue(Option.isNone(yield* Fiber.poll(waiting)))
      assert.strictEqual(yield* receiver.ignoredRequests, 1)

      const genuine = yield* Effect.fork(get(redirect(receiver, { code: "the-code", state: "the-state" })))
      const result = yield* Fiber.join(waiting)
      assert.strictEqual(Redacted.value(result.code), "the-code")
      yield* receiver.complete({ success: true })
      const page = yield* Fiber.join(genuine)
      assert.strictEqual(page.status, 200)
      assert.include(page.body, "You are signed in")
      assert.notInclude(page.body, "the-code")
      assert.strictEqual(page.headers["cache-control"], "no-store")
      assert.deepStrictEqual(ignored, ["a request to the redirect address with another sign-in's state"])
      // After the sign-in, the address only says it is finished.
      assert.include((yield* get(redirect(receiver, { code: "x", state: "the-state" }))).body, "has finished")
    }))

  it.scoped("a request line that is not a URL gets a 400 and does not stop the sign-in", () =>
    Effect.gen(function*() {
      const receiver = yield* LoopbackReceiver.make({ redirectUri: "http://127.0.0.1/cb", expectedState: "s" })
      const waiting = yield* Effect.fork(receiver.awaitRedirect)
      const answer = yield* Effect.promise(() =>
        new Promise<string>((resolve, reject) => {
          const socket = Net.connect(
            receiver.port,
            "127.0.0.1",
            () => socket.end("GET http://[/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
          )
          let text = ""
          socket.on("data", (chunk) => (text += chunk))
          socket.on("end", () => resolve(text))
          socket.on("error", reject)
        })
      )
      assert.match(answer, /^HTTP\/1\.1 400 /)
      assert.isTrue(Option.isNone(yield* Fiber.poll(waiting)))
      const genuine = yield* Effect.fork(get(redirect(receiver, { code: "the-code", state: "s" })))
      assert.strictEqual(Redacted.value((yield* Fiber.join(waiting)).code), "the-code")
      yield* receiver.complete({ success: true })
      assert.strictEqual((yield* Fiber.join(genuine)).status, 200)
    }))

  it.scoped("an error redirect with the right state fails the wait with the server's error", () =>
    Effect.gen(function*() {
      const receiver = yield* LoopbackReceiver.make({ redirectUri: "http://127.0.0.1/cb", expectedState: "s" })
      const waiting = yield* Effect.fork(Effect.either(receiver.awaitRedirect))
      const page = yield* get(redirect(receiver, { error: "access_denied", error_description: "<b>x</b>", state: "s" }))
      assert.strictEqual(page.status, 400)
      assert.notInclude(page.body, "<b>x</b>")
      const result = yield* Fiber.join(waiting)
      assert.isTrue(Either.isLeft(result))
      if (Either.isLeft(result)) {
        assert.strictEqual(result.left.reason, "ErrorResponse")
        assert.strictEqual(result.left.error, "access_denied")
      }
    }))

  it.scoped("closing the scope answers a held request with the failure page and frees the port", () =>
    Effect.gen(function*() {
      let port = 0
      const page = yield* Effect.scoped(
        Effect.gen(function*() {
          const receiver = yield* LoopbackReceiver.make({ redirectUri: "http://127.0.0.1/cb", expectedState: "s" })
          port = receiver.port
          const pending = yield* Effect.fork(get(redirect(receiver, { code: "c", state: "s" })))
          yield* receiver.awaitRedirect
          return pending
        })
      ).pipe(Effect.flatMap(Fiber.join))
      assert.include(page.body, "Sign-in failed")
      const exit = yield* Effect.exit(get(`http://127.0.0.1:${port}/cb`).pipe(Effect.timeout("2 seconds")))
      assert.isTrue(Exit.isFailure(exit))
    }))

  it.scoped("a taken port is a ReceiverError naming it", () =>
    Effect.gen(function*() {
      const server = Http.createServer()
      yield* Effect.acquireRelease(
        Effect.async<void>((resume) => void server.listen(0, "127.0.0.1", () => resume(Effect.void))),
        () => Effect.sync(() => server.close())
      )
      const port = (server.address() as { port: number }).port
      const error = yield* Effect.flip(
        LoopbackReceiver.make({ redirectUri: "http://127.0.0.1/cb", expectedState: "s", port })
      )
      assert.strictEqual(error._tag, "ReceiverError")
      assert.include(error.message, `127.0.0.1:${port} is already in use`)
    }))
})

// Whether this machine has an IPv6 loopback (a container may not): the `localhost` tests check what they can.
const hasIpv6Loopback = (): Promise<boolean> =>
  new Promise((resolve) => {
    const server = Net.createServer()
    server.once("error", () => resolve(false))
    server.listen({ host: "::1", port: 0 }, () => server.close(() => resolve(true)))
  })

/** Tries to listen where the receiver should already be: resolves with the error code, or "listening". */
const tryToTake = (host: string, port: number): Effect.Effect<string> =>
  Effect.async<string>((resume) => {
    const server = Net.createServer()
    server.once("error", (error: NodeJS.ErrnoException) => resume(Effect.succeed(error.code ?? "error")))
    server.listen({ host, port, exclusive: true }, () => server.close(() => resume(Effect.succeed("listening"))))
  })

describe("LoopbackReceiver addresses", () => {
  it.scoped("localhost holds the port on 127.0.0.1 and ::1: another process cannot take either side", () =>
    Effect.gen(function*() {
      const ipv6 = yield* Effect.promise(hasIpv6Loopback)
      const receiver = yield* LoopbackReceiver.make({ redirectUri: "http://localhost/callback", expectedState: "s" })
      const port = receiver.port
      assert.strictEqual(receiver.redirectUri, `http://localhost:${port}/callback`)
      assert.strictEqual(yield* tryToTake("127.0.0.1", port), "EADDRINUSE")
      assert.strictEqual((yield* get(`http://127.0.0.1:${port}/favicon.ico`)).body, LoopbackReceiver.pages.notFound)
      if (!ipv6) {
        // No IPv6 loopback here: nobody can listen on ::1, so the IPv4 side is all there is to hold.
        assert.deepStrictEqual(receiver.listening, [`127.0.0.1:${port}`])
        return
      }
      assert.deepStrictEqual(receiver.listening, [`127.0.0.1:${port}`, `[::1]:${port}`])
      assert.strictEqual(yield* tryToTake("::1", port), "EADDRINUSE")
      // A browser that resolves localhost to ::1 reaches this receiver, and the sign-in completes there.
      const waiting = yield* Effect.fork(receiver.awaitRedirect)
      const genuine = yield* Effect.fork(get(`http://[::1]:${port}/callback?code=the-code&state=s`))
      assert.strictEqual(Redacted.value((yield* Fiber.join(waiting)).code), "the-code")
      yield* receiver.complete({ success: true })
      assert.include((yield* Fiber.join(genuine)).body, "You are signed in")
    }))

  it.scoped("localhost on a given port whose ::1 side is taken is a ReceiverError naming [::1], and frees 127.0.0.1", () =>
    Effect.gen(function*() {
      if (!(yield* Effect.promise(hasIpv6Loopback))) return
      const squatter = Http.createServer()
      yield* Effect.acquireRelease(
        Effect.async<void>((resume) => void squatter.listen(0, "::1", () => resume(Effect.void))),
        () => Effect.sync(() => squatter.close())
      )
      const port = (squatter.address() as { port: number }).port
      const error = yield* Effect.flip(
        LoopbackReceiver.make({ redirectUri: "http://localhost/cb", expectedState: "s", port })
      )
      assert.strictEqual(error._tag, "ReceiverError")
      assert.include(error.message, `[::1]:${port} is already in use`)
      assert.strictEqual(yield* tryToTake("127.0.0.1", port), "listening")
    }))

  it.scoped("127.0.0.1 listens there only; [::1] listens on ::1 only", () =>
    Effect.gen(function*() {
      const v4 = yield* LoopbackReceiver.make({ redirectUri: "http://127.0.0.1/cb", expectedState: "s" })
      assert.deepStrictEqual(v4.listening, [`127.0.0.1:${v4.port}`])
      if (!(yield* Effect.promise(hasIpv6Loopback))) return
      const v6 = yield* LoopbackReceiver.make({ redirectUri: "http://[::1]/cb", expectedState: "s" })
      assert.deepStrictEqual(v6.listening, [`[::1]:${v6.port}`])
      assert.strictEqual(v6.redirectUri, `http://[::1]:${v6.port}/cb`)
      assert.strictEqual((yield* get(`http://[::1]:${v6.port}/favicon.ico`)).status, 404)
    }))

  it.scoped("a redirect URI on a host that is not loopback is refused before listening", () =>
    Effect.gen(function*() {
      for (const redirectUri of ["http://0.0.0.0/cb", "http://example.com/cb", "http://127.0.0.2/cb"]) {
        const error = yield* Effect.flip(LoopbackReceiver.make({ redirectUri, expectedState: "s" }))
        assert.strictEqual(error._tag, "ReceiverError")
        assert.include(error.message, "must be 127.0.0.1, localhost or [::1]")
      }
    }))
})

describe("Spinner", () => {
  it("formats the countdown", () => {
    assert.strictEqual(Spinner.formatRemaining(300_000), "5:00")
    assert.strictEqual(Spinner.formatRemaining(59_001), "1:00")
    assert.strictEqual(Spinner.formatRemaining(3_723_000), "1:02:03")
    assert.strictEqual(Spinner.formatRemaining(-5), "0:00")
  })

  it.scoped("draws in place on a terminal, counting down on the Clock, and clears its line when done", () =>
    Effect.gen(function*() {
      const written: Array<string> = []
      yield* Effect.scoped(
        Effect.gen(function*() {
          const spinner = yield* Spinner.make({
            label: "Waiting",
            deadline: 60_000,
            interactive: true,
            write: (text) => written.push(text)
          })
          yield* Effect.yieldNow()
          yield* spinner.note("a note")
        })
      )
      assert.match(written[0]!, /^\r\x1b\[2K\S Waiting 1:00 left/)
      assert.include(written, "\r\x1b[2Ka note\n")
      assert.strictEqual(written.at(-1), "\r\x1b[2K")
    }))
})
