import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { describe, expect, it } from "vitest"
import { request } from "./fixtures/http.js"

const bin = Path.resolve(__dirname, "../dist/bin.js")

describe.runIf(Fs.existsSync(bin))("effect-entra-emulator bin (built dist)", () => {
  it("prints one JSON ready line, serves, and exits 0 on SIGTERM", async () => {
    const child = ChildProcess.spawn(process.execPath, [bin, "--port", "0"], { stdio: ["ignore", "pipe", "pipe"] })
    const line = await new Promise<string>((resolve, reject) => {
      let out = ""
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString()
        if (out.includes("\n")) resolve(out)
      })
      child.on("exit", (code) => reject(new Error(`exited ${code}`)))
    })
    expect(line.trim().split("\n")).toHaveLength(1)
    const ready = JSON.parse(line)
    expect(ready).toMatchObject({
      tenantId: expect.any(String),
      clientId: expect.any(String),
      scope: expect.stringMatching(/^api:\/\//)
    })
    expect(ready.users.map((u: { username: string }) => u.username)).toContain("alice@contoso.example")
    const ca = Fs.readFileSync(ready.caFile, "utf8")
    const health = await request(`${ready.authority}/_emulator/health`, ca)
    expect(health.json).toEqual({ status: "ok" })
    const exit = new Promise<number | null>((resolve) => child.on("exit", resolve))
    child.kill("SIGTERM")
    expect(await exit).toBe(0)
    expect(Fs.existsSync(ready.caFile)).toBe(false)
  }, 20_000)

  it("exits non-zero with one clear stderr line for a bad flag, port or config file", async () => {
    const cases: Array<[Array<string>, RegExp]> = [
      [["--bogus"], /Unknown option '--bogus'/],
      [["--port", "abc"], /--port must be an integer/],
      [["--config", "/nonexistent/emulator.json"], /cannot read emulator config file/]
    ]
    const results = await Promise.all(
      cases.map(([args]) =>
        new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
          const child = ChildProcess.spawn(process.execPath, [bin, ...args])
          let stdout = ""
          let stderr = ""
          child.stdout.on("data", (d: Buffer) => (stdout += d.toString()))
          child.stderr.on("data", (d: Buffer) => (stderr += d.toString()))
          child.on("close", (status) => resolve({ status, stdout, stderr }))
        })
      )
    )
    results.forEach((result, i) => {
      expect(result.status).not.toBe(0)
      expect(result.status).not.toBeNull()
      expect(result.stdout).toBe("")
      expect(result.stderr.trim().split("\n")).toHaveLength(1)
      expect(result.stderr).toMatch(cases[i]![1])
    })
  }, 20_000)
})
