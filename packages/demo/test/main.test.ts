import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"

const main = fileURLToPath(new URL("../dist/main.js", import.meta.url))

const run = (env: Record<string, string> = {}) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = execFile(process.execPath, [main], {
      env: { PATH: process.env.PATH ?? "", NO_COLOR: "1", ...env },
      timeout: 60_000
    }, (error, stdout, stderr) => resolve({ code: error === null ? 0 : (child.exitCode ?? 1), stdout, stderr }))
  })

describe("pnpm start (the main job)", () => {
  it("signs in, redeems once, serves from the cache, refreshes, answers a claims challenge and exits 0", async () => {
    const { code, stderr, stdout } = await run()
    expect(stderr).toBe("")
    expect(code).toBe(0)
    expect(stdout).toMatch(/1\. Emulator\s+https:\/\/127\.0\.0\.1:\d+/)
    expect(stdout).toContain("alice@contoso.example signed in headlessly")
    expect(stdout).toMatch(/3\. RedeemCode\s+authorization_code grant → 200/)
    expect(stdout).toContain("name=Alice Example")
    expect(stdout).toMatch(/4\. CacheLookup\s+the same token from the cache/)
    expect(stdout).toContain("token requests to Entra so far: 1")
    expect(stdout).toContain("code redemptions: 1 · refreshes: 1")
    expect(stdout).toContain("401 insufficient_claims")
    expect(stdout).toContain("retry → 200 (Alice Example)")
    expect(stdout).toContain("later getToken(scope) calls get the new token from the cache")
    expect(stdout).toContain("7. Shutdown")
    // No token is ever printed: a JWT starts with eyJ.
    expect(stdout).not.toMatch(/eyJ[\w-]{10,}/)
  })

  it("explains how to use real Entra when AZURE_* variables are set", async () => {
    const { code, stdout } = await run({ AZURE_TENANT_ID: "contoso.onmicrosoft.com", AZURE_CLIENT_ID: "x" })
    expect(code).toBe(0)
    expect(stdout).toContain("AZURE_* variables are set")
    expect(stdout).toContain("AuthorizationCodeCredential.layerConfig()")
  })
})
