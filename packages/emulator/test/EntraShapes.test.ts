import * as Crypto from "node:crypto"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import type { RunningEmulator } from "../src/index.js"
import { startEmulator } from "../src/index.js"
import { decodeJwt, request } from "./fixtures/http.js"

let emu: RunningEmulator
beforeAll(async () => {
  emu = await startEmulator()
})
afterAll(() => emu.close())
beforeEach(() => emu.reset())

const tokenUrl = (query = "") => `${emu.authority}/${emu.defaults.tenantId}/oauth2/v2.0/token${query}`

const redeem = async (scopes: ReadonlyArray<string>, extra: Record<string, string> = {}, query = "") => {
  const { code } = await emu.signIn({ scopes })
  return request(tokenUrl(query), emu.caPem, {
    form: {
      grant_type: "authorization_code",
      client_id: emu.defaults.clientId,
      client_secret: emu.defaults.clientSecret,
      code,
      redirect_uri: emu.defaults.redirectUri,
      ...extra
    }
  })
}

describe("token responses as Entra writes them", () => {
  it("answers Microsoft Graph scopes in the short form, then the OIDC scopes (MSAL caches on this string)", async () => {
    const answer = await redeem(["openid", "profile", "email", "offline_access", "User.Read"])
    expect(answer.status).toBe(200)
    expect(answer.json.scope).toBe("User.Read profile openid email")
    expect(decodeJwt(answer.json.access_token).payload).toMatchObject({
      aud: "https://graph.microsoft.com",
      scp: "User.Read"
    })
  })

  it("v2 tokens for the app's own API carry the client id GUID in aud; v1 the App ID URI", async () => {
    const v2 = await redeem(["openid", emu.defaults.scope])
    expect(v2.json.scope).toBe(emu.defaults.scope)
    expect(decodeJwt(v2.json.access_token).payload).toMatchObject({ aud: emu.defaults.clientId, ver: "2.0" })
    await using v1emu = await startEmulator({
      config: {
        apps: [{
          clientId: emu.defaults.clientId,
          type: "web",
          secrets: [emu.defaults.clientSecret],
          redirectUris: [emu.defaults.redirectUri],
          apiScopes: ["access_as_user"],
          accessTokenAcceptedVersion: 1
        }]
      }
    })
    const { code } = await v1emu.signIn()
    const v1 = await request(`${v1emu.authority}/${v1emu.defaults.tenantId}/oauth2/v2.0/token`, v1emu.caPem, {
      form: {
        grant_type: "authorization_code",
        client_id: v1emu.defaults.clientId,
        client_secret: v1emu.defaults.clientSecret,
        code,
        redirect_uri: v1emu.defaults.redirectUri
      }
    })
    const payload = decodeJwt(v1.json.access_token).payload
    expect(payload).toMatchObject({
      aud: `api://${v1emu.defaults.clientId}`,
      ver: "1.0",
      appid: v1emu.defaults.clientId
    })
    expect(payload.iss).toBe(`https://sts.windows.net/${v1emu.defaults.tenantId}/`)
    // The protected resource accepts both forms of its audience.
    const me = await request(`${v1emu.authority}/_resource/me`, v1emu.caPem, {
      headers: { authorization: `Bearer ${v1.json.access_token}` }
    })
    expect(me.status).toBe(200)
  })
})

describe("Entra's error codes", () => {
  it("a resource= parameter on v2 is AADSTS901002", async () => {
    const answer = await redeem([emu.defaults.scope], { resource: "https://graph.microsoft.com" })
    expect(answer.status).toBe(400)
    expect(answer.json).toMatchObject({ error: "invalid_request", error_codes: [901002] })
  })

  it("a malformed claims parameter is AADSTS90100, not 90019 (MissingTenantRealm)", async () => {
    const answer = await redeem([emu.defaults.scope], { claims: "{not json" })
    expect(answer.json).toMatchObject({ error: "invalid_request", error_codes: [90100] })
  })

  it("the correlation id follows client-request-id sent as a query parameter, as msal-node sends it", async () => {
    const id = Crypto.randomUUID()
    const answer = await redeem([emu.defaults.scope], { code_verifier: "x".repeat(43) }, `?client-request-id=${id}`)
    expect(answer.status).toBe(400)
    expect(answer.json.correlation_id).toBe(id)
    expect(answer.json.error_description).toContain(`Correlation ID: ${id}`)
    expect(answer.headers["client-request-id"]).toBe(id)
  })

  it("MFA presets: 50076 and 50079 are invalid_grant + basic_action with a capolids claims challenge; 50126 invalid_grant", async () => {
    for (const errorCode of [50076, 50079, 50126]) {
      await emu.injectFault({ endpoint: "token", kind: "status", status: 400, errorCode })
      const answer = await redeem([emu.defaults.scope])
      expect(answer.json.error).toBe("invalid_grant")
      expect(answer.json.error_description).not.toContain("Injected error")
      if (errorCode === 50126) {
        expect(answer.json.claims).toBeUndefined()
        continue
      }
      expect(answer.json.suberror).toBe("basic_action")
      expect(JSON.parse(answer.json.claims).access_token.capolids.essential).toBe(true)
    }
  })
})

describe("discovery endpoints that work", () => {
  it("the key set carries x5c, and kid = x5t = the certificate's SHA-1 thumbprint", async () => {
    const jwks = (await request(`${emu.authority}/common/discovery/v2.0/keys`, emu.caPem)).json
    const key = jwks.keys[0]
    const cert = new Crypto.X509Certificate(Buffer.from(key.x5c[0], "base64"))
    expect(Crypto.createHash("sha1").update(cert.raw).digest("base64url")).toBe(key.x5t)
    expect(key.kid).toBe(key.x5t)
    const jwkOfCert = cert.publicKey.export({ format: "jwk" })
    expect(jwkOfCert.n).toBe(key.n)
  })

  it("userinfo_endpoint answers a Graph token with the user's claims and refuses an API token", async () => {
    const config =
      (await request(`${emu.authority}/${emu.defaults.tenantId}/v2.0/.well-known/openid-configuration`, emu.caPem)).json
    expect(config.userinfo_endpoint).toBe(`${emu.authority}/oidc/userinfo`)
    const graph = await redeem(["openid", "profile", "User.Read"])
    const info = await request(config.userinfo_endpoint, emu.caPem, {
      headers: { authorization: `Bearer ${graph.json.access_token}` }
    })
    expect(info.status).toBe(200)
    expect(info.json).toMatchObject({ name: "Alice Example", given_name: "Alice", email: "alice@contoso.example" })
    expect(info.json.sub).toBe(decodeJwt(graph.json.id_token).payload.sub)
    const api = await redeem([emu.defaults.scope])
    const refused = await request(config.userinfo_endpoint, emu.caPem, {
      headers: { authorization: `Bearer ${api.json.access_token}` }
    })
    expect(refused.status).toBe(401)
  })

  it("end_session_endpoint clears the session and redirects only to a registered post-logout URI", async () => {
    const config =
      (await request(`${emu.authority}/${emu.defaults.tenantId}/v2.0/.well-known/openid-configuration`, emu.caPem)).json
    const back = `${config.end_session_endpoint}?client_id=${emu.defaults.clientId}&post_logout_redirect_uri=${
      encodeURIComponent("http://localhost/callback")
    }&state=s1`
    const redirected = await request(back, emu.caPem)
    expect(redirected.status).toBe(302)
    expect(redirected.headers.location).toBe("http://localhost/callback?state=s1")
    expect(String(redirected.headers["set-cookie"])).toContain("Max-Age=0")
    const unregistered = await request(
      `${config.end_session_endpoint}?client_id=${emu.defaults.clientId}&post_logout_redirect_uri=https%3A%2F%2Fevil.example`,
      emu.caPem
    )
    expect(unregistered.status).toBe(200)
    expect(unregistered.text).toContain("You signed out")
  })
})
