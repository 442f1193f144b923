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

describe("admin consent (/{tenant}/v2.0/adminconsent)", () => {
  const apiScope = () => emu.defaults.scope
  const adminConsentUrl = (tenant: string, extra: Record<string, string> = {}) => {
    const url = new URL(`${emu.authority}/${tenant}/v2.0/adminconsent`)
    const fields = {
      client_id: emu.defaults.clientId,
      redirect_uri: emu.defaults.redirectUri,
      scope: apiScope(),
      state: "s-42",
      ...extra
    }
    for (const [k, v] of Object.entries(fields)) url.searchParams.set(k, v)
    return url.toString()
  }
  const fabrikam = () => "3c0a6f1e-7d2b-4b8e-a5c4-9f1e2d3c4b5a"

  it("an administrator's Accept grants the permission to every user of that tenant, and only that tenant", async () => {
    // carol is a guest in Contoso: she may sign in there, but has granted nothing.
    const contosoCarol = { scopes: scopes(), username: "carol@fabrikam.example", tenantId: emu.defaults.tenantId }
    await expect(emu.signIn(contosoCarol)).rejects.toThrow(/consent_required/)
    await expect(emu.signIn({ scopes: scopes(), username: "bob@contoso.example" })).rejects.toThrow(/consent_required/)

    const signInPage = await request(adminConsentUrl(emu.defaults.tenantId), emu.caPem)
    expect(signInPage.status).toBe(200)
    expect(signInPage.text).toContain("id=\"signin-page\"")
    const url = adminConsentUrl(emu.defaults.tenantId)
    const consentPage = await request(url, emu.caPem, {
      form: { emu_step: "signin", emu_pick: "alice@contoso.example" }
    })
    expect(consentPage.text).toContain("id=\"for-organization\"")
    expect(consentPage.text).toContain("Contoso (emulated)")
    const accepted = await request(url, emu.caPem, {
      form: { emu_step: "consent", emu_user: "alice@contoso.example", emu_action: "accept" }
    })
    expect(accepted.status).toBe(302)
    const back = new URL(String(accepted.headers.location))
    expect(`${back.origin}${back.pathname}`).toBe(emu.defaults.redirectUri)
    expect(Object.fromEntries(back.searchParams)).toEqual({
      admin_consent: "True",
      tenant: emu.defaults.tenantId,
      scope: apiScope(),
      state: "s-42"
    })

    await expect(emu.signIn({ scopes: scopes(), username: "bob@contoso.example" })).resolves.toHaveProperty("code")
    await expect(emu.signIn(contosoCarol)).resolves.toHaveProperty("code")
    // Fabrikam's users were not consented for: carol at home still needs consent.
    await expect(emu.signIn({ scopes: scopes(), username: "carol@fabrikam.example", tenantId: fabrikam() }))
      .rejects.toThrow(/consent_required/)
    // A reset forgets the grant.
    await emu.reset()
    await expect(emu.signIn({ scopes: scopes(), username: "bob@contoso.example" })).rejects.toThrow(/consent_required/)
  })

  it("a user who does not administer the tenant is refused with AADSTS90094, even by forging the consent form", async () => {
    const url = adminConsentUrl(emu.defaults.tenantId)
    for (
      const form of [
        { emu_step: "signin", emu_pick: "bob@contoso.example" },
        { emu_step: "consent", emu_user: "bob@contoso.example", emu_action: "accept" },
        // carol administers nothing in Contoso, where she is a guest.
        { emu_step: "consent", emu_user: "carol@fabrikam.example", emu_action: "accept" }
      ]
    ) {
      const answer = await request(url, emu.caPem, { form })
      expect(answer.status, form.emu_pick ?? form.emu_user).toBe(200)
      expect(answer.text).toContain("AADSTS90094")
    }
    await expect(emu.signIn({ scopes: scopes(), username: "bob@contoso.example" })).rejects.toThrow(/consent_required/)
  })

  it("Cancel redirects with permission_denied and grants nothing", async () => {
    const url = adminConsentUrl(emu.defaults.tenantId)
    const cancelled = await request(url, emu.caPem, {
      form: { emu_step: "consent", emu_user: "alice@contoso.example", emu_action: "cancel" }
    })
    expect(cancelled.status).toBe(302)
    const back = new URL(String(cancelled.headers.location)).searchParams
    expect(back.get("error")).toBe("permission_denied")
    expect(back.get("error_description")).toMatch(/^AADSTS65004: /)
    expect(back.get("admin_consent")).toBe("False")
    expect(back.get("state")).toBe("s-42")
    await expect(emu.signIn({ scopes: scopes(), username: "bob@contoso.example" })).rejects.toThrow(/consent_required/)
  })

  it("an untrusted client or redirect URI gets an error page, never a redirect; a bad scope goes back", async () => {
    const unregistered = await request(
      adminConsentUrl(emu.defaults.tenantId, { redirect_uri: "https://evil.example/" }),
      emu.caPem
    )
    expect(unregistered.status).toBeGreaterThanOrEqual(400)
    expect(unregistered.headers.location).toBeUndefined()
    expect(unregistered.text).toContain("AADSTS50011")
    const unknownApp = await request(
      adminConsentUrl(emu.defaults.tenantId, { client_id: "00000000-0000-0000-0000-000000000001" }),
      emu.caPem
    )
    expect(unknownApp.headers.location).toBeUndefined()
    expect(unknownApp.text).toContain("AADSTS700016")
    const badScope = await request(
      adminConsentUrl(emu.defaults.tenantId, { scope: "https://unknown.example/x" }),
      emu.caPem
    )
    expect(badScope.status).toBe(302)
    const back = new URL(String(badScope.headers.location)).searchParams
    expect(back.get("error")).toBeTruthy()
    expect(back.get("state")).toBe("s-42")
  })
})
