import { describe, expect, it } from "@effect/vitest"
import * as Fs from "node:fs"
import { createRequire } from "node:module"
import * as Path from "node:path"
import { isEmulatorMissing } from "../src/EmulatorCommand.js"
import { headlessSignIn, run, signInUrl, start, tempDir } from "./fixtures/cli.js"

describe("the emulator not installed", () => {
  it("is recognised from import (the repository's build) and from require (the published bundle)", async () => {
    const imported = await import("@effect-entra/emulator/no-such-module" as string).catch((error) => error)
    expect(isEmulatorMissing(imported)).toBe(true)
    const required = (() => {
      try {
        return createRequire(__filename)("@effect-entra/no-such-package")
      } catch (error) {
        return error
      }
    })()
    expect((required as { code: string }).code).toBe("MODULE_NOT_FOUND")
    expect(isEmulatorMissing(Object.assign(new Error("Cannot find module '@effect-entra/emulator/startEmulator'"), {
      code: "MODULE_NOT_FOUND"
    }))).toBe(true)
    // Another missing module (one the emulator itself needs) is not the emulator missing.
    expect(isEmulatorMissing(required)).toBe(false)
    expect(isEmulatorMissing(new Error("@effect-entra/emulator"))).toBe(false)
  })
})

describe("effect-entra emulator", () => {
  it("records itself in <cache-dir>/emulator.json, serves --emulator sign-ins, and removes the file on Ctrl+C", async () => {
    const cacheDir = Path.join(tempDir(), "cache")
    const emulator = start(["emulator", "--cache-dir", cacheDir])
    try {
      await emulator.waitFor(/Press Ctrl\+C to stop/, "stdout")
      const infoFile = Path.join(cacheDir, "emulator.json")
      expect(Fs.statSync(infoFile).mode & 0o777).toBe(0o600)
      expect(Fs.statSync(cacheDir).mode & 0o777).toBe(0o700)
      const info = JSON.parse(Fs.readFileSync(infoFile, "utf8"))
      expect(info).toMatchObject({
        authority: expect.stringMatching(/^https:\/\/127\.0\.0\.1:\d+$/),
        clientId: "7c9e2d4f-1a3b-4c5d-9e8f-6a7b8c9d0e1f",
        pid: emulator.child.pid
      })
      expect(JSON.stringify(info)).not.toContain("emu~Secret")
      expect(emulator.stdout()).toContain(`Entra ID emulator running at ${info.authority}`)

      const login = start(["login", "--emulator", "--no-browser", "--cache-dir", cacheDir])
      const url = await signInUrl(login)
      expect(url.origin).toBe(info.authority)
      await headlessSignIn(url, Fs.readFileSync(info.caFile, "utf8"), "carol@fabrikam.example")
      const result = await login.exit
      expect(result.code).toBe(0)
      expect(result.stdout).toContain("Signed in as carol@fabrikam.example (Carol Example)")

      emulator.child.kill("SIGINT")
      const stopped = await emulator.exit
      expect(stopped.code).toBe(130)
      expect(Fs.existsSync(infoFile)).toBe(false)
      expect(Fs.existsSync(info.caFile)).toBe(false)

      const after = await run(["token", "--emulator", "--cache-dir", cacheDir, "--scope", "x"])
      expect(after.code).toBe(2)
      expect(after.stderr).toContain("the emulator is not running")
    } finally {
      emulator.child.kill("SIGKILL")
    }
  })

  it("a bad --port or --config is a usage error", async () => {
    const bad = await run(["emulator", "--port", "70000", "--cache-dir", tempDir()])
    expect(bad.code).toBe(2)
    expect(bad.stdout + bad.stderr).toContain("--port: \"70000\" is not a port")
    const dir = tempDir()
    const config = Path.join(dir, "emulator-config.json")
    Fs.writeFileSync(config, JSON.stringify({ users: [{ username: "x" }] }))
    const invalid = await run(["emulator", "--config", config, "--cache-dir", dir])
    expect(invalid.code).toBe(2)
    expect(invalid.stderr).toContain("effect-entra: cannot start the emulator: invalid emulator config file")
    expect(Fs.existsSync(Path.join(dir, "emulator.json"))).toBe(false)
  })
})
