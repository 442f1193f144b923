import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import type { RunningEmulator } from "../src/index.js"
import { startEmulator } from "../src/index.js"
import { decodeJwt, request, signInAndRedeem } from "./fixtures/http.js"

let emu: RunningEmulator
beforeAll(async () => {
  emu = await startEmulator()
})
afterAll(() => emu.close())
beforeEach(() => emu.reset())

const authorize = (tenant: string, extra: Record<string, string>) => {
  const url = new URL(`${emu.authority}/${tenant}/oauth2/v2.0/authorize`)
  const q = {
    client_id: emu.defaults.clientId,
    response_type: "code",
    redirect_uri: emu.defaults.redirectUri,
    scope: `openid profile ${emu.defaults.scope}`,
    ...extra
  }
  for (const [k, v] of Object.entries(q)) url.searchParams.set(k, v)
  return url.toString()
}

const redeem = (tenant: string, username: string) => signInAndRedeem(emu, { tenantId: tenant, username })

describe("tenant membership at sign-in", () => {
  it("a user with no account in the tenant is refused at sign-in (AADSTS50020), not only on refresh", async () => {
    const silent = await request(
      authorize(emu.defaults.otherTenantId, { prompt: "none", login_hint: "bob@contoso.example" }),
      emu.caPem
    )
    expect(silent.status).toBe(302)
    const fields = new URL(String(silent.headers.location)).searchParams
    expect(fields.get("error")).toBe("invalid_grant")
    expect(fields.get("error_description")).toContain(
      "AADSTS50020: User account 'bob@contoso.example' from identity " +
        `provider 'https://sts.windows.net/${emu.defaults.tenantId}/' does not exist in tenant '${emu.defaults.otherTenantId}'`
    )
    expect(fields.get("code")).toBeNull()
    await expect(emu.signIn({ tenantId: emu.defaults.otherTenantId, username: "bob@contoso.example" })).rejects.toThrow(
      /AADSTS50020/
    )
  })

  it("the interactive pages refuse the account on the sign-in page and issue no code", async () => {
    const answer = await request(authorize(emu.defaults.otherTenantId, {}), emu.caPem, {
      form: { emu_step: "signin", emu_pick: "bob@contoso.example" }
    })
    expect(answer.status).toBe(200)
    expect(answer.text).toContain("id=\"error\"")
    expect(answer.text).toContain("AADSTS50020")
    expect(answer.text).not.toContain("id=\"consent\"")
  })

  it("on common, a user signs in to the home tenant", async () => {
    const answer = await redeem("common", "bob@contoso.example")
    expect(decodeJwt(answer.json.access_token).payload.tid).toBe(emu.defaults.tenantId)
  })
})

describe("guests", () => {
  it("a guest's tokens carry idp = the home issuer, a per-tenant oid and sub, and email", async () => {
    const home = await redeem(emu.defaults.tenantId, "alice@contoso.example")
    const guest = await redeem(emu.defaults.otherTenantId, "alice@contoso.example")
    const h = decodeJwt(home.json.access_token).payload
    const g = decodeJwt(guest.json.access_token).payload
    expect(h.idp).toBeUndefined()
    expect(g.idp).toBe(`https://sts.windows.net/${emu.defaults.tenantId}/`)
    expect(g.tid).toBe(emu.defaults.otherTenantId)
    expect(h.oid).toBe(emu.defaults.users[0]!.oid)
    expect(g.oid).toMatch(/^[0-9a-f-]{36}$/)
    expect(g.oid).not.toBe(h.oid)
    expect(g.sub).not.toBe(h.sub)
    const id = decodeJwt(guest.json.id_token).payload
    expect(id).toMatchObject({ idp: g.idp, oid: g.oid, sub: g.sub, email: "alice@contoso.example" })
    // The same guest signs in again: the same guest object id.
    const again =
      decodeJwt((await redeem(emu.defaults.otherTenantId, "alice@contoso.example")).json.access_token).payload
    expect(again.oid).toBe(g.oid)
  })

  it("carol (Fabrikam) is a guest in Contoso in the default directory", async () => {
    const answer = await redeem(emu.defaults.tenantId, "carol@fabrikam.example")
    expect(decodeJwt(answer.json.access_token).payload.idp).toBe(
      `https://sts.windows.net/${emu.defaults.otherTenantId}/`
    )
  })
})
