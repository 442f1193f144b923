import * as ChildProcess from "node:child_process"
import * as Path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { RunningEmulator } from "../src/index.js"
import { startEmulator } from "../src/index.js"
import { request } from "./fixtures/http.js"

let emu: RunningEmulator
beforeAll(async () => {
  emu = await startEmulator()
})
afterAll(() => emu.close())

const runNode = (script: string, env: Record<string, string>) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = ChildProcess.spawn(process.execPath, [script], {
      env: { ...process.env, ...env },
      cwd: Path.resolve(__dirname, "..")
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()))
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()))
    child.on("close", (code) => resolve({ code, stdout, stderr }))
  })

describe("fidelity with Microsoft's client libraries", () => {
  it(
    "@azure/identity AuthorizationCodeCredential redeems an emulator code; the resource accepts the token",
    async () => {
      const { code } = await emu.signIn()
      const result = await runNode(Path.resolve(__dirname, "fixtures/azure-identity.mjs"), {
        NODE_EXTRA_CA_CERTS: emu.caFile,
        EMU_AUTHORITY: emu.authority,
        EMU_TENANT: emu.defaults.tenantId,
        EMU_CLIENT_ID: emu.defaults.clientId,
        EMU_CLIENT_SECRET: emu.defaults.clientSecret,
        EMU_CODE: code,
        EMU_REDIRECT_URI: emu.defaults.redirectUri,
        EMU_SCOPE: emu.defaults.scope
      })
      expect(result.stderr).toBe("")
      const out = JSON.parse(result.stdout)
      expect(out.error).toBeUndefined()
      expect(result.code).toBe(0)
      const me = await request(`${emu.authority}/_resource/me`, emu.caPem, {
        headers: { authorization: `Bearer ${out.token}` }
      })
      expect(me.status).toBe(200)
      expect(me.json.preferred_username).toBe("alice@contoso.example")
      const tokenRequests = await emu.requests({ endpoint: "token" })
      expect(tokenRequests.map((e) => e.status)).toEqual([200])
    },
    30_000
  )
})
