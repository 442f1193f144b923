import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import type { RunningEmulator } from "../src/index.js"
import { startEmulator } from "../src/index.js"
import type { ClientCertificate } from "./fixtures/certificate.js"
import { assertion, makeCertificate } from "./fixtures/certificate.js"
import { decodeJwt, request } from "./fixtures/http.js"

const certClientId = "5d0c7b1e-3a2f-4e8d-9c6b-1a2b3c4d5e6f"
const assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
let emu: RunningEmulator
let cert: ClientCertificate
let otherCert: ClientCertificate
beforeAll(async () => {
  cert = await makeCertificate()
  otherCert = await makeCertificate("CN=not registered")
  emu = await startEmulator({
    config: {
      apps: [{
        clientId: certClientId,
        displayName: "Certificate daemon",
        type: "web",
        redirectUris: ["http://localhost"],
        certificates: [cert.certPem]
      }],
      // Long enough that two polls in a row are always "too fast", whatever the machine's load.
      deviceCodeInterval: 3600,
      deviceCodeLifetime: 3 * 3600
    }
  })
})
afterAll(() => emu.close())
beforeEach(() => emu.reset())

const tokenUrl = () => `${emu.authority}/${emu.defaults.tenantId}/oauth2/v2.0/token`
const post = (form: Record<string, string>, url = tokenUrl()) => request(url, emu.caPem, { form })
const apiDefault = () => `api://${emu.defaults.clientId}/.default`

describe("client credentials", () => {
  it("a secret gets an app-only token for {resource}/.default: idtyp app, no scp, no refresh token", async () => {
    const answer = await post({
      grant_type: "client_credentials",
      client_id: emu.defaults.clientId,
      client_secret: emu.defaults.clientSecret,
      scope: apiDefault()
    })
    expect(answer.status).toBe(200)
    expect(Object.keys(answer.json).sort()).toEqual(["access_token", "expires_in", "ext_expires_in", "token_type"])
    const payload = decodeJwt(answer.json.access_token).payload
    expect(payload).toMatchObject({ aud: emu.defaults.clientId, idtyp: "app", azp: emu.defaults.clientId, azpacr: "1" })
    expect(payload.scp).toBeUndefined()
    expect(payload.oid).toBe(payload.sub)
  })

  it("refuses a scope without /.default (1002012), a public client (7000218) and a wrong secret (7000215)", async () => {
    const notDefault = await post({
      grant_type: "client_credentials",
      client_id: emu.defaults.clientId,
      client_secret: emu.defaults.clientSecret,
      scope: emu.defaults.scope
    })
    expect(notDefault.json).toMatchObject({ error: "invalid_scope", error_codes: [1002012] })
    const publicClient = await post({
      grant_type: "client_credentials",
      client_id: emu.defaults.publicClientId,
      scope: apiDefault()
    })
    expect(publicClient.status).toBe(401)
    expect(publicClient.json).toMatchObject({ error: "invalid_client", error_codes: [7000218] })
    const wrong = await post({
      grant_type: "client_credentials",
      client_id: emu.defaults.clientId,
      client_secret: "nope",
      scope: apiDefault()
    })
    expect(wrong.json).toMatchObject({ error: "invalid_client", error_codes: [7000215] })
  })
})

describe("certificate credentials (client_assertion)", () => {
  const withAssertion = (jwt: string) =>
    post({
      grant_type: "client_credentials",
      client_id: certClientId,
      client_assertion_type: assertionType,
      client_assertion: jwt,
      scope: "https://graph.microsoft.com/.default"
    })

  it("accepts PS256 with x5t#S256 and RS256 with x5t; azpacr is 2", async () => {
    for (const [alg, thumbprint] of [["PS256", "x5t#S256"], ["RS256", "x5t"]] as const) {
      const answer = await withAssertion(assertion(cert, certClientId, tokenUrl(), { alg, thumbprint }))
      expect(answer.status, alg).toBe(200)
      expect(decodeJwt(answer.json.access_token).payload.azpacr).toBe("2")
    }
    // The request log says an assertion was sent (never the assertion itself).
    const logged = await emu.requests({ endpoint: "token" })
    expect(logged.map((e) => [e.hasClientAssertion, e.hasClientSecret])).toEqual([[true, false], [true, false]])
    expect(JSON.stringify(logged)).not.toContain("eyJ")
  })

  it("answers each broken assertion with Entra's code", async () => {
    const cases: ReadonlyArray<readonly [string, string, number]> = [
      ["unregistered certificate", assertion(otherCert, certClientId, tokenUrl()), 700027],
      ["wrong audience", assertion(cert, certClientId, `${emu.authority}/common/oauth2/token`), 50012],
      ["iss is not the client", assertion(cert, certClientId, tokenUrl(), { claims: { iss: "someone" } }), 700021],
      [
        "expired",
        assertion(cert, certClientId, tokenUrl(), { claims: { exp: Math.floor(Date.now() / 1000) - 60 } }),
        700024
      ],
      ["no jti", assertion(cert, certClientId, tokenUrl(), { claims: { jti: undefined } }), 50027],
      ["not a JWT", "abc", 50027]
    ]
    for (const [name, jwt, code] of cases) {
      const answer = await withAssertion(jwt)
      expect(answer.json.error_codes, name).toEqual([code])
    }
    // A signature made by another key under the registered certificate's thumbprint.
    const good = assertion(cert, certClientId, tokenUrl())
    const forged = assertion(otherCert, certClientId, tokenUrl()).split(".")[2]
    const [h, p] = good.split(".")
    expect((await withAssertion(`${h}.${p}.${forged}`)).json.error_codes).toEqual([700027])
  })

  it("a reused jti is accepted by default (MSAL reuses its assertion) and refused with clientAssertionReplay: reject", async () => {
    const jwt = assertion(cert, certClientId, tokenUrl())
    expect((await withAssertion(jwt)).status).toBe(200)
    expect((await withAssertion(jwt)).status).toBe(200)
    await using strict = await startEmulator({
      config: {
        apps: [{
          clientId: certClientId,
          type: "web",
          redirectUris: ["http://localhost"],
          certificates: [cert.certPem]
        }],
        clientAssertionReplay: "reject"
      }
    })
    const url = `${strict.authority}/${strict.defaults.tenantId}/oauth2/v2.0/token`
    const once = assertion(cert, certClientId, url)
    const send = () =>
      request(url, strict.caPem, {
        form: {
          grant_type: "client_credentials",
          client_id: certClientId,
          client_assertion_type: assertionType,
          client_assertion: once,
          scope: "https://graph.microsoft.com/.default"
        }
      })
    expect((await send()).status).toBe(200)
    expect((await send()).json).toMatchObject({ error: "invalid_client", error_codes: [50027] })
  })
})

describe("on-behalf-of", () => {
  const userToken = async () => {
    const { code } = await emu.signIn()
    return (await post({
      grant_type: "authorization_code",
      client_id: emu.defaults.clientId,
      client_secret: emu.defaults.clientSecret,
      code,
      redirect_uri: emu.defaults.redirectUri
    })).json.access_token as string
  }
  const obo = (token: string, extra: Record<string, string> = {}) =>
    post({
      grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer",
      requested_token_use: "on_behalf_of",
      client_id: emu.defaults.clientId,
      client_secret: emu.defaults.clientSecret,
      assertion: token,
      scope: "https://graph.microsoft.com/User.Read offline_access",
      ...extra
    })

  it("exchanges a user's token for this API for a Graph token in the same user's name", async () => {
    const answer = await obo(await userToken())
    expect(answer.status).toBe(200)
    expect(answer.json.scope).toBe("User.Read")
    expect(answer.json.refresh_token).toBeDefined()
    expect(decodeJwt(answer.json.access_token).payload).toMatchObject({
      aud: "https://graph.microsoft.com",
      preferred_username: "alice@contoso.example",
      scp: "User.Read"
    })
  })

  it("refuses an assertion for another audience (50013), a forged one (50013), an expired one (500133)", async () => {
    const token = await userToken()
    const graphToken = (await obo(token)).json.access_token as string
    expect((await obo(graphToken)).json).toMatchObject({ error: "invalid_grant", error_codes: [50013] })
    expect((await obo(`${token.slice(0, -4)}AAAA`)).json.error_codes).toEqual([50013])
    await emu.advanceTime(2 * 3600 * 1000)
    expect((await obo(token)).json).toMatchObject({ error: "invalid_grant", error_codes: [500133] })
    expect((await obo(token, { requested_token_use: "" })).json.error_codes).toEqual([900144])
  })
})

describe("device code", () => {
  const start = () =>
    post(
      { client_id: emu.defaults.publicClientId, scope: "openid offline_access User.Read" },
      `${emu.authority}/${emu.defaults.tenantId}/oauth2/v2.0/devicecode`
    )
  const poll = (deviceCode: string) =>
    post({
      grant_type: "urn:ietf:params:oauth:grant-type:device_code",
      client_id: emu.defaults.publicClientId,
      device_code: deviceCode
    })
  const page = (form: Record<string, string>) => request(`${emu.authority}/devicelogin`, emu.caPem, { form })

  it("pending, slow_down, then the user enters the code, signs in and accepts: tokens, once", async () => {
    const device = await start()
    expect(device.status).toBe(200)
    expect(device.json).toMatchObject({
      verification_uri: `${emu.authority}/devicelogin`,
      expires_in: 3 * 3600,
      interval: 3600
    })
    expect(device.json.message).toContain(device.json.user_code)
    expect((await poll(device.json.device_code)).json).toMatchObject({
      error: "authorization_pending",
      error_codes: [70016]
    })
    expect((await poll(device.json.device_code)).json.error).toBe("slow_down")
    const entry = await request(`${emu.authority}/devicelogin`, emu.caPem)
    expect(entry.text).toContain("id=\"otc\"")
    expect((await page({ emu_step: "code", otc: "WRONG" })).text).toContain("id=\"error\"")
    const signIn = await page({ emu_step: "code", otc: device.json.user_code.toLowerCase() })
    expect(signIn.text).toContain("data-username=\"alice@contoso.example\"")
    const consent = await page({ emu_step: "signin", otc: device.json.user_code, emu_pick: "alice@contoso.example" })
    expect(consent.text).toContain("id=\"accept\"")
    const accepted = await page({
      emu_step: "consent",
      otc: device.json.user_code,
      emu_user: "alice@contoso.example",
      emu_action: "accept"
    })
    expect(accepted.text).toContain("data-result=\"approved\"")
    await emu.advanceTime(3600 * 1000)
    const tokens = await poll(device.json.device_code)
    expect(tokens.status).toBe(200)
    expect(tokens.json).toMatchObject({ scope: "User.Read openid" })
    expect(tokens.json.refresh_token).toBeDefined()
    expect((await poll(device.json.device_code)).json.error_codes).toEqual([54005])
  })

  it("declined is authorization_declined; past expires_in is expired_token", async () => {
    const declined = await start()
    await page({
      emu_step: "consent",
      otc: declined.json.user_code,
      emu_user: "bob@contoso.example",
      emu_action: "cancel"
    })
    expect((await poll(declined.json.device_code)).json.error).toBe("authorization_declined")
    const expired = await start()
    await emu.advanceTime((3 * 3600 + 1) * 1000)
    expect((await poll(expired.json.device_code)).json).toMatchObject({ error: "expired_token", error_codes: [70019] })
  })
})
