import * as ChildProcess from "node:child_process"
import * as Crypto from "node:crypto"
import * as Path from "node:path"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import type { RunningEmulator } from "../src/index.js"
import { startEmulator } from "../src/index.js"
import type { ClientCertificate } from "./fixtures/certificate.js"
import { makeCertificate } from "./fixtures/certificate.js"
import * as FidelityTable from "./fixtures/fidelityTable.js"
import { decodeJwt, request, signInAndRedeem } from "./fixtures/http.js"

// Microsoft's own clients, unmodified, run against the emulator in child processes (NODE_EXTRA_CA_CERTS is read at
// start-up). Each scenario prints what it saw; the emulator's request log says what went over the wire.

const certClientId = "5d0c7b1e-3a2f-4e8d-9c6b-1a2b3c4d5e6f"
let emu: RunningEmulator
let cert: ClientCertificate
beforeAll(async () => {
  cert = await makeCertificate()
  emu = await startEmulator({
    config: {
      apps: [{ clientId: certClientId, type: "web", redirectUris: ["http://localhost"], certificates: [cert.certPem] }],
      deviceCodeInterval: 1
    }
  })
})
afterAll(() => emu.close())
beforeEach(() => emu.reset())

const run = (fixture: string, scenario: string, extra: Record<string, string> = {}) =>
  new Promise<{ code: number | null; out: any; stderr: string }>((resolve) => {
    const child = ChildProcess.spawn(process.execPath, [Path.resolve(__dirname, "fixtures", fixture), scenario], {
      env: {
        ...process.env,
        NODE_EXTRA_CA_CERTS: emu.caFile,
        EMU_AUTHORITY: emu.authority,
        EMU_TENANT: emu.defaults.tenantId,
        EMU_CLIENT_ID: emu.defaults.clientId,
        EMU_CLIENT_SECRET: emu.defaults.clientSecret,
        EMU_PUBLIC_CLIENT_ID: emu.defaults.publicClientId,
        EMU_REDIRECT_URI: emu.defaults.redirectUri,
        EMU_CERT_CLIENT_ID: certClientId,
        EMU_CERT: cert.certPem,
        EMU_CERT_KEY: cert.keyPem,
        EMU_CERT_SHA256: Crypto.createHash("sha256").update(cert.der).digest("hex"),
        ...extra
      },
      cwd: Path.resolve(__dirname, "..")
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()))
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()))
    child.on("close", (code) => {
      let out: any = { unparsed: stdout }
      try {
        out = JSON.parse(stdout)
      } catch {
        // keep the raw text for the assertion message
      }
      resolve({ code, out, stderr })
    })
  })

const msalNode = `msal-node ${FidelityTable.nodeVersion("@azure/msal-node", "@azure/identity")}`
const azureIdentity = `\`@azure/identity\` ${FidelityTable.nodeVersion("@azure/identity")}`
const rows: Array<FidelityTable.Row> = []
const row = (client: string, flow: string, result: string) => rows.push({ client, flow, result })

const tokenStatuses = async () => (await emu.requests({ endpoint: "token" })).map((e) => e.status)

const userTokenForApi = async () => {
  const answer = await signInAndRedeem(emu)
  await emu.clearRequests()
  return answer.json.access_token as string
}

describe("msal-node", () => {
  for (const discovery of ["knownAuthorities", "metadata"] as const) {
    it(`confidential client by code with PKCE (${discovery}): 5 silent calls make no request, a forced one refreshes`, async () => {
      const metadata = (await request(
        `${emu.authority}/common/discovery/instance?api-version=1.1&authorization_endpoint=${
          encodeURIComponent(`${emu.authority}/${emu.defaults.tenantId}/oauth2/v2.0/authorize`)
        }`,
        emu.caPem
      )).text
      const { code, out } = await run("msal-node.mjs", "confidential", {
        EMU_DISCOVERY: discovery,
        EMU_CLOUD_DISCOVERY_METADATA: metadata
      })
      expect(out.error).toBeUndefined()
      expect(code).toBe(0)
      // MSAL asks for openid profile offline_access: Entra's answer lists Graph's short name, then those.
      expect(out.scopes).toEqual(["User.Read", "profile", "openid"])
      expect(out.silentSame).toBe(5)
      expect(out.refreshed).toBe(true)
      const statuses = await tokenStatuses()
      expect(statuses).toEqual([200, 200])
      row(
        `${msalNode} \`ConfidentialClientApplication\``,
        `code with PKCE (${discovery === "metadata" ? "`cloudDiscoveryMetadata`" : "`knownAuthorities`"})`,
        `token; \`scopes\` \`${out.scopes.join(" ")}\`; ${out.silentSame} \`acquireTokenSilent\` calls make ` +
          `${statuses.length - 2} requests; \`forceRefresh\` makes 1 (${statuses.length} token requests in all)`
      )
    })
  }

  it("client credentials with a secret: one request, the second call from MSAL's cache", async () => {
    const { out } = await run("msal-node.mjs", "clientSecret", {
      EMU_SCOPES: `api://${emu.defaults.clientId}/.default`
    })
    expect(out.error).toBeUndefined()
    expect(out.cached).toBe(true)
    const claims = decodeJwt(out.token).payload
    expect(claims).toMatchObject({ aud: emu.defaults.clientId, idtyp: "app" })
    const statuses = await tokenStatuses()
    expect(statuses).toEqual([200])
    row(
      `${msalNode} \`ConfidentialClientApplication\``,
      "client credentials, secret",
      `app-only token (\`idtyp: "${claims.idtyp}"\`); the second call is served from MSAL's cache ` +
        `(${statuses.length} token request)`
    )
  })

  it("client credentials with a certificate (PS256, x5t#S256, the assertion reused for a second resource)", async () => {
    const { out } = await run("msal-node.mjs", "clientCertificate", {
      EMU_SCOPES: "https://graph.microsoft.com/.default"
    })
    expect(out.error).toBeUndefined()
    expect(out.second).toBe(true)
    const claims = decodeJwt(out.token).payload
    expect(claims).toMatchObject({ azp: certClientId, azpacr: "2" })
    const statuses = await tokenStatuses()
    expect(statuses).toEqual([200, 200])
    row(
      `${msalNode} \`ConfidentialClientApplication\``,
      "client credentials, certificate (PS256, `x5t#S256`)",
      `token with \`azpacr: "${claims.azpacr}"\`; a second resource: ${statuses.length} token requests in all`
    )
  })

  it("on-behalf-of: a user's token for the API becomes a Graph token for the same user", async () => {
    const { out } = await run("msal-node.mjs", "onBehalfOf", { EMU_USER_TOKEN: await userTokenForApi() })
    expect(out.error).toBeUndefined()
    const claims = decodeJwt(out.token).payload
    expect(claims).toMatchObject({
      aud: "https://graph.microsoft.com",
      preferred_username: "alice@contoso.example"
    })
    row(
      `${msalNode} \`ConfidentialClientApplication\``,
      "on-behalf-of",
      `token for \`${claims.aud}\` for the same user`
    )
  })

  it("device code: polls through authorization_pending while the user signs in on the page", async () => {
    const { out } = await run("msal-node.mjs", "deviceCode")
    expect(out.error).toBeUndefined()
    expect(out.pageError).toBeUndefined()
    expect(out.username).toBe("bob@contoso.example")
    expect(out.silentSame).toBe(true)
    const statuses = await tokenStatuses()
    expect(statuses.at(-1)).toBe(200)
    expect(statuses.slice(0, -1).every((s) => s === 400)).toBe(true)
    expect(await emu.requests({ endpoint: "devicecode" })).toHaveLength(1)
    row(
      `${msalNode} \`PublicClientApplication\``,
      "device code",
      // How many polls were pending depends on timing: only what the assertions pin down goes in the table.
      "polls through `authorization_pending` while the user signs in at `/devicelogin`, then 200; then silent from " +
        "its cache"
    )
  })

  it("public client interactive: the sign-in and consent pages, then MSAL's loopback listener", async () => {
    const { out } = await run("msal-node.mjs", "interactive")
    expect(out.error).toBeUndefined()
    expect(out.username).toBe("bob@contoso.example")
    const statuses = await tokenStatuses()
    expect(statuses).toEqual([200])
    row(
      `${msalNode} \`PublicClientApplication\``,
      "interactive (`openBrowser` scripted through the sign-in and consent pages, `form_post` to MSAL's loopback " +
        "listener)",
      `token, ${statuses.length} token request`
    )
  })
})

describe("@azure/identity", () => {
  it("AuthorizationCodeCredential redeems an emulator code; the resource accepts the token", async () => {
    const { code } = await emu.signIn()
    const { out } = await run("azure-identity.mjs", "authorizationCode", {
      EMU_CODE: code,
      EMU_SCOPE: emu.defaults.scope
    })
    expect(out.error).toBeUndefined()
    const me = await request(`${emu.authority}/_resource/me`, emu.caPem, {
      headers: { authorization: `Bearer ${out.token}` }
    })
    expect(me.status).toBe(200)
    expect(me.json.preferred_username).toBe("alice@contoso.example")
    const statuses = await tokenStatuses()
    expect(statuses).toEqual([200])
    row(
      azureIdentity,
      "`AuthorizationCodeCredential`",
      `token the protected resource accepts; ${statuses.length} token request`
    )
  })

  it("ClientSecretCredential, ClientCertificateCredential, OnBehalfOfCredential and DeviceCodeCredential get tokens", async () => {
    const userToken = await userTokenForApi()
    for (const scenario of ["clientSecret", "clientCertificate", "onBehalfOf", "deviceCode"]) {
      const { out } = await run("azure-identity.mjs", scenario, { EMU_USER_TOKEN: userToken })
      expect(out.error, scenario).toBeUndefined()
      expect(decodeJwt(out.token).payload.tid, scenario).toBe(emu.defaults.tenantId)
      const name = `${scenario[0]!.toUpperCase()}${scenario.slice(1)}Credential`
      const claims = decodeJwt(out.token).payload
      row(
        azureIdentity,
        `\`${name}\``,
        claims.idtyp === "app" ? "app-only token" : `token for ${claims.preferred_username}`
      )
    }
  })

  it("InteractiveBrowserCredential: the `open` package's xdg-open runs $BROWSER, a script that clicks through the pages", async () => {
    const { out } = await run("azure-identity.mjs", "interactiveBrowser", {
      BROWSER: Path.resolve(__dirname, "fixtures/fake-browser.mjs"),
      // No desktop: xdg-open falls back to $BROWSER.
      DISPLAY: "",
      WAYLAND_DISPLAY: "",
      XDG_CURRENT_DESKTOP: "",
      EMU_BROWSER_USER: "bob@contoso.example"
    })
    expect(out.error).toBeUndefined()
    expect(decodeJwt(out.token).payload.preferred_username).toBe("bob@contoso.example")
    const statuses = await tokenStatuses()
    expect(statuses).toEqual([200])
    row(
      azureIdentity,
      "`InteractiveBrowserCredential`",
      "token: it opens the \"browser\" through the `open` package's `xdg-open`, which runs `$BROWSER` " +
        "(`test/fixtures/fake-browser.mjs` clicks through the sign-in and consent pages and delivers the `form_post` " +
        `to the credential's loopback listener); ${statuses.length} token request`
    )
  })
})

describe("the README", () => {
  it("its table of what each Node client does is this run's (UPDATE_FIDELITY_TABLE=1 rewrites it)", () => {
    expect(rows.length).toBe(13)
    if (FidelityTable.updating) FidelityTable.write("node", rows)
    expect(FidelityTable.current("node")).toBe(FidelityTable.render(rows))
  })
})
