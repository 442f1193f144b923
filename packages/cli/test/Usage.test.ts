import { describe, expect, it } from "@effect/vitest"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { cleanEnv, run, tempDir } from "./fixtures/cli.js"

describe.concurrent("effect-entra usage", () => {
  it("--help describes the program and lists every command", async () => {
    const result = await run(["--help"])
    expect(result.code).toBe(0)
    for (const name of ["login", "token", "status", "logout", "emulator"]) {
      expect(result.stdout).toMatch(new RegExp(`^  ${name} +\\S`, "m"))
    }
  })

  it.each([
    ["login", ["--no-browser", "--timeout", "--redirect-port", "--login-hint", "--scope", "--emulator"]],
    ["token", ["--scope", "--output", "--query", "--json", "--tenant", "--account", "--emulator"]],
    ["status", ["--json", "--cache-dir", "--emulator"]],
    ["logout", ["--account", "--all", "--emulator"]],
    ["emulator", ["--port", "--config", "--cache-dir"]]
  ])("%s --help names its flags and exits 0", async (command, flags) => {
    const result = await run([command, "--help"])
    expect(result.code).toBe(0)
    for (const flag of flags) expect(result.stdout).toContain(flag)
    expect(result.stdout).not.toContain("--client-secret")
  })

  it("--version prints the version", async () => {
    const result = await run(["--version"])
    expect(result.code).toBe(0)
    expect(result.stdout).toContain("0.1.0")
  })

  it.each([
    [["login", "--bogus"], /bogus/],
    [["login", "--redirect-port", "abc"], /redirect-port/],
    [["login", "--timeout", "soon", "--emulator"], /--timeout: "soon" is not a duration/],
    [["status", "--client-secret", "s3cret"], /client-secret/],
    [["frobnicate"], /frobnicate|Invalid subcommand/i]
  ])("%j is a usage error: exit 2 with a message", async (args, message) => {
    const result = await run(args)
    expect(result.code).toBe(2)
    expect(result.stdout + result.stderr).toMatch(message)
    expect(result.stderr).not.toMatch(/\n\s+at /)
  })

  it("token without --scope says a scope is required", async () => {
    const result = await run(["token", "--cache-dir", tempDir()])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain("effect-entra: at least one --scope is required")
  })

  it("without a client id the message lists the ways to give one", async () => {
    const cacheDir = tempDir()
    const result = await run(["status", "--cache-dir", cacheDir])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain("no client (application) id: pass --client-id, set AZURE_CLIENT_ID")
    expect(result.stderr).toContain(Path.join(cacheDir, "config.json"))
  })

  it("--emulator without a running emulator tells the user to start one", async () => {
    const cacheDir = tempDir()
    const result = await run(["login", "--emulator", "--no-browser", "--cache-dir", cacheDir])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain("the emulator is not running")
    expect(result.stderr).toContain("`effect-entra emulator`")
    expect(result.stderr.trim().split("\n")).toHaveLength(1)
  })

  it.each([
    ["login", ["--no-browser"]],
    ["token", ["--scope", "api://x/access_as_user"]],
    ["token", ["--output", "json"]],
    ["status", []]
  ])("%s --emulator with a stale emulator.json (nothing listening) says it is not running, not 'not signed in'", async (
    command,
    extra
  ) => {
    const cacheDir = tempDir()
    const ca = Path.join(cacheDir, "ca.pem")
    Fs.writeFileSync(ca, "-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n")
    Fs.writeFileSync(
      Path.join(cacheDir, "emulator.json"),
      JSON.stringify({
        authority: "https://127.0.0.1:1",
        caFile: ca,
        tenantId: "8eaef023-2b34-4da1-9baa-8bc8c9d6a490",
        clientId: "7c9e2d4f-1a3b-4c5d-9e8f-6a7b8c9d0e1f",
        webClientId: "2f4b6e1a-9c3d-4a5e-8b7f-0d1c2e3f4a5b",
        scope: "api://x/access_as_user",
        redirectUri: "http://127.0.0.1/callback",
        users: [],
        pid: 1
      })
    )
    // The token command finds no account in the empty cache: the emulator's absence is the reason reported.
    const result = await run(
      [command, "--emulator", "--cache-dir", cacheDir, ...extra],
      cleanEnv({
        EFFECT_ENTRA_SCOPE: "api://x/access_as_user"
      })
    )
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/the emulator is not running \(https:\/\/127\.0\.0\.1:1 does not answer/)
    expect(result.stderr).toContain("start it with `effect-entra emulator`")
    expect(result.stderr).not.toContain("not signed in")
    expect(result.stdout).toBe("")
  })

  it("an invalid config file is named with the offending field, never its value", async () => {
    const cacheDir = tempDir()
    Fs.writeFileSync(
      Path.join(cacheDir, "config.json"),
      JSON.stringify({ clientId: "c", clientSecret: 12345, colour: "blue" })
    )
    const result = await run(["status", "--cache-dir", cacheDir], cleanEnv())
    expect(result.code).toBe(2)
    expect(result.stderr).toContain("invalid config file")
    expect(result.stderr).toContain("clientSecret")
    expect(result.stderr).not.toContain("12345")
  })
})
