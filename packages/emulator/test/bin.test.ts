import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { describe, expect, it } from "vitest"
import * as EmulatorConfig from "../src/EmulatorConfig.js"
import { request } from "./fixtures/http.js"

const bin = Path.resolve(__dirname, "../dist/bin.js")
const missingReason = `${bin} is not built (run \`npx tsc -b packages/emulator\`)`

/** Skipped loudly when `dist` is missing; under CI (`process.env.CI`) that is a failure instead. */
const describeBuilt = (name: string, body: () => void) => {
  if (Fs.existsSync(bin)) return describe(name, body)
  if (process.env.CI) {
    return describe(name, () => {
      it("needs the built dist", () => {
        throw new Error(`${missingReason}; CI must build before testing`)
      })
    })
  }
  console.warn(`\n*** SKIPPING "${name}": ${missingReason} ***\n`)
  return describe.skip(`${name} (skipped: ${missingReason})`, body)
}

interface Ready {
  readonly child: ChildProcess.ChildProcess
  readonly ready: Record<string, unknown>
  readonly line: string
}

/** Starts the bin and resolves with its first stdout line, parsed. */
const startBin = (args: ReadonlyArray<string>): Promise<Ready> => {
  const child = ChildProcess.spawn(process.execPath, [bin, ...args], { stdio: ["ignore", "pipe", "pipe"] })
  return new Promise<Ready>((resolve, reject) => {
    let out = ""
    let err = ""
    child.stderr.on("data", (d: Buffer) => (err += d.toString()))
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString()
      if (out.includes("\n")) resolve({ child, ready: JSON.parse(out), line: out })
    })
    child.on("exit", (code) => reject(new Error(`exited ${code}: ${err}`)))
  })
}

const stop = (child: ChildProcess.ChildProcess): Promise<number | null> => {
  const exit = new Promise<number | null>((resolve) => child.on("exit", resolve))
  child.kill("SIGTERM")
  return exit
}

const runBin = (args: ReadonlyArray<string>) =>
  new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = ChildProcess.spawn(process.execPath, [bin, ...args])
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()))
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()))
    child.on("close", (status) => resolve({ status, stdout, stderr }))
  })

describeBuilt("effect-entra-emulator bin (built dist)", () => {
  it("prints one JSON ready line with every field, serves, and exits 0 on SIGTERM", async () => {
    const { child, line, ready } = await startBin(["--port", "0"])
    expect(line.trim().split("\n")).toHaveLength(1)
    const ids = EmulatorConfig.defaultIds
    expect(Object.keys(ready).sort()).toEqual([
      "authority",
      "caFile",
      "clientId",
      "clientSecret",
      "otherTenantId",
      "publicClientId",
      "redirectUri",
      "scope",
      "tenantId",
      "users"
    ])
    expect(ready).toEqual({
      authority: expect.stringMatching(/^https:\/\/127\.0\.0\.1:\d+$/),
      caFile: expect.stringMatching(/ca\.pem$/),
      tenantId: ids.tenantId,
      otherTenantId: ids.otherTenantId,
      clientId: ids.clientId,
      clientSecret: ids.clientSecret,
      redirectUri: ids.redirectUri,
      publicClientId: ids.publicClientId,
      scope: `api://${ids.clientId}/access_as_user`,
      users: EmulatorConfig.defaults.users.map(({ name, oid, username }) => ({ username, name, oid }))
    })
    const ca = Fs.readFileSync(ready.caFile as string, "utf8")
    expect(ca).toMatch(/^-----BEGIN CERTIFICATE-----/)
    const health = await request(`${ready.authority}/_emulator/health`, ca)
    expect(health.json).toEqual({ status: "ok" })
    expect(await stop(child)).toBe(0)
    expect(Fs.existsSync(ready.caFile as string)).toBe(false)
  }, 20_000)

  it("--host 127.0.0.1 listens there and names it in the authority", async () => {
    const { child, ready } = await startBin(["--host", "127.0.0.1", "--port", "0"])
    try {
      const authority = new URL(ready.authority as string)
      expect(authority.hostname).toBe("127.0.0.1")
      expect(Number(authority.port)).toBeGreaterThan(0)
      const health = await request(
        `${ready.authority}/_emulator/health`,
        Fs.readFileSync(ready.caFile as string, "utf8")
      )
      expect(health.status).toBe(200)
    } finally {
      expect(await stop(child)).toBe(0)
    }
  }, 20_000)

  it("exits 2 with one clear stderr line for a bad flag, host, port or config file", async () => {
    const cases: Array<[Array<string>, RegExp]> = [
      [["--bogus"], /Unknown option '--bogus'/],
      [["--port", "abc"], /--port must be an integer between 0 and 65535, got "abc"/],
      [["--port", "70000"], /--port must be an integer between 0 and 65535, got "70000"/],
      [["--port", "1.5"], /--port must be an integer between 0 and 65535, got "1\.5"/],
      [["--host"], /Option '--host <value>' argument missing; usage: effect-entra-emulator/],
      // TEST-NET-1 (RFC 5737) is never a local address: the bind fails without any traffic leaving the host.
      [["--host", "192.0.2.1", "--port", "0"], /cannot listen on 192\.0\.2\.1:0: .*EADDRNOTAVAIL/],
      [["--config", "/nonexistent/emulator.json"], /cannot read emulator config file/]
    ]
    const results = await Promise.all(cases.map(([args]) => runBin(args)))
    results.forEach((result, i) => {
      const [args, pattern] = cases[i]!
      expect(result.status, args.join(" ")).toBe(2)
      expect(result.stdout).toBe("")
      expect(result.stderr.trim().split("\n")).toHaveLength(1)
      expect(result.stderr).toMatch(/^effect-entra-emulator: /)
      expect(result.stderr).toMatch(pattern)
      expect(result.stderr).not.toMatch(/\n\s+at /)
    })
  }, 20_000)
})
