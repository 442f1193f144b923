import { describe, expect, it } from "@effect/vitest"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { cleanEnv, run, tempDir } from "./fixtures/cli.js"

// The CLI reads --scope with identity's own scope parser (TokenCache.parseScopes), as getToken does.
describe("effect-entra --scope", () => {
  it("token: a blank --scope is refused by the credential's rule, naming the option", async () => {
    const result = await run(["token", "--scope", "   ", "--cache-dir", tempDir()])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain("effect-entra: --scope: every scope must be a non-empty string")
  })

  it("token without --scope or a default is a usage error naming where a default goes", async () => {
    const cacheDir = tempDir()
    const result = await run(["token", "--cache-dir", cacheDir], cleanEnv({ EFFECT_ENTRA_SCOPE: "  " }))
    expect(result.code).toBe(2)
    expect(result.stderr).toBe(
      "effect-entra: at least one --scope is required, e.g. --scope https://graph.microsoft.com/.default (for a " +
        `default, set EFFECT_ENTRA_SCOPE or put "scopes" in ${Path.join(cacheDir, "config.json")})\n`
    )
  })

  it("token: blank default scopes are refused naming where they came from", async () => {
    const cacheDir = tempDir()
    Fs.writeFileSync(Path.join(cacheDir, "config.json"), JSON.stringify({ scopes: [" "] }), { mode: 0o600 })
    const result = await run(["token", "--cache-dir", cacheDir], cleanEnv())
    expect(result.code).toBe(2)
    expect(result.stderr).toContain("effect-entra: \"scopes\" in the config file: every scope must be a non-empty")
  })

  it("login: a blank --scope is refused before anything is opened", async () => {
    const result = await run(["login", "--scope", "   ", "--cache-dir", tempDir(), "--client-id", "c", "--no-browser"])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain("--scope: every scope must be a non-empty string")
  })
})
