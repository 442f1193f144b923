import * as Crypto from "node:crypto"
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

const tokens = async (claims?: string) =>
  (await signInAndRedeem(emu, claims === undefined ? {} : { claims })).json as {
    access_token: string
    refresh_token: string
  }

const me = (token: string) =>
  request(`${emu.authority}/_resource/me`, emu.caPem, { headers: { authorization: `Bearer ${token}` } })

describe("discovery", () => {
  it("publishes Entra's OpenID configuration for a tenant, with the {tenantid} template on common", async () => {
    const t = emu.defaults.tenantId
    const doc = (await request(`${emu.authority}/${t}/v2.0/.well-known/openid-configuration`, emu.caPem)).json
    expect(doc).toMatchObject({
      issuer: `${emu.authority}/${t}/v2.0`,
      token_endpoint: `${emu.authority}/${t}/oauth2/v2.0/token`,
      authorization_endpoint: `${emu.authority}/${t}/oauth2/v2.0/authorize`,
      jwks_uri: `${emu.authority}/${t}/discovery/v2.0/keys`,
      id_token_signing_alg_values_supported: ["RS256"],
      response_modes_supported: ["query", "fragment", "form_post"]
    })
    const byDomain =
      (await request(`${emu.authority}/contoso.example/v2.0/.well-known/openid-configuration`, emu.caPem)).json
    expect(byDomain.issuer).toBe(`${emu.authority}/${t}/v2.0`)
    const common = (await request(`${emu.authority}/common/v2.0/.well-known/openid-configuration`, emu.caPem)).json
    expect(common.issuer).toBe(`${emu.authority}/{tenantid}/v2.0`)
    const unknown = await request(`${emu.authority}/nope.example/v2.0/.well-known/openid-configuration`, emu.caPem)
    expect(unknown.status).toBe(400)
    expect(unknown.json).toMatchObject({ error: "invalid_tenant", error_codes: [90002] })
  })

  it("answers MSAL's instance discovery with the emulator's own host", async () => {
    const endpoint = encodeURIComponent(`${emu.authority}/${emu.defaults.tenantId}/oauth2/v2.0/authorize`)
    const doc = (await request(
      `${emu.authority}/common/discovery/instance?api-version=1.1&authorization_endpoint=${endpoint}`,
      emu.caPem
    )).json
    const host = new URL(emu.authority).host
    expect(doc["tenant_discovery_endpoint"]).toBe(
      `${emu.authority}/${emu.defaults.tenantId}/v2.0/.well-known/openid-configuration`
    )
    expect(doc.metadata).toEqual([{ preferred_network: host, preferred_cache: host, aliases: [host] }])
  })

  it("publishes a JWKS that verifies the access token's signature", async () => {
    const { access_token } = await tokens()
    const jwks = (await request(`${emu.authority}/${emu.defaults.tenantId}/discovery/v2.0/keys`, emu.caPem)).json
    const { header } = decodeJwt(access_token)
    const jwk = jwks.keys.find((k: { kid: string }) => k.kid === header.kid)
    expect(jwk).toMatchObject({ kty: "RSA", use: "sig", e: "AQAB" })
    const key = Crypto.createPublicKey({ key: jwk, format: "jwk" })
    const [h, p, s] = access_token.split(".")
    expect(Crypto.verify("sha256", Buffer.from(`${h}.${p}`), key, Buffer.from(s!, "base64url"))).toBe(true)
    expect(Crypto.verify("sha256", Buffer.from(`${h}.${p}x`), key, Buffer.from(s!, "base64url"))).toBe(false)
  })
})

describe("protected resource /_resource/me", () => {
  it("accepts a valid token and returns the caller", async () => {
    const a = await me((await tokens()).access_token)
    expect(a.status).toBe(200)
    expect(a.json).toMatchObject({
      oid: emu.defaults.users[0]!.oid,
      name: "Alice Example",
      preferred_username: "alice@contoso.example",
      tid: emu.defaults.tenantId,
      scp: "access_as_user"
    })
  })

  it("rejects a tampered, expired or wrong-audience token with 401 invalid_token", async () => {
    const { access_token } = await tokens()
    const [h, p, s] = access_token.split(".")
    const forged = Buffer.from(JSON.stringify({ ...decodeJwt(access_token).payload, oid: "x" })).toString("base64url")
    const tampered = await me(`${h}.${forged}.${s}`)
    expect(tampered.status).toBe(401)
    expect(tampered.headers["www-authenticate"]).toMatch(/^Bearer error="invalid_token"/)
    expect(p).toBeDefined()
    const graph = await emu.signIn({ scopes: ["openid", "https://graph.microsoft.com/User.Read"] })
    const graphToken = (await request(`${emu.authority}/${emu.defaults.tenantId}/oauth2/v2.0/token`, emu.caPem, {
      form: {
        grant_type: "authorization_code",
        client_id: emu.defaults.clientId,
        client_secret: emu.defaults.clientSecret,
        code: graph.code,
        redirect_uri: emu.defaults.redirectUri
      }
    })).json.access_token
    expect((await me(graphToken)).status).toBe(401)
    await emu.advanceTime(3600 * 1000)
    const expired = await me(access_token)
    expect(expired.status).toBe(401)
    expect(expired.json.error_description).toContain("expired")
    expect((await me("")).status).toBe(401)
  })

  it("rejects a token for the right audience without the required scope with 403 insufficient_scope", async () => {
    // The default app also exposes Files.Read: a token for it has the resource's audience but not access_as_user.
    await using other = await startEmulator({
      config: {
        apps: [{
          clientId: emu.defaults.clientId,
          type: "web",
          secrets: [emu.defaults.clientSecret],
          redirectUris: [emu.defaults.redirectUri],
          apiScopes: ["access_as_user", "Files.Read"]
        }]
      }
    })
    const audience = other.defaults.clientId
    const signIn = await other.signIn({ scopes: ["openid", "offline_access", `api://${audience}/Files.Read`] })
    const answer = await request(`${other.authority}/${other.defaults.tenantId}/oauth2/v2.0/token`, other.caPem, {
      form: {
        grant_type: "authorization_code",
        client_id: other.defaults.clientId,
        client_secret: other.defaults.clientSecret,
        code: signIn.code,
        redirect_uri: other.defaults.redirectUri
      }
    })
    expect(answer.status).toBe(200)
    const token = answer.json.access_token as string
    expect(decodeJwt(token).payload).toMatchObject({ aud: audience, scp: "Files.Read" })
    const call = (bearer: string) =>
      request(`${other.authority}/_resource/me`, other.caPem, { headers: { authorization: `Bearer ${bearer}` } })
    const refused = await call(token)
    expect(refused.status).toBe(403)
    expect(refused.json).toEqual({ error: "insufficient_scope" })
    expect(refused.headers["www-authenticate"]).toBe(`Bearer error="insufficient_scope", scope="access_as_user"`)
    expect(await other.requests({ endpoint: "resource" })).toMatchObject([{ status: 403, error: "insufficient_scope" }])

    // The same user and audience with the required scope passes.
    const allowed = await other.signIn({ scopes: ["openid", `${audience}/access_as_user`] })
    const good = await request(`${other.authority}/${other.defaults.tenantId}/oauth2/v2.0/token`, other.caPem, {
      form: {
        grant_type: "authorization_code",
        client_id: other.defaults.clientId,
        client_secret: other.defaults.clientSecret,
        code: allowed.code,
        redirect_uri: other.defaults.redirectUri
      }
    })
    expect((await call(good.json.access_token)).status).toBe(200)
  })

  it("CAE: a challenge rejects earlier tokens with insufficient_claims; a token issued with claims passes", async () => {
    const before = await tokens()
    const claims = { access_token: { nbf: { essential: true, value: "1604106651" } } }
    const posted = await request(`${emu.authority}/_emulator/resource`, emu.caPem, {
      method: "POST",
      body: JSON.stringify({ challenge: { claims } })
    })
    expect(posted.status).toBe(200)
    const challenged = await me(before.access_token)
    expect(challenged.status).toBe(401)
    const header = String(challenged.headers["www-authenticate"])
    expect(header).toBe(
      `Bearer realm="", authorization_uri="${emu.authority}/${emu.defaults.tenantId}/oauth2/v2.0/authorize", ` +
        `error="insufficient_claims", claims="${Buffer.from(JSON.stringify(claims)).toString("base64")}"`
    )
    // A token issued in the same second as the challenge but after it passes: order is by issue sequence.
    const after = await tokens(
      JSON.stringify({ access_token: { xms_cc: { values: ["cp1"] }, ...claims.access_token } })
    )
    const ok = await me(after.access_token)
    expect(ok.status).toBe(200)
    expect(ok.json.xms_cc).toEqual(["cp1"])
    // A refresh also yields a fresh token that passes.
    const refreshed = await request(`${emu.authority}/${emu.defaults.tenantId}/oauth2/v2.0/token`, emu.caPem, {
      form: {
        grant_type: "refresh_token",
        client_id: emu.defaults.clientId,
        client_secret: emu.defaults.clientSecret,
        refresh_token: before.refresh_token
      }
    })
    expect((await me(refreshed.json.access_token)).status).toBe(200)
    expect((await me(before.access_token)).status).toBe(401)
  })
})

describe("management API", () => {
  it("moves the clock, revokes, reports settings without secrets, and resets", async () => {
    const { refresh_token } = await tokens()
    const time = await request(`${emu.authority}/_emulator/time`, emu.caPem, {
      method: "POST",
      body: JSON.stringify({ advanceMs: 60_000 })
    })
    expect(time.json.clockOffsetMs).toBe(60_000)
    const revoked = await request(`${emu.authority}/_emulator/revoke`, emu.caPem, {
      method: "POST",
      body: JSON.stringify({})
    })
    expect(revoked.json.revoked).toBe(1)
    const settings = await request(`${emu.authority}/_emulator/settings`, emu.caPem)
    expect(settings.json.authority).toBe(emu.authority)
    expect(settings.text).not.toContain(emu.defaults.clientSecret)
    expect(refresh_token.length).toBeGreaterThan(100)
    expect((await request(`${emu.authority}/_emulator/health`, emu.caPem)).json).toEqual({ status: "ok" })
    await request(`${emu.authority}/_emulator/reset`, emu.caPem, { method: "POST" })
    expect((await request(`${emu.authority}/_emulator/settings`, emu.caPem)).json.clockOffsetMs).toBe(0)
    expect(
      (await request(`${emu.authority}/_emulator/time`, emu.caPem, { method: "POST", body: "{\"advanceMs\":-1}" }))
        .status
    ).toBe(400)
  })
})
