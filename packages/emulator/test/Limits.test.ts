import * as Https from "node:https"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import type { RunningEmulator } from "../src/index.js"
import { startEmulator } from "../src/index.js"
import { mergeParams } from "../src/internal/requestBody.js"
import { maxClockOffsetMs } from "../src/Management.js"
import type { Answer } from "./fixtures/http.js"
import { request } from "./fixtures/http.js"

let emu: RunningEmulator
beforeAll(async () => {
  emu = await startEmulator()
})
afterAll(() => emu.close())
beforeEach(() => emu.reset())

const tokenUrl = (e: RunningEmulator) => `${e.authority}/${e.defaults.tenantId}/oauth2/v2.0/token`

const redeemForm = async (e: RunningEmulator, extra: Record<string, string> = {}) => ({
  grant_type: "authorization_code",
  client_id: e.defaults.clientId,
  client_secret: e.defaults.clientSecret,
  code: (await e.signIn()).code,
  redirect_uri: e.defaults.redirectUri,
  ...extra
})

/**
 * Sends a body in 64 KiB chunks for as long as the server has not answered (a client that would send forever),
 * then reads the answer. Resolves with the answer and how many bytes were sent.
 */
const sendUntilAnswered = (url: string, ca: string) =>
  new Promise<{ status: number; json: any; sent: number; headers: Record<string, unknown> }>((resolve, reject) => {
    const chunk = Buffer.alloc(64 * 1024, "a")
    let sent = 0
    let answered = false
    const req = Https.request(url, {
      method: "POST",
      ca,
      agent: false,
      headers: { "content-type": "application/x-www-form-urlencoded", "transfer-encoding": "chunked" }
    }, (res) => {
      answered = true
      let text = ""
      res.on("data", (c: Buffer) => (text += c.toString()))
      res.on("end", () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text), sent, headers: res.headers }))
      res.on("error", reject)
    })
    req.on("error", (e) => answered || reject(e))
    const pump = () => {
      while (!answered && !req.destroyed) {
        sent += chunk.length
        if (!req.write(chunk)) return void req.once("drain", pump)
      }
    }
    pump()
  })

describe("request bodies are bounded", () => {
  it("a declared Content-Length over 1 MiB gets 413 with an Entra error body before any byte is read", async () => {
    const answer = await new Promise<Answer>((resolve, reject) => {
      const req = Https.request(tokenUrl(emu), {
        method: "POST",
        ca: emu.caPem,
        agent: false,
        headers: { "content-type": "application/x-www-form-urlencoded", "content-length": String(2 * 1024 * 1024) }
      }, (res) => {
        let text = ""
        res.on("data", (c: Buffer) => (text += c.toString()))
        res.on(
          "end",
          () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: JSON.parse(text) })
        )
      })
      req.on("error", reject)
      req.flushHeaders() // headers only: the body is never sent
    })
    expect(answer.status).toBe(413)
    expect(answer.headers["connection"]).toBe("close")
    expect(answer.json).toMatchObject({ error: "invalid_request", error_codes: [90015] })
    expect(answer.json.error_description).toMatch(
      /^AADSTS90015: The request body is too large\. The limit is 1048576 bytes\./
    )
    expect(typeof answer.json.trace_id).toBe("string")
    expect((await emu.requests({ endpoint: "token" }))[0]).toMatchObject({ status: 413, errorCode: 90015 })
  })

  it("a body streamed without a length is cut at the cap: the answer comes while the client is still sending", async () => {
    const answer = await sendUntilAnswered(tokenUrl(emu), emu.caPem)
    expect(answer.status).toBe(413)
    expect(answer.json.error_codes).toEqual([90015])
    expect(answer.sent).toBeGreaterThan(1024 * 1024)
    // The emulator still serves.
    expect((await request(`${emu.authority}/_emulator/health`, emu.caPem)).status).toBe(200)
  })

  it("the cap is configurable, and a body of exactly the cap is accepted", async () => {
    const small = await startEmulator({ config: { maxRequestBodyBytes: 2000 } })
    try {
      const form = await redeemForm(small)
      const base = new URLSearchParams(form).toString()
      const exact = `${base}&pad=${"x".repeat(2000 - base.length - "&pad=".length)}`
      expect(Buffer.byteLength(exact)).toBe(2000)
      const ok = await request(tokenUrl(small), small.caPem, {
        body: exact,
        headers: { "content-type": "application/x-www-form-urlencoded" }
      })
      expect(ok.status).toBe(200)
      const over = await request(tokenUrl(small), small.caPem, {
        body: `${exact}y`,
        headers: { "content-type": "application/x-www-form-urlencoded" }
      })
      expect(over.status).toBe(413)
      expect(over.json.error_description).toContain("The limit is 2000 bytes.")
      // The management API is bounded too.
      const mgmt = await request(`${small.authority}/_emulator/faults`, small.caPem, { body: " ".repeat(2001) })
      expect(mgmt.status).toBe(413)
    } finally {
      await small.close()
    }
  })

  it("rejects a cap that is not a positive whole number", async () => {
    await expect(startEmulator({ config: { maxRequestBodyBytes: 0 } })).rejects.toThrow(/maxRequestBodyBytes/)
    await expect(startEmulator({ config: { maxRequestBodyBytes: 1.5 } })).rejects.toThrow(/maxRequestBodyBytes/)
  })
})

describe("form parameters are parsed in linear time", () => {
  const many = 100_000

  it("merges 100,000 form parameters with the query: the form wins, with its last value", () => {
    const query = new URLSearchParams("a=query&only=query&only=twice")
    const pairs = Array.from({ length: many }, (_, i) => `p${i}=${i}`)
    const form = new URLSearchParams(["a=first", ...pairs, "a=last"].join("&"))
    const merged = mergeParams(query, form)
    expect(merged.get("a")).toBe("last")
    expect(merged.getAll("a")).toEqual(["last"])
    expect(merged.getAll("only")).toEqual(["query", "twice"])
    expect(merged.get("p0")).toBe("0")
    expect(merged.get(`p${many - 1}`)).toBe(String(many - 1))
    expect([...merged].length).toBe(many + 3)
  })

  // Before the fix this request took about 18 s (quadratic); well inside the default time-out now.
  it("a token request with 100,000 extra parameters (under 1 MiB) is answered normally", async () => {
    const form = await redeemForm(emu)
    const body = [
      new URLSearchParams(form).toString(),
      ...Array.from({ length: many }, (_, i) => `p${i}=v`)
    ].join("&")
    expect(Buffer.byteLength(body)).toBeLessThan(1024 * 1024)
    const answer = await request(tokenUrl(emu), emu.caPem, {
      body,
      headers: { "content-type": "application/x-www-form-urlencoded" }
    })
    expect(answer.status).toBe(200)
    expect(typeof answer.json.access_token).toBe("string")
    expect((await emu.requests({ endpoint: "token" }))[0]).toMatchObject({
      clientId: emu.defaults.clientId,
      grantType: "authorization_code",
      hasClientSecret: true
    })
  })
})

describe("clock advances are bounded", () => {
  const advance = (body: string) =>
    request(`${emu.authority}/_emulator/time`, emu.caPem, {
      method: "POST",
      body,
      headers: { "content-type": "application/json" }
    })

  it("refuses negative, non-finite, fractional, non-numeric and over-ten-year advances with 400", async () => {
    for (
      const body of [
        "{\"advanceMs\": -1}",
        "{\"advanceMs\": 1e999}",
        "{\"advanceMs\": -1e999}",
        "{\"advanceMs\": 1.5}",
        "{\"advanceMs\": \"1000\"}",
        "{\"advanceMs\": null}",
        "{\"advanceMs\": true}",
        "{}",
        `{"advanceMs": ${maxClockOffsetMs + 1}}`
      ]
    ) {
      const answer = await advance(body)
      expect(answer.status, body).toBe(400)
      expect(answer.json.error).toBe("invalid_request")
    }
    const settings = await request(`${emu.authority}/_emulator/settings`, emu.caPem)
    expect(settings.json.clockOffsetMs).toBe(0)
  })

  it("accepts up to ten years ahead in total, then refuses more; reset puts the clock back", async () => {
    const day = 24 * 3600 * 1000
    const ok = await advance(`{"advanceMs": ${day}}`)
    expect(ok.status).toBe(200)
    expect(ok.json.clockOffsetMs).toBe(day)
    expect((await advance(`{"advanceMs": ${maxClockOffsetMs - day}}`)).status).toBe(200)
    const refused = await advance("{\"advanceMs\": 1}")
    expect(refused.status).toBe(400)
    expect(refused.json.message).toMatch(/more than 10 years/)
    await expect(emu.advanceTime(1)).rejects.toThrow(/more than 10 years/)
    await emu.reset()
    await expect(emu.advanceTime(Number.POSITIVE_INFINITY)).rejects.toThrow(/whole number/)
    await expect(emu.advanceTime(-5)).rejects.toThrow(/whole number/)
    await emu.advanceTime(1000)
  })
})
