import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { defaultIds } from "../src/EmulatorConfig.js"
import type { RunningEmulator } from "../src/index.js"
import { startEmulator } from "../src/index.js"
import { decodeJwt, request } from "./fixtures/http.js"

let emu: RunningEmulator
beforeAll(async () => {
  emu = await startEmulator({
    config: {
      apps: [{
        clientId: defaultIds.clientId,
        type: "web",
        secrets: [defaultIds.clientSecret],
        redirectUris: [defaultIds.redirectUri],
        apiScopes: ["access_as_user"],
        requireConsent: true,
        adminConsent: ["User.Read"]
      }]
    }
  })
})
afterAll(() => emu.close())
beforeEach(() => emu.reset())

const scopes = () => ["openid", "offline_access", emu.defaults.scope]

const consentInteractively = async (username: string) => {
  const url = new URL(`${emu.authority}/${emu.defaults.tenantId}/oauth2/v2.0/authorize`)
  for (
    const [k, v] of Object.entries({
      client_id: emu.defaults.clientId,
      response_type: "code",
      redirect_uri: emu.defaults.redirectUri,
      scope: scopes().join(" ")
    })
  ) url.searchParams.set(k, v)
  const consentPage = await request(url.toString(), emu.caPem, { form: { emu_step: "signin", emu_pick: username } })
  expect(consentPage.text).toContain("id=\"accept\"")
  const accepted = await request(url.toString(), emu.caPem, {
    form: { emu_step: "consent", emu_user: username, emu_action: "accept" }
  })
  expect(accepted.status).toBe(302)
  return new URL(String(accepted.headers.location)).searchParams.get("code")!
}

const tokenUrl = () => `${emu.authority}/${emu.defaults.tenantId}/oauth2/v2.0/token`
const client = () => ({ client_id: emu.defaults.clientId, client_secret: emu.defaults.clientSecret })

describe("consent model (requireConsent)", () => {
  it("a silent sign-in for an ungranted scope is consent_required (AADSTS65001); after consent it succeeds", async () => {
    await expect(emu.signIn({ scopes: scopes() })).rejects.toThrow(/consent_required.*AADSTS65001/)
    await consentInteractively("alice@contoso.example")
    await expect(emu.signIn({ scopes: scopes() })).resolves.toHaveProperty("code")
    // Consent is per user: bob has not granted anything.
    await expect(emu.signIn({ scopes: scopes(), username: "bob@contoso.example" })).rejects.toThrow(/consent_required/)
  })

  it("a refresh token mints only granted scopes: admin-consented User.Read yes, Mail.Send 65001", async () => {
    const code = await consentInteractively("alice@contoso.example")
    const redeemed = await request(tokenUrl(), emu.caPem, {
      form: { grant_type: "authorization_code", ...client(), code, redirect_uri: emu.defaults.redirectUri }
    })
    expect(redeemed.status).toBe(200)
    const refresh = (scope: string) =>
      request(tokenUrl(), emu.caPem, {
        form: { grant_type: "refresh_token", ...client(), refresh_token: redeemed.json.refresh_token, scope }
      })
    const mail = await refresh("https://graph.microsoft.com/Mail.Send")
    expect(mail.json).toMatchObject({ error: "invalid_grant", error_codes: [65001], suberror: "consent_required" })
    expect(mail.json.error_description).toContain(emu.defaults.clientId)
    const user = await refresh("https://graph.microsoft.com/User.Read")
    expect(user.status).toBe(200)
    expect(decodeJwt(user.json.access_token).payload.scp).toBe("User.Read")
  })

  it("on-behalf-of needs the user's consent to the middle tier for the downstream scope", async () => {
    const code = await consentInteractively("alice@contoso.example")
    const token = (await request(tokenUrl(), emu.caPem, {
      form: { grant_type: "authorization_code", ...client(), code, redirect_uri: emu.defaults.redirectUri }
    })).json.access_token
    const obo = (scope: string) =>
      request(tokenUrl(), emu.caPem, {
        form: {
          grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer",
          requested_token_use: "on_behalf_of",
          ...client(),
          assertion: token,
          scope
        }
      })
    expect((await obo("https://graph.microsoft.com/Mail.Read")).json.error_codes).toEqual([65001])
    expect((await obo("https://graph.microsoft.com/User.Read")).status).toBe(200)
  })
})
