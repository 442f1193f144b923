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
