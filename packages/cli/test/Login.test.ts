import { defaultIds } from "@effect-entra/emulator/EmulatorConfig"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import * as Fs from "node:fs"
import * as Https from "node:https"
import * as Net from "node:net"
import * as Path from "node:path"
import * as EmulatorInfo from "../src/EmulatorInfo.js"
import {
  cleanEnv,
  giveToUnprivileged,
  headlessSignIn,
  httpGet,
  prepareUnprivileged,
  redirectTo,
  repoBin,
  run,
  signInUrl,
  start,
  tempDir
} from "./fixtures/cli.js"
import type { RunningEmulator } from "./fixtures/emulator.js"
import { record, startEmulator } from "./fixtures/emulator.js"

let emulator: RunningEmulator
let ca: string

beforeAll(async () => {
  emulator = await startEmulator()
  ca = emulator.caPem
})
afterAll(() => emulator?.close())

const signedInDir = () => {
  const cacheDir = tempDir()
  record(emulator, cacheDir)
  return cacheDir
}

const login = (cacheDir: string, ...extra: Array<string>) =>
  start(["login", "--emulator", "--no-browser", "--cache-dir", cacheDir, ...extra])

const graph = "https://graph.microsoft.com/User.Read"

// One test at a time: each spawns several CLI processes, and run side by side on two cores they starved each other
// past the time-out (each test's time now reflects its own work; the file takes as long as before).
describe("effect-entra login against the emulator", () => {
  it("signs in headlessly, then token, token --json, status and logout work from the cache", async () => {
    // An emulator of its own, so its request log holds only this test's requests.
    await using emulator = await startEmulator()
    const ca = emulator.caPem
    const cacheDir = tempDir()
    record(emulator, cacheDir)
    const running = login(cacheDir)
    const url = await signInUrl(running)
    expect(url.searchParams.get("code_challenge_method")).toBe("S256")
    expect(url.searchParams.get("client_id")).toBe(emulator.defaults.publicClientId)
    expect(url.searchParams.get("redirect_uri")).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/)
    expect(url.searchParams.get("scope")).toBe(`openid profile offline_access ${graph}`)
    expect(url.searchParams.get("state")).toMatch(/^[\w-]{22}$/)
    expect(url.searchParams.get("nonce")).toMatch(/^[\w-]{22}$/)
    const page = await headlessSignIn(url, ca)
    expect(page.status).toBe(200)
    expect(page.body).toContain("You are signed in")
    expect(page.headers["referrer-policy"]).toBe("no-referrer")
    const result = await running.exit
    expect(result.code).toBe(0)
    expect(result.stdout).toContain("Signed in as alice@contoso.example (Alice Example)")

    // The file cache: 0600 in a 0700 folder, holding the account and its refresh token.
    const cacheFile = Path.join(cacheDir, "token-cache.json")
    expect(Fs.statSync(cacheFile).mode & 0o777).toBe(0o600)
    expect(Fs.statSync(cacheDir).mode & 0o777).toBe(0o700)
    const contents = JSON.parse(Fs.readFileSync(cacheFile, "utf8"))
    const accounts = Object.values(contents.accounts) as Array<{ username: string; refreshToken?: string }>
    expect(accounts.map((account) => account.username)).toEqual(["alice@contoso.example"])
    expect(accounts[0]!.refreshToken).toBeTypeOf("string")

    await emulator.clearRequests()
    const token = await run(["token", "--emulator", "--cache-dir", cacheDir, "--scope", graph])
    expect(token.code).toBe(0)
    expect(token.stdout.trim()).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+$/)
    const json = await run(["token", "--emulator", "--cache-dir", cacheDir, "--scope", graph, "--json"])
    expect(json.code).toBe(0)
    const parsed = JSON.parse(json.stdout)
    expect(parsed).toMatchObject({
      token: token.stdout.trim(),
      tokenType: "Bearer",
      scopes: [graph],
      tenantId: emulator.defaults.tenantId
    })
    expect(Date.parse(parsed.expiresOn)).toBeGreaterThan(Date.now() + 50 * 60_000)
    // Served from the cache: no request reached the token endpoint.
    expect(await emulator.requests({ endpoint: "token" })).toHaveLength(0)

    // Another scope is renewed with the cached refresh token, without a new sign-in.
    const other = await run(["token", "--emulator", "--cache-dir", cacheDir, "--scope", emulator.defaults.scope])
    expect(other.code).toBe(0)
    const grants = (await emulator.requests({ endpoint: "token" })).map((entry) => entry.grantType)
    expect(grants).toEqual(["refresh_token"])
    expect(await emulator.requests({ endpoint: "authorize" })).toHaveLength(0)

    const status = await run(["status", "--emulator", "--cache-dir", cacheDir])
    expect(status.code).toBe(0)
    expect(status.stdout).toContain("* alice@contoso.example (Alice Example)")
    expect(status.stdout).toContain("refresh token  cached")
    expect(status.stdout).toMatch(/https:\/\/graph\.microsoft\.com\/user\.read, tenant \S+, expires \S+ \(in 5\dm/)
    expect(status.stdout + status.stderr).not.toContain(token.stdout.trim())
    expect(status.stdout).not.toContain(accounts[0]!.refreshToken!)
    const statusJson = JSON.parse((await run(["status", "--emulator", "--cache-dir", cacheDir, "--json"])).stdout)
    expect(statusJson.accounts[0]).toMatchObject({ username: "alice@contoso.example", refreshToken: true })
    expect(statusJson.accounts[0].accessTokens).toHaveLength(2)

    const logout = await run(["logout", "--emulator", "--cache-dir", cacheDir])
    expect(logout.code).toBe(0)
    expect(logout.stdout).toContain("Signed out alice@contoso.example")
    const after = await run(["token", "--emulator", "--cache-dir", cacheDir, "--scope", graph])
    expect(after.code).toBe(3)
    expect(after.stderr).toContain("not signed in to")
    expect(after.stderr).toContain("effect-entra login")
    const afterStatus = await run(["status", "--emulator", "--cache-dir", cacheDir])
    expect(afterStatus.code).toBe(3)
    const remaining = JSON.parse(Fs.readFileSync(cacheFile, "utf8"))
    expect(Object.keys(remaining.accounts)).toHaveLength(0)
    expect(Object.keys(remaining.accessTokens)).toHaveLength(0)
  })

  it("token --tenant: the home tenant is served from the cache, another tenant gets its own token", async () => {
    await using emulator = await startEmulator()
    const { otherTenantId, scope, tenantId } = emulator.defaults
    const cacheDir = tempDir()
    record(emulator, cacheDir)
    const running = login(cacheDir, "--scope", scope)
    await headlessSignIn(await signInUrl(running), emulator.caPem)
    expect((await running.exit).code).toBe(0)
    await emulator.clearRequests()
    const token = (...extra: Array<string>) =>
      run(["token", "--emulator", "--cache-dir", cacheDir, "--scope", scope, "--json", ...extra])
    const tidOf = (json: string) =>
      JSON.parse(Buffer.from(JSON.parse(json).token.split(".")[1], "base64url").toString()).tid

    // The tenant the account signed in to: the login's token, from the cache.
    const home = await token("--tenant", tenantId)
    expect(home.code).toBe(0)
    expect(tidOf(home.stdout)).toBe(tenantId)
    expect(await emulator.requests({ endpoint: "token" })).toHaveLength(0)

    // Another tenant the (multi-tenant) app is registered in: one refresh-token request to that tenant.
    const other = await token("--tenant", otherTenantId)
    expect(other.code).toBe(0)
    expect(JSON.parse(other.stdout).tenantId).toBe(otherTenantId)
    expect(tidOf(other.stdout)).toBe(otherTenantId)
    const requests = await emulator.requests({ endpoint: "token" })
    expect(requests.map((entry) => [entry.grantType, entry.tenant])).toEqual([["refresh_token", otherTenantId]])

    // Tokens are cached per tenant: each tenant gets its own back, with no request.
    const again = await token()
    expect(again.code).toBe(0)
    expect(JSON.parse(again.stdout).token).toBe(JSON.parse(home.stdout).token)
    expect(JSON.parse((await token("--tenant", otherTenantId)).stdout).token).toBe(JSON.parse(other.stdout).token)
    expect(await emulator.requests({ endpoint: "token" })).toHaveLength(1)

    // A tenant that does not exist: Entra's error, exit 1; a malformed one is a usage error, exit 2.
    const unknown = await token("--tenant", "00000000-0000-0000-0000-000000000001")
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toContain(
      "effect-entra: token request failed: AADSTS90002: Tenant '00000000-0000-0000-0000-000000000001' not found."
    )
    expect(unknown.stderr).not.toMatch(/\n\s+at /)
    expect(unknown.stdout).toBe("")
    const malformed = await token("--tenant", "not a tenant")
    expect(malformed.code).toBe(2)
    expect(malformed.stderr).toContain("effect-entra: invalid tenant (from flag)")
  })

  it("token --tenant for a tenant a single-tenant app is not registered in: Entra's error, exit 1, still signed in", async () => {
    await using emulator = await startEmulator({
      config: {
        apps: [{
          clientId: defaultIds.publicClientId,
          type: "native",
          redirectUris: ["http://127.0.0.1/callback"],
          multiTenant: false
        }]
      }
    })
    const cacheDir = tempDir()
    record(emulator, cacheDir)
    const running = login(cacheDir)
    await headlessSignIn(await signInUrl(running), emulator.caPem)
    expect((await running.exit).code).toBe(0)
    const refused = await run([
      "token",
      "--emulator",
      "--cache-dir",
      cacheDir,
      "--scope",
      graph,
      "--tenant",
      emulator.defaults.otherTenantId
    ])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(
      new RegExp(
        `^effect-entra: token request failed: AADSTS700016: Application with identifier '${defaultIds.publicClientId}' ` +
          `was not found in the directory '${emulator.defaults.otherTenantId}'\\..*\\(unauthorized_client, HTTP 400\\)\n$`
      )
    )
    expect(refused.stdout).toBe("")
    const home = await run(["token", "--emulator", "--cache-dir", cacheDir, "--scope", graph])
    expect(home.code).toBe(0)
  })

  it("token renews an expired cached access token with exactly one refresh-token request", async () => {
    await using emulator = await startEmulator()
    const cacheDir = tempDir()
    record(emulator, cacheDir)
    const running = login(cacheDir)
    await headlessSignIn(await signInUrl(running), emulator.caPem)
    expect((await running.exit).code).toBe(0)
    const first = await run(["token", "--emulator", "--cache-dir", cacheDir, "--scope", graph])
    expect(first.code).toBe(0)

    // The CLI runs on the real clock: age the cached token in the (plaintext) file instead.
    const cacheFile = Path.join(cacheDir, "token-cache.json")
    const contents = JSON.parse(Fs.readFileSync(cacheFile, "utf8"))
    const entries = Object.values(contents.accessTokens) as Array<{ token: string; expiresOn: number }>
    const cached = entries.find((entry) => entry.token === first.stdout.trim())!
    expect(cached).toBeDefined()
    cached.expiresOn = Date.now() - 60_000
    Fs.writeFileSync(cacheFile, JSON.stringify(contents), { mode: 0o600 })

    await emulator.clearRequests()
    const renewed = await run(["token", "--emulator", "--cache-dir", cacheDir, "--scope", graph])
    expect(renewed.code).toBe(0)
    expect(renewed.stdout.trim()).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+$/)
    expect(renewed.stdout.trim()).not.toBe(first.stdout.trim())
    const grants = (await emulator.requests({ endpoint: "token" })).map((entry) => entry.grantType)
    expect(grants).toEqual(["refresh_token"])
    // The renewed token replaced the expired one in the file.
    const after = JSON.parse(Fs.readFileSync(cacheFile, "utf8"))
    const tokens = (Object.values(after.accessTokens) as Array<{ token: string; expiresOn: number }>)
      .map((entry) => entry.token)
    expect(tokens).toContain(renewed.stdout.trim())
    expect(tokens).not.toContain(first.stdout.trim())
  })

  it("denied consent (error=access_denied with the right state): a clear message, exit 1, no stack trace", async () => {
    const cacheDir = signedInDir()
    const running = login(cacheDir)
    const url = await signInUrl(running)
    const page = await httpGet(redirectTo(url, {
      error: "access_denied",
      error_description: "AADSTS65004: User declined to consent to access the app.\r\nTrace ID: x",
      state: url.searchParams.get("state")!
    }))
    expect(page.status).toBe(400)
    expect(page.body).toContain("Sign-in failed")
    expect(page.body).not.toContain("AADSTS65004")
    const result = await running.exit
    expect(result.code).toBe(1)
    expect(result.stderr).toContain(
      "effect-entra: sign-in failed: access_denied (AADSTS65004: User declined to consent to access the app.)"
    )
    expect(result.stderr).not.toMatch(/\n\s+at /)
    expect(result.stdout).toBe("")
  })

  it("the consent page's Cancel in the emulator ends the sign-in as denied", async () => {
    const cacheDir = signedInDir()
    const running = login(cacheDir)
    const url = await signInUrl(running)
    // The emulator's consent form, posted with Cancel.
    const body = new URLSearchParams([...url.searchParams, ["emu_step", "consent"], [
      "emu_user",
      "alice@contoso.example"
    ], ["emu_action", "cancel"]])
    const answer = await new Promise<{ status: number; location: string }>((resolve, reject) => {
      const request = Https.request(
        url.origin + url.pathname,
        { method: "POST", ca, headers: { "content-type": "application/x-www-form-urlencoded" } },
        (response) => {
          response.resume()
          resolve({ status: response.statusCode!, location: String(response.headers.location) })
        }
      )
      request.on("error", reject)
      request.end(body.toString())
    })
    expect(answer.status).toBe(302)
    await httpGet(answer.location.replace(/#.*$/, ""))
    const result = await running.exit
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/sign-in failed: access_denied \(AADSTS65004/)
  })

  it("times out with --timeout 1s: a clear message and exit 4", async () => {
    const cacheDir = signedInDir()
    const started = Date.now()
    const result = await login(cacheDir, "--timeout", "1s").exit
    expect(result.code).toBe(4)
    expect(result.stderr).toContain("effect-entra: timed out after 1s waiting for the sign-in in the browser")
    expect(result.stderr).not.toMatch(/\n\s+at /)
    expect(Date.now() - started).toBeLessThan(15_000)
  })

  it("Ctrl+C while waiting cancels the sign-in: exit 130, the receiver's port is released", async () => {
    const cacheDir = signedInDir()
    const running = login(cacheDir)
    const url = await signInUrl(running)
    running.child.kill("SIGINT")
    const result = await running.exit
    expect(result.code).toBe(130)
    expect(result.stderr).toContain("Sign-in cancelled.")
    await expect(httpGet(redirectTo(url, { state: "x" }))).rejects.toThrow(/ECONNREFUSED/)
  })

  it("a request with a wrong or missing state gets an error page and is ignored; the genuine redirect still wins", async () => {
    const cacheDir = signedInDir()
    const running = login(cacheDir)
    const url = await signInUrl(running)
    const forged = await httpGet(redirectTo(url, { code: "forged-code", state: "not-the-state" }))
    expect(forged.status).toBe(400)
    expect(forged.body).toContain("This response was ignored")
    const stateless = await httpGet(redirectTo(url, { error: "access_denied" }))
    expect(stateless.status).toBe(400)
    const favicon = await httpGet(new URL("/favicon.ico", url.searchParams.get("redirect_uri")!))
    expect(favicon.status).toBe(404)
    await running.waitFor(/ignored a request to the redirect address without a state/)
    expect(running.child.exitCode).toBeNull()

    const page = await headlessSignIn(url, ca, "bob@contoso.example")
    expect(page.body).toContain("You are signed in")
    const result = await running.exit
    expect(result.code).toBe(0)
    expect(result.stdout).toContain("Signed in as bob@contoso.example (Bob Example)")
    expect(result.stderr).toContain("ignored a request to the redirect address with another sign-in's state")
  })

  it("--redirect-port fixes the receiver's port; a port in use is a clear error", async () => {
    const cacheDir = signedInDir()
    const busy = Net.createServer()
    await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", () => resolve()))
    const port = (busy.address() as Net.AddressInfo).port
    try {
      const result = await login(cacheDir, "--redirect-port", String(port)).exit
      expect(result.code).toBe(1)
      expect(result.stderr).toContain(`127.0.0.1:${port} is already in use`)
    } finally {
      busy.close()
    }
    const running = login(cacheDir, "--redirect-port", String(port), "--timeout", "20s")
    const url = await signInUrl(running)
    expect(url.searchParams.get("redirect_uri")).toBe(`http://127.0.0.1:${port}/callback`)
    await headlessSignIn(url, ca)
    expect((await running.exit).code).toBe(0)
  })

  it("a missing cache folder is created with mode 0700", async () => {
    const parent = tempDir()
    const cacheDir = Path.join(parent, "a", "b")
    const seed = tempDir()
    record(emulator, seed)
    Fs.mkdirSync(cacheDir, { recursive: true })
    Fs.copyFileSync(Path.join(seed, "emulator.json"), Path.join(cacheDir, "emulator.json"))
    Fs.chmodSync(cacheDir, 0o755)
    const running = login(cacheDir)
    await headlessSignIn(await signInUrl(running), ca)
    expect((await running.exit).code).toBe(0)
    expect(Fs.statSync(cacheDir).mode & 0o777).toBe(0o700)

    // A folder that does not exist at all: `status` reads nothing and creates nothing; login creates it (0700).
    const fresh = Path.join(parent, "fresh", "cache")
    const env = cleanEnv({ AZURE_CLIENT_ID: emulator.defaults.publicClientId })
    const status = await run(["status", "--cache-dir", fresh], env)
    expect(status.code).toBe(3)
    const timedOut = await run(["login", "--no-browser", "--cache-dir", fresh, "--timeout", "1s"], env)
    expect(timedOut.code).toBe(4)
    expect(Fs.statSync(fresh).mode & 0o777).toBe(0o700)
  })

  it("a cache folder that cannot be created (under a regular file): a clear error before the browser opens", async () => {
    const parent = tempDir()
    const file = Path.join(parent, "not-a-folder")
    Fs.writeFileSync(file, "x")
    const cacheDir = Path.join(file, "cache")
    const env = cleanEnv({ AZURE_CLIENT_ID: emulator.defaults.publicClientId })
    const result = await run(["login", "--no-browser", "--cache-dir", cacheDir], env)
    expect(result.code).toBe(5)
    expect(result.stderr).toContain(`cannot write the token cache at ${Path.join(cacheDir, "token-cache.json")}`)
    expect(result.stderr).toContain("ENOTDIR")
    expect(result.stderr).toContain("--cache-dir")
    expect(result.stderr).not.toContain("/oauth2/v2.0/authorize")
    expect(result.stderr).not.toMatch(/\n\s+at /)
    const logout = await run(["logout", "--all", "--cache-dir", cacheDir], env)
    expect(logout.code).toBe(0)
  })

  it("a read-only (0555) cache folder: a clear error and exit 5, the folder is not made writable", async () => {
    // Run without root's powers, as its owner: the owner could chmod it, so nothing but the cache's own rule stops it.
    const root = tempDir()
    Fs.chmodSync(root, 0o755)
    const caFile = Path.join(root, "ca.pem")
    Fs.writeFileSync(caFile, ca, { mode: 0o644 })
    const cacheDir = Path.join(root, "cache")
    Fs.mkdirSync(cacheDir)
    const info = Path.join(cacheDir, "emulator.json")
    Fs.writeFileSync(info, JSON.stringify({ ...EmulatorInfo.fromEmulator(emulator, process.pid), caFile }))
    giveToUnprivileged(info)
    giveToUnprivileged(cacheDir)
    Fs.chmodSync(cacheDir, 0o555)
    // A copy `nobody` can reach: the checkout may live in a private folder.
    const kit = await prepareUnprivileged(repoBin)
    const result = await run(["login", "--emulator", "--no-browser", "--cache-dir", cacheDir], cleanEnv(), kit)
      .finally(kit.dispose)
    expect(result.stderr).toBe(
      `effect-entra: cannot write the token cache at ${Path.join(cacheDir, "token-cache.json")}: its folder is ` +
        "read-only (mode 0555); choose another folder with --cache-dir or EFFECT_ENTRA_CACHE_DIR\n"
    )
    expect(result.code).toBe(5)
    expect(result.stdout).toBe("")
    expect(Fs.statSync(cacheDir).mode & 0o777).toBe(0o555)
    expect(Fs.readdirSync(cacheDir)).toEqual(["emulator.json"])
  })

  it("an unusable browser command falls back to printing the URL", async () => {
    const cacheDir = signedInDir()
    const running = start(
      ["login", "--emulator", "--cache-dir", cacheDir],
      cleanEnv({ BROWSER: "/nonexistent/browser" })
    )
    await running.waitFor(/could not open a browser with \/nonexistent\/browser: command not found/)
    const url = await signInUrl(running)
    await headlessSignIn(url, ca)
    expect((await running.exit).code).toBe(0)
  })

  it("an encrypted cache (EFFECT_ENTRA_CACHE_KEY) holds no readable token; a wrong key reads as signed out", async () => {
    const cacheDir = signedInDir()
    const key = Buffer.alloc(32, 7).toString("base64")
    const env = cleanEnv({ EFFECT_ENTRA_CACHE_KEY: key })
    const running = start(["login", "--emulator", "--no-browser", "--cache-dir", cacheDir], env)
    await headlessSignIn(await signInUrl(running), ca)
    const result = await running.exit
    expect(result.code).toBe(0)
    expect(result.stdout).toContain("AES-256-GCM")
    const text = Fs.readFileSync(Path.join(cacheDir, "token-cache.json"), "utf8")
    expect(JSON.parse(text)).toMatchObject({ v: 1, alg: "A256GCM" })
    expect(text).not.toContain("alice")
    const token = await run(["token", "--emulator", "--cache-dir", cacheDir, "--scope", graph], env)
    expect(token.code).toBe(0)
    const wrong = cleanEnv({ EFFECT_ENTRA_CACHE_KEY: Buffer.alloc(32, 8).toString("base64") })
    const other = await run(["token", "--emulator", "--cache-dir", cacheDir, "--scope", graph], wrong)
    expect(other.code).toBe(3)
    expect(other.stderr).toContain("could not be decrypted")
    const bad = await run(
      ["status", "--emulator", "--cache-dir", cacheDir],
      cleanEnv({ EFFECT_ENTRA_CACHE_KEY: "c2hvcnQ=" })
    )
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain("EFFECT_ENTRA_CACHE_KEY: expected 32 bytes")
  })
})
