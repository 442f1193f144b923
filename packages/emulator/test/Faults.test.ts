import type * as Http from "node:http"
import * as Https from "node:https"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import type { RunningEmulator } from "../src/index.js"
import { startEmulator } from "../src/index.js"
import { request } from "./fixtures/http.js"

let emu: RunningEmulator
beforeAll(async () => {
  emu = await startEmulator()
})
afterAll(() => emu.close())
beforeEach(() => emu.reset())

const redeem = async (code?: string) =>
  request(`${emu.authority}/${emu.defaults.tenantId}/oauth2/v2.0/token`, emu.caPem, {
    form: {
      grant_type: "authorization_code",
      client_id: emu.defaults.clientId,
      client_secret: emu.defaults.clientSecret,
      code: code ?? (await emu.signIn()).code,
      redirect_uri: emu.defaults.redirectUri
    }
  })

describe("fault injection", () => {
  it("status: 503 with Retry-After and an Entra body, for the next N matching requests only", async () => {
    await emu.injectFault({ endpoint: "token", kind: "status", status: 503, retryAfter: 7, times: 2 })
    const code = (await emu.signIn()).code
    for (let i = 0; i < 2; i++) {
      const a = await redeem(code)
      expect(a.status).toBe(503)
      expect(a.headers["retry-after"]).toBe("7")
      expect(a.json.error).toBe("temporarily_unavailable")
    }
    expect((await redeem(code)).status).toBe(200)
    const log = await emu.requests({ endpoint: "token" })
    expect(log.map((e) => e.fault)).toEqual(["status", "status", undefined])
  })

  it("status: an AADSTS preset, only for the named grant type", async () => {
    await emu.injectFault({
      endpoint: "token",
      kind: "status",
      status: 400,
      errorCode: 70008,
      grantType: "refresh_token"
    })
    const ok = await redeem()
    expect(ok.status).toBe(200)
    const refreshed = await request(`${emu.authority}/${emu.defaults.tenantId}/oauth2/v2.0/token`, emu.caPem, {
      form: {
        grant_type: "refresh_token",
        client_id: emu.defaults.clientId,
        client_secret: emu.defaults.clientSecret,
        refresh_token: ok.json.refresh_token
      }
    })
    expect(refreshed.status).toBe(400)
    expect(refreshed.json.error).toBe("invalid_grant")
    expect(refreshed.json.error_codes).toEqual([70008])
    const entry = (await emu.requests({ grantType: "refresh_token" }))[0]!
    expect(entry).toMatchObject({ errorCode: 70008, error: "invalid_grant", fault: "status" })
  })

  it("status: a given JSON body (over the management HTTP API)", async () => {
    const posted = await request(`${emu.authority}/_emulator/faults`, emu.caPem, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ endpoint: "token", kind: "status", status: 429, body: { error: "slow_down" } })
    })
    expect(posted.status).toBe(200)
    const a = await redeem()
    expect(a.status).toBe(429)
    expect(a.json).toEqual({ error: "slow_down" })
    const invalid = await request(`${emu.authority}/_emulator/faults`, emu.caPem, {
      method: "POST",
      body: JSON.stringify({ endpoint: "nowhere", kind: "drop" })
    })
    expect(invalid.status).toBe(400)
  })

  it("html: an HTML gateway page", async () => {
    await emu.injectFault({ endpoint: "token", kind: "html", status: 502 })
    const a = await redeem()
    expect(a.status).toBe(502)
    expect(a.headers["content-type"]).toContain("text/html")
    expect(a.json).toBeUndefined()
  })

  it("delay: answers normally after the delay", async () => {
    await emu.injectFault({ endpoint: "openid-configuration", kind: "delay", ms: 300 })
    const t = performance.now()
    const a = await request(
      `${emu.authority}/${emu.defaults.tenantId}/v2.0/.well-known/openid-configuration`,
      emu.caPem
    )
    expect(performance.now() - t).toBeGreaterThanOrEqual(290)
    expect(a.status).toBe(200)
  })

  it("drop: the connection is destroyed without an answer", async () => {
    await emu.injectFault({ endpoint: "keys", kind: "drop" })
    await expect(request(`${emu.authority}/common/discovery/v2.0/keys`, emu.caPem)).rejects.toThrow(
      /socket hang up|ECONNRESET/
    )
    expect((await request(`${emu.authority}/common/discovery/v2.0/keys`, emu.caPem)).status).toBe(200)
  })

  it("truncate: half the body then a cut; the code is spent, so a retry gets 54005", async () => {
    await emu.injectFault({ endpoint: "token", kind: "truncate" })
    const code = (await emu.signIn()).code
    const outcome = await new Promise<string>((resolve) => {
      const req = Https.request(`${emu.authority}/${emu.defaults.tenantId}/oauth2/v2.0/token`, {
        method: "POST",
        ca: emu.caPem,
        agent: false,
        headers: { "content-type": "application/x-www-form-urlencoded" }
      }, (res) => {
        let got = ""
        res.on("data", (c: Buffer) => (got += c.toString()))
        res.on("error", () => resolve(`aborted after ${got.length} bytes of ${res.headers["content-length"]}`))
        res.on("end", () => resolve(`complete ${got.length}`))
      })
      req.on("error", () => resolve("request error"))
      req.end(new URLSearchParams({
        grant_type: "authorization_code",
        client_id: emu.defaults.clientId,
        client_secret: emu.defaults.clientSecret,
        code,
        redirect_uri: emu.defaults.redirectUri
      }).toString())
    })
    expect(outcome).toMatch(/^aborted after \d+ bytes of \d+$/)
    expect((await redeem(code)).json.error_codes).toEqual([54005])
  })

  it("malformed: a non-JSON 200, or JSON without access_token", async () => {
    await emu.injectFault({ endpoint: "token", kind: "malformed" })
    await emu.injectFault({ endpoint: "token", kind: "malformed", variant: "no-token" })
    const text = await redeem()
    expect(text.status).toBe(200)
    expect(text.json).toBeUndefined()
    const noToken = await redeem()
    expect(noToken.status).toBe(200)
    expect(noToken.json.token_type).toBe("Bearer")
    expect(noToken.json.access_token).toBeUndefined()
  })

  it("faults the authorize and instance endpoints too", async () => {
    await emu.injectFault({ endpoint: "authorize", kind: "status", status: 500 })
    await expect(emu.signIn()).rejects.toThrow(/sign-in failed/)
    await emu.injectFault({
      endpoint: "instance",
      kind: "status",
      status: 400,
      errorCode: 50049,
      error: "invalid_instance"
    })
    const a = await request(`${emu.authority}/common/discovery/instance?api-version=1.1`, emu.caPem)
    expect(a.json.error).toBe("invalid_instance")
  })

  it("rejects an invalid fault spec from the Promise API", async () => {
    await expect(emu.injectFault({ endpoint: "token", kind: "delay" } as never)).rejects.toThrow(/invalid fault/)
  })
})

interface Stream {
  readonly req: Http.ClientRequest
  readonly res: Http.IncomingMessage
  readonly first: Buffer
  /** Resolves when the response is over, however it ended (complete, cut, destroyed). */
  readonly over: Promise<void>
}

/**
 * A token request whose answer is left paused after its first chunk (or its headers, with `headersOnly`), so the test
 * decides what the client does.
 */
const openStream = (authority: string, ca: string, code: string, headersOnly = false) =>
  new Promise<Stream>((resolve, reject) => {
    const req = Https.request(`${authority}/${emu.defaults.tenantId}/oauth2/v2.0/token`, {
      method: "POST",
      ca,
      agent: false,
      headers: { "content-type": "application/x-www-form-urlencoded" }
    }, (res) => {
      res.on("error", () => {})
      const over = new Promise<void>((done) => res.once("close", done))
      if (headersOnly) return resolve({ req, res, first: Buffer.alloc(0), over })
      res.once("data", (first: Buffer) => {
        res.pause()
        resolve({ req, res, first, over })
      })
    })
    req.on("error", reject)
    req.end(new URLSearchParams({
      grant_type: "authorization_code",
      client_id: emu.defaults.clientId,
      client_secret: emu.defaults.clientSecret,
      code,
      redirect_uri: emu.defaults.redirectUri
    }).toString())
  })

const activeStreams = async (e: RunningEmulator = emu): Promise<number> =>
  (await request(`${e.authority}/_emulator/settings`, e.caPem)).json.activeStreams

// Polls until the emulator has no fault stream left; bounded by the test's time-out, never by a fixed wait.
const noStreamsLeft = async () => {
  while ((await activeStreams()) !== 0) await new Promise((r) => setTimeout(r, 10))
}

const refreshWith = (refreshToken: string) =>
  request(`${emu.authority}/${emu.defaults.tenantId}/oauth2/v2.0/token`, emu.caPem, {
    form: {
      grant_type: "refresh_token",
      client_id: emu.defaults.clientId,
      client_secret: emu.defaults.clientSecret,
      refresh_token: refreshToken
    }
  })

describe("fault injection: throttling and server errors", () => {
  it("status 429 without retryAfter sends no Retry-After header", async () => {
    await emu.injectFault({ endpoint: "token", kind: "status", status: 429 })
    const a = await redeem()
    expect(a.status).toBe(429)
    expect(a.headers["retry-after"]).toBeUndefined()
    expect(a.json.error_codes).toEqual([90055])
  })

  it("status 500 is a transient Entra error; retryAfter as a string is sent verbatim (an HTTP date)", async () => {
    await emu.injectFault({ endpoint: "token", kind: "status", status: 500 })
    const date = "Wed, 21 Oct 2015 07:28:00 GMT"
    await emu.injectFault({ endpoint: "token", kind: "status", status: 503, retryAfter: date })
    const a = await redeem()
    expect(a.status).toBe(500)
    expect(a.json).toMatchObject({ error: "temporarily_unavailable", error_codes: [90033] })
    const b = await redeem()
    expect(b.status).toBe(503)
    expect(b.headers["retry-after"]).toBe(date)
  })

  it("a retryAfter string that would split the header is refused", async () => {
    await expect(
      emu.injectFault({ endpoint: "token", kind: "status", status: 429, retryAfter: "1\r\nx-evil: 1" })
    ).rejects.toThrow(/invalid fault/)
  })
})

describe("fault injection: endless and slow bodies", () => {
  it("endless: a 200 JSON body that never ends; it stops when the client goes away", async () => {
    await emu.injectFault({ endpoint: "token", kind: "endless" })
    const stream = await openStream(emu.authority, emu.caPem, (await emu.signIn()).code)
    expect(stream.res.statusCode).toBe(200)
    expect(stream.res.headers["content-length"]).toBeUndefined()
    expect(stream.first.toString().startsWith("{\"access_token\":\"")).toBe(true)
    let received = stream.first.length
    await new Promise<void>((resolve) => {
      stream.res.on("data", (chunk: Buffer) => {
        received += chunk.length
        if (received > 4 * 1024 * 1024) {
          stream.res.removeAllListeners("data")
          resolve()
        }
      })
      stream.res.resume()
    })
    expect(await activeStreams()).toBe(1)
    stream.req.destroy()
    await noStreamsLeft()
    expect((await emu.requests({ endpoint: "token" }))[0]).toMatchObject({ fault: "endless", status: 200 })
    expect((await redeem()).status).toBe(200)
  })

  it("slow: headers at once, then the body trickles; a client that gives up stops the writer", async () => {
    await emu.injectFault({ endpoint: "token", kind: "slow", intervalMs: 50, bytes: 1 })
    const stream = await openStream(emu.authority, emu.caPem, (await emu.signIn()).code)
    expect(stream.res.statusCode).toBe(200)
    const length = Number(stream.res.headers["content-length"])
    expect(stream.first.length).toBeLessThan(length)
    stream.req.destroy() // as a client whose time-out passed
    await stream.over
    await noStreamsLeft()
  })

  it("slow: a client that waits gets the whole, valid token answer (the handler ran once)", async () => {
    await emu.injectFault({ endpoint: "token", kind: "slow", intervalMs: 1, bytes: 256 })
    const code = (await emu.signIn()).code
    const a = await redeem(code)
    expect(a.status).toBe(200)
    expect(Number(a.headers["content-length"])).toBe(Buffer.byteLength(a.text))
    expect(typeof a.json.access_token).toBe("string")
    expect((await redeem(code)).json.error_codes).toEqual([54005])
    await noStreamsLeft()
  })

  it("endless and slow bodies stop, and close() returns, when the emulator closes", async () => {
    const other = await startEmulator()
    try {
      await other.injectFault({ endpoint: "token", kind: "endless" })
      await other.injectFault({ endpoint: "token", kind: "slow", intervalMs: 60_000 })
      const endlessBody = await openStream(other.authority, other.caPem, (await other.signIn()).code)
      const slowBody = await openStream(other.authority, other.caPem, (await other.signIn()).code, true)
      expect(await activeStreams(other)).toBe(2)
      endlessBody.res.resume()
      await other.close()
      await Promise.all([endlessBody.over, slowBody.over])
      expect(endlessBody.res.complete).toBe(false)
      expect(slowBody.res.complete).toBe(false)
    } finally {
      await other.close()
    }
  })
})

describe("fault injection: odd numbers in a 200 token answer", () => {
  const cases: ReadonlyArray<[string, Record<string, unknown>]> = [
    ["infinity", { expires_in: "Infinity", ext_expires_in: "Infinity" }],
    ["nan", { expires_in: "NaN" }],
    ["huge", { expires_in: 1e30 }],
    ["negative", { expires_in: -3600 }],
    ["fractional", { expires_in: 3599.5 }],
    ["null", { expires_in: null }],
    ["epoch", { expires_on: 86400, expires_in: 3599 }]
  ]
  for (const [variant, expected] of cases) {
    it(`numbers: ${variant}`, async () => {
      await emu.injectFault({ endpoint: "token", kind: "numbers", variant: variant as "infinity" })
      const a = await redeem()
      expect(a.status).toBe(200)
      expect(a.json).toMatchObject(expected)
      expect(typeof a.json.access_token).toBe("string")
      // The grant behind it is real: its refresh token works.
      expect((await refreshWith(a.json.refresh_token)).json.expires_in).toBe(3599)
    })
  }

  it("numbers: the default is infinity, fields go on top, and an error answer passes unchanged", async () => {
    await emu.injectFault({ endpoint: "token", kind: "numbers", fields: { refresh_in: -1, expires_on: 1e30 } })
    const a = await redeem()
    expect(a.json).toMatchObject({ expires_in: "Infinity", refresh_in: -1, expires_on: 1e30 })
    await emu.injectFault({ endpoint: "token", kind: "numbers", variant: "huge" })
    const spent = await refreshWith("not-a-refresh-token")
    expect(spent.status).toBe(400)
    expect(spent.json.expires_in).toBeUndefined()
  })
})
