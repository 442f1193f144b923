import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { matchesRedirectUri } from "../src/AuthorizeEndpoint.js"
import type { RunningEmulator } from "../src/index.js"
import { startEmulator } from "../src/index.js"
import { redirectParams, request } from "./fixtures/http.js"

let emu: RunningEmulator
beforeAll(async () => {
  emu = await startEmulator()
})
afterAll(() => emu.close())
beforeEach(() => emu.reset())

const authorizeUrl = (params: Record<string, string>, tenant?: string) => {
  const url = new URL(`${emu.authority}/${tenant ?? emu.defaults.tenantId}/oauth2/v2.0/authorize`)
  const all: Record<string, string> = {
    client_id: emu.defaults.clientId,
    response_type: "code",
    redirect_uri: emu.defaults.redirectUri,
    scope: `openid profile offline_access ${emu.defaults.scope}`,
    state: "st-1",
    ...params
  }
  for (const [k, v] of Object.entries(all)) url.searchParams.set(k, v)
  return url.toString()
}

/** Posts a sign-in page form back with extra fields, as a browser would. */
const submit = (page: string, formId: string, extra: Record<string, string>) => {
  const form = page.slice(page.indexOf(`<form id="${formId}"`))
  const action = /action="([^"]+)"/.exec(form)![1]!
  const fields: Record<string, string> = {}
  for (
    const m of form.slice(0, form.indexOf("</form>")).matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)
  ) {
    fields[m[1]!] = m[2]!.replace(/&amp;/g, "&").replace(/&quot;/g, "\"").replace(/&#39;/g, "'").replace(/&lt;/g, "<")
      .replace(/&gt;/g, ">")
  }
  return request(`${emu.authority}${action}`, emu.caPem, { form: { ...fields, ...extra } })
}

describe("authorize endpoint", () => {
  it("signs in headlessly with prompt=none and login_hint: code, client_info, state, session_state", async () => {
    const answer = await request(
      authorizeUrl({
        prompt: "none",
        login_hint: "bob@contoso.example",
        redirect_uri: "http://localhost:49152/callback"
      }),
      emu.caPem
    )
    expect(answer.status).toBe(302)
    const location = String(answer.headers.location)
    expect(location.startsWith("http://localhost:49152/callback?code=")).toBe(true)
    expect(location.endsWith("#")).toBe(true)
    const q = redirectParams(location)
    expect([...q.keys()]).toEqual(["code", "client_info", "state", "session_state"])
    expect(q.get("state")).toBe("st-1")
    expect(JSON.parse(Buffer.from(q.get("client_info")!, "base64url").toString()).uid).toBe(emu.defaults.users[1]!.oid)
  })

  it("matches loopback redirect URIs on any port but an exact path", async () => {
    for (const uri of ["http://127.0.0.1:1234", "http://127.0.0.1:5678/", "http://localhost:9/callback"]) {
      const answer = await request(
        authorizeUrl({ prompt: "none", login_hint: "alice@contoso.example", redirect_uri: uri }),
        emu.caPem
      )
      expect(answer.status).toBe(302)
    }
    // A registered URI without a path comes back with "/".
    const root = await request(
      authorizeUrl({ prompt: "none", login_hint: "alice@contoso.example", redirect_uri: "http://127.0.0.1:1234" }),
      emu.caPem
    )
    expect(String(root.headers.location).startsWith("http://127.0.0.1:1234/?code=")).toBe(true)
    expect(matchesRedirectUri(["http://localhost"], "http://localhost:80/other")).toBe(false)
    expect(matchesRedirectUri(["http://localhost"], "http://[::1]:80/")).toBe(false)
    expect(matchesRedirectUri(["https://localhost/callback"], "https://localhost:8443/callback")).toBe(false)
  })

  it("shows an error page, never a redirect, for an unregistered redirect URI (50011) or an unknown client", async () => {
    const bad = await request(
      authorizeUrl({ prompt: "none", login_hint: "alice@contoso.example", redirect_uri: "https://evil.example/cb" }),
      emu.caPem
    )
    expect(bad.status).toBe(400)
    expect(bad.headers.location).toBeUndefined()
    expect(bad.headers["content-type"]).toContain("text/html")
    expect(bad.text).toContain("Sorry, but we're having trouble signing you in.")
    expect(bad.text).toContain("AADSTS50011")
    expect(bad.text).not.toContain("href=\"https://evil.example")
    const unknown = await request(authorizeUrl({ client_id: "00000000-0000-0000-0000-000000000001" }), emu.caPem)
    expect(unknown.status).toBe(400)
    expect(unknown.headers.location).toBeUndefined()
    expect(unknown.text).toContain("AADSTS700016")
    const tenant = await request(authorizeUrl({}, "unknown.example"), emu.caPem)
    expect(tenant.text).toContain("AADSTS90002")
  })

  it("redirects login_required (50058) for prompt=none without a known user", async () => {
    const answer = await request(authorizeUrl({ prompt: "none" }), emu.caPem)
    expect(answer.status).toBe(302)
    const q = redirectParams(String(answer.headers.location))
    expect(q.get("error")).toBe("login_required")
    expect(q.get("error_description")).toMatch(/^AADSTS50058: /)
    expect(q.get("error_uri")).toBe("https://login.microsoftonline.com/error?code=50058")
    expect(q.get("state")).toBe("st-1")
    // Entra's encoding: lower-case hex escapes.
    expect(String(answer.headers.location)).toContain("%3a")
  })

  it("redirects invalid_scope for an unknown scope and invalid_resource for an unknown resource", async () => {
    const answer = await request(
      authorizeUrl({ prompt: "none", login_hint: "alice@contoso.example", scope: `api://${emu.defaults.clientId}/x` }),
      emu.caPem
    )
    expect(redirectParams(String(answer.headers.location)).get("error")).toBe("invalid_scope")
    const resource = await request(
      authorizeUrl({ prompt: "none", login_hint: "alice@contoso.example", scope: "api://nope/x" }),
      emu.caPem
    )
    expect(redirectParams(String(resource.headers.location)).get("error")).toBe("invalid_resource")
  })

  it("runs the interactive pages: pick a user, then consent; Accept redirects with a code", async () => {
    const signIn = await request(authorizeUrl({ login_hint: "alice@contoso.example" }), emu.caPem)
    expect(signIn.status).toBe(200)
    expect(signIn.text).toContain("id=\"username\"")
    expect(signIn.text).toContain("id=\"next\"")
    expect(signIn.text).toContain("data-username=\"bob@contoso.example\"")
    const consent = await submit(signIn.text, "signin", { emu_pick: "bob@contoso.example" })
    expect(consent.status).toBe(200)
    expect(consent.text).toContain("id=\"accept\"")
    expect(consent.text).toContain("id=\"cancel\"")
    expect(consent.text).toContain(`data-scope="${emu.defaults.scope}"`)
    const accepted = await submit(consent.text, "consent", { emu_action: "accept" })
    expect(accepted.status).toBe(302)
    const q = redirectParams(String(accepted.headers.location))
    expect(q.get("code")).toMatch(/^0\.A/)
    expect(JSON.parse(Buffer.from(q.get("client_info")!, "base64url").toString()).uid).toBe(emu.defaults.users[1]!.oid)
  })

  it("re-shows the sign-in page with an error for an unknown username", async () => {
    const signIn = await request(authorizeUrl({}), emu.caPem)
    const again = await submit(signIn.text, "signin", { username: "nobody@contoso.example", emu_next: "1" })
    expect(again.status).toBe(200)
    expect(again.text).toContain("id=\"error\"")
    expect(again.text).toContain("value=\"nobody@contoso.example\"")
  })

  it("redirects access_denied (65004) when consent is cancelled", async () => {
    const signIn = await request(authorizeUrl({}), emu.caPem)
    const consent = await submit(signIn.text, "signin", { username: "alice@contoso.example", emu_next: "1" })
    const cancelled = await submit(consent.text, "consent", { emu_action: "cancel" })
    expect(cancelled.status).toBe(302)
    const q = redirectParams(String(cancelled.headers.location))
    expect(q.get("error")).toBe("access_denied")
    expect(q.get("error_subcode")).toBe("cancel")
    expect(q.get("error_description")).toMatch(/^AADSTS65004: /)
    expect(q.get("state")).toBe("st-1")
  })

  it("answers response_mode=form_post with an auto-submitting form", async () => {
    const answer = await request(
      authorizeUrl({ prompt: "none", login_hint: "alice@contoso.example", response_mode: "form_post" }),
      emu.caPem
    )
    expect(answer.status).toBe(200)
    expect(answer.headers.location).toBeUndefined()
    expect(answer.text).toContain(`action="${emu.defaults.redirectUri}"`)
    expect(answer.text).toContain("document.forms[0].submit()")
    expect(answer.text).toMatch(/name="code" value="0\.A[^"]+"/)
    expect(answer.text).toContain("name=\"state\" value=\"st-1\"")
  })

  it("signs in with the session cookie on prompt=none without login_hint", async () => {
    const first = await request(authorizeUrl({ prompt: "none", login_hint: "bob@contoso.example" }), emu.caPem)
    const cookie = String(first.headers["set-cookie"]).split(";")[0]!
    const again = await request(authorizeUrl({ prompt: "none" }), emu.caPem, { headers: { cookie } })
    const q = redirectParams(String(again.headers.location))
    expect(JSON.parse(Buffer.from(q.get("client_info")!, "base64url").toString()).uid).toBe(emu.defaults.users[1]!.oid)
  })
})
