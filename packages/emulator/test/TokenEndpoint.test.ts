import * as Crypto from "node:crypto"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import type { RunningEmulator } from "../src/index.js"
import { startEmulator } from "../src/index.js"
import { decodeJwt, request, s256 } from "./fixtures/http.js"

let emu: RunningEmulator
beforeAll(async () => {
  emu = await startEmulator()
})
afterAll(() => emu.close())
beforeEach(() => emu.reset())

const tokenUrl = (tenant?: string) => `${emu.authority}/${tenant ?? emu.defaults.tenantId}/oauth2/v2.0/token`

const redeem = (code: string, extra: Record<string, string | undefined> = {}, tenant?: string) =>
  request(tokenUrl(tenant), emu.caPem, {
    form: {
      grant_type: "authorization_code",
      client_id: emu.defaults.clientId,
      client_secret: emu.defaults.clientSecret,
      code,
      redirect_uri: emu.defaults.redirectUri,
      client_info: "1",
      ...extra
    }
  })

const refresh = (refreshToken: string, extra: Record<string, string | undefined> = {}, tenant?: string) =>
  request(tokenUrl(tenant), emu.caPem, {
    form: {
      grant_type: "refresh_token",
      client_id: emu.defaults.clientId,
      client_secret: emu.defaults.clientSecret,
      refresh_token: refreshToken,
      ...extra
    }
  })

const expectEntraError = (answer: { status: number; json: any }, status: number, error: string, code: number) => {
  expect(answer.status).toBe(status)
  expect(answer.json.error).toBe(error)
  expect(answer.json.error_codes).toEqual([code])
  expect(answer.json.error_description).toMatch(
    new RegExp(
      `^AADSTS${code}: .+\\r\\nTrace ID: [0-9a-f-]{36}\\r\\nCorrelation ID: [0-9a-f-]{36}\\r\\nTimestamp: \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ$`
    )
  )
  expect(answer.json.timestamp).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/)
  expect(answer.json.trace_id).toMatch(/^[0-9a-f-]{36}$/)
  expect(answer.json.correlation_id).toMatch(/^[0-9a-f-]{36}$/)
  expect(answer.json.error_uri).toBe(`https://login.microsoftonline.com/error?code=${code}`)
}

describe("token endpoint: authorization_code", () => {
  it("redeems a code: Bearer, scope, lifetimes, refresh token, ID token with nonce, client_info", async () => {
    const { code, homeAccountId } = await emu.signIn({ nonce: "n-123", state: "s-1" })
    const alice = emu.defaults.users[0]!
    expect(homeAccountId).toBe(`${alice.oid}.${emu.defaults.tenantId}`)
    const answer = await redeem(code, { "client-request-id": undefined }).then((a) => a)
    expect(answer.status).toBe(200)
    expect(answer.headers["cache-control"]).toContain("no-store")
    const body = answer.json
    expect(body.token_type).toBe("Bearer")
    expect(body.scope).toBe(emu.defaults.scope)
    expect(body.expires_in).toBe(3599)
    expect(body.ext_expires_in).toBe(3599)
    expect(body.refresh_in).toBeUndefined()
    expect(typeof body.refresh_token).toBe("string")
    expect(JSON.parse(Buffer.from(body.client_info, "base64url").toString())).toEqual({
      uid: alice.oid,
      utid: emu.defaults.tenantId
    })
    const id = decodeJwt(body.id_token).payload
    expect(id.nonce).toBe("n-123")
    expect(id.aud).toBe(emu.defaults.clientId)
    expect(id.iss).toBe(`${emu.authority}/${emu.defaults.tenantId}/v2.0`)
    const at = decodeJwt(body.access_token)
    expect(at.header).toMatchObject({ typ: "JWT", alg: "RS256" })
    expect(at.payload).toMatchObject({
      aud: emu.defaults.clientId,
      iss: `${emu.authority}/${emu.defaults.tenantId}/v2.0`,
      tid: emu.defaults.tenantId,
      oid: alice.oid,
      name: "Alice Example",
      preferred_username: alice.username,
      scp: "access_as_user",
      azp: emu.defaults.clientId,
      ver: "2.0"
    })
    expect(at.payload.exp - at.payload.iat).toBe(3599)
    expect(typeof at.payload.uti).toBe("string")
  })

  it("returns a refresh token only with offline_access, and an ID token only with openid", async () => {
    const { code } = await emu.signIn({ scopes: [emu.defaults.scope] })
    const answer = await redeem(code)
    expect(answer.status).toBe(200)
    expect(answer.json.refresh_token).toBeUndefined()
    expect(answer.json.id_token).toBeUndefined()
    expect(typeof answer.json.access_token).toBe("string")
  })

  it("echoes client-request-id and sets x-ms-request-id to the trace id", async () => {
    const correlation = Crypto.randomUUID()
    const answer = await request(tokenUrl(), emu.caPem, {
      form: { grant_type: "authorization_code", client_id: emu.defaults.clientId, client_secret: "wrong", code: "x" },
      headers: { "client-request-id": correlation }
    })
    expect(answer.headers["client-request-id"]).toBe(correlation)
    expect(answer.json.correlation_id).toBe(correlation)
    expect(answer.headers["x-ms-request-id"]).toBe(answer.json.trace_id)
  })

  it("rejects a second redemption with AADSTS54005", async () => {
    const { code } = await emu.signIn()
    expect((await redeem(code)).status).toBe(200)
    expectEntraError(await redeem(code), 400, "invalid_grant", 54005)
  })

  it("enforces PKCE S256: mismatch 501481, missing verifier 50148, right verifier succeeds", async () => {
    const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    expect(s256(verifier)).toBe("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
    const { code } = await emu.signIn({ codeChallenge: s256(verifier), codeChallengeMethod: "S256" })
    expectEntraError(await redeem(code, { code_verifier: "x".repeat(43) }), 400, "invalid_grant", 501481)
    expectEntraError(await redeem(code), 400, "invalid_grant", 50148)
    expect((await redeem(code, { code_verifier: verifier })).status).toBe(200)
  })

  it("accepts PKCE plain and refuses a verifier for a code issued without a challenge", async () => {
    const plain = await emu.signIn({ codeChallenge: "p".repeat(43), codeChallengeMethod: "plain" })
    expect((await redeem(plain.code, { code_verifier: "p".repeat(43) })).status).toBe(200)
    const none = await emu.signIn()
    expectEntraError(await redeem(none.code, { code_verifier: "p".repeat(43) }), 400, "invalid_grant", 50148)
  })

  it("answers a wrong secret with 401 AADSTS7000215 and a missing one with 7000218", async () => {
    const { code } = await emu.signIn()
    expectEntraError(await redeem(code, { client_secret: "not-the-secret" }), 401, "invalid_client", 7000215)
    expectEntraError(await redeem(code, { client_secret: undefined }), 401, "invalid_client", 7000218)
    // The code was not spent by the failed attempts.
    expect((await redeem(code)).status).toBe(200)
  })

  it("accepts the secret as HTTP Basic auth", async () => {
    const { code } = await emu.signIn()
    const basic = Buffer.from(
      `${encodeURIComponent(emu.defaults.clientId)}:${encodeURIComponent(emu.defaults.clientSecret)}`
    ).toString("base64")
    const answer = await request(tokenUrl(), emu.caPem, {
      form: { grant_type: "authorization_code", code, redirect_uri: emu.defaults.redirectUri },
      headers: { authorization: `Basic ${basic}` }
    })
    expect(answer.status).toBe(200)
  })

  it("rejects an unknown client (700016) and an unknown tenant (90002)", async () => {
    const { code } = await emu.signIn()
    expectEntraError(await redeem(code, { client_id: Crypto.randomUUID() }), 400, "unauthorized_client", 700016)
    expectEntraError(await redeem(code, {}, "nowhere.example"), 400, "invalid_request", 90002)
  })

  it("rejects a redirect_uri different from the authorize one (50011), even by a trailing slash", async () => {
    const { code } = await emu.signIn({ redirectUri: "http://127.0.0.1:7777/callback" })
    expectEntraError(
      await redeem(code, { redirect_uri: "http://127.0.0.1:7777/callback/" }),
      400,
      "invalid_grant",
      50011
    )
    expect((await redeem(code, { redirect_uri: "http://127.0.0.1:7777/callback" })).status).toBe(200)
  })

  it("expires codes after 10 minutes on the emulator clock (70008)", async () => {
    const { code } = await emu.signIn()
    await emu.advanceTime(11 * 60 * 1000)
    expectEntraError(await redeem(code), 400, "invalid_grant", 70008)
  })

  it("rejects a code redeemed against another tenant (700005)", async () => {
    const { code } = await emu.signIn()
    expectEntraError(await redeem(code, {}, emu.defaults.otherTenantId), 400, "invalid_grant", 700005)
  })

  it("rejects an unknown permission of a known API with invalid_scope 70011", async () => {
    const { code } = await emu.signIn()
    expectEntraError(await redeem(code, { scope: `api://${emu.defaults.clientId}/nope` }), 400, "invalid_scope", 70011)
  })

  it("rejects an unknown resource with invalid_resource 500011", async () => {
    const { code } = await emu.signIn()
    const answer = await redeem(code, { scope: "api://nope/whatever" })
    expectEntraError(answer, 400, "invalid_resource", 500011)
    expect(answer.json.error_description).toContain("The resource principal named api://nope was not found")
  })

  it("requires a form body: grant_type only in the query is AADSTS900144", async () => {
    const answer = await request(`${tokenUrl()}?grant_type=authorization_code`, emu.caPem, {
      method: "POST",
      body: JSON.stringify({ grant_type: "authorization_code" }),
      headers: { "content-type": "application/json" }
    })
    expectEntraError(answer, 400, "invalid_request", 900144)
  })

  it("lets a public client redeem without a secret and refuses one with a secret (700025)", async () => {
    const { code } = await emu.signIn({ clientId: emu.defaults.publicClientId })
    expectEntraError(
      await redeem(code, { client_id: emu.defaults.publicClientId, client_secret: "x" }),
      401,
      "invalid_client",
      700025
    )
    const ok = await redeem(code, { client_id: emu.defaults.publicClientId, client_secret: undefined })
    expect(ok.status).toBe(200)
    expect(decodeJwt(ok.json.access_token).payload.azpacr).toBe("0")
  })

  it("issues tokens in the user's home tenant on /organizations", async () => {
    const { code } = await emu.signIn({ tenantId: "organizations", username: "carol@fabrikam.example" })
    const answer = await redeem(code, {}, "organizations")
    expect(answer.status).toBe(200)
    expect(decodeJwt(answer.json.access_token).payload.tid).toBe(emu.defaults.otherTenantId)
  })

  it("reflects a cp1 claims request as xms_cc in the access token", async () => {
    const claims = JSON.stringify({ access_token: { xms_cc: { values: ["CP1"] } } })
    const { code } = await emu.signIn()
    const answer = await redeem(code, { claims })
    expect(decodeJwt(answer.json.access_token).payload.xms_cc).toEqual(["cp1"])
  })
})

describe("token endpoint: refresh_token", () => {
  it("rotates refresh tokens; the previous one stays valid (Entra)", async () => {
    const first = (await redeem((await emu.signIn()).code)).json
    const second = await refresh(first.refresh_token)
    expect(second.status).toBe(200)
    expect(second.json.refresh_token).not.toBe(first.refresh_token)
    expect(second.json.access_token).not.toBe(first.access_token)
    expect((await refresh(first.refresh_token)).status).toBe(200)
  })

  it("mints for another consented resource when scope asks for it", async () => {
    const first = (await redeem((await emu.signIn()).code)).json
    const answer = await refresh(first.refresh_token, { scope: "https://graph.microsoft.com/.default" })
    expect(answer.status).toBe(200)
    expect(decodeJwt(answer.json.access_token).payload.aud).toBe("https://graph.microsoft.com")
    expect(answer.json.scope).toBe("User.Read https://graph.microsoft.com/.default")
  })

  it("fails with 50173 after revocation and 700082 after the refresh-token lifetime", async () => {
    const a = (await redeem((await emu.signIn()).code)).json
    await emu.revokeRefreshTokens("alice@contoso.example")
    expectEntraError(await refresh(a.refresh_token), 400, "invalid_grant", 50173)
    const b = (await redeem((await emu.signIn({ username: "bob@contoso.example" })).code)).json
    await emu.advanceTime(91 * 24 * 3600 * 1000)
    const expired = await refresh(b.refresh_token)
    expectEntraError(expired, 400, "invalid_grant", 700082)
    expect(expired.json.suberror).toBe("bad_token")
  })

  it("rejects an unknown refresh token (9002313) and one from another client (70000)", async () => {
    expectEntraError(await refresh("1.Abogus"), 400, "invalid_grant", 9002313)
    const pub = await emu.signIn({ clientId: emu.defaults.publicClientId })
    const tokens = (await redeem(pub.code, { client_id: emu.defaults.publicClientId, client_secret: undefined })).json
    expectEntraError(await refresh(tokens.refresh_token), 400, "invalid_grant", 70000)
  })

  it("issues for another tenant only to its members and guests (50020 otherwise, the refresh token still usable)", async () => {
    const other = emu.defaults.otherTenantId
    // Alice is a guest of the other tenant in the default directory; Bob is not.
    const alice = (await redeem((await emu.signIn()).code)).json
    const asGuest = await refresh(alice.refresh_token, {}, other)
    expect(asGuest.status).toBe(200)
    expect(decodeJwt(asGuest.json.access_token).payload.tid).toBe(other)
    const bob = (await redeem((await emu.signIn({ username: "bob@contoso.example" })).code)).json
    const refused = await refresh(bob.refresh_token, {}, other)
    expectEntraError(refused, 400, "invalid_grant", 50020)
    expect(refused.json.error_description).toContain(`does not exist in tenant '${other}'`)
    expect((await refresh(bob.refresh_token)).status).toBe(200)
  })

  it("sends refresh_in for lifetimes of two hours or more", async () => {
    const long = await startEmulator({ config: { accessTokenLifetime: 86399 } })
    try {
      const { code } = await long.signIn()
      const answer = await request(`${long.authority}/${long.defaults.tenantId}/oauth2/v2.0/token`, long.caPem, {
        form: {
          grant_type: "authorization_code",
          client_id: long.defaults.clientId,
          client_secret: long.defaults.clientSecret,
          code,
          redirect_uri: long.defaults.redirectUri
        }
      })
      expect(answer.json.expires_in).toBe(86399)
      expect(answer.json.refresh_in).toBe(43199)
    } finally {
      await long.close()
    }
  })
})

describe("request log", () => {
  it("records each request without any code, secret, verifier or token", async () => {
    const verifier = Crypto.randomBytes(32).toString("base64url")
    const { code } = await emu.signIn({ codeChallenge: s256(verifier) })
    const tokens = (await redeem(code, { code_verifier: verifier, claims: "{}" })).json
    await refresh(tokens.refresh_token)
    await request(`${emu.authority}/_resource/me`, emu.caPem, {
      headers: { authorization: `Bearer ${tokens.access_token}` }
    })
    const log = await emu.requests()
    const text = JSON.stringify(log) + JSON.stringify(await request(`${emu.authority}/_emulator/requests`, emu.caPem))
    for (
      const secret of [
        code,
        verifier,
        emu.defaults.clientSecret,
        tokens.access_token,
        tokens.refresh_token,
        tokens.id_token
      ]
    ) {
      expect(text).not.toContain(secret)
    }
    const redeemEntry = log.find((e) => e.grantType === "authorization_code")!
    expect(redeemEntry).toMatchObject({
      endpoint: "token",
      method: "POST",
      status: 200,
      clientId: emu.defaults.clientId,
      hasClientSecret: true,
      hasCodeVerifier: true,
      hasClaims: true
    })
    expect(log.map((e) => e.endpoint)).toEqual(["authorize", "token", "token", "resource"])
    expect(await emu.requests({ grantType: "refresh_token" })).toHaveLength(1)
    await emu.clearRequests()
    expect(await emu.requests()).toHaveLength(0)
  })
})
