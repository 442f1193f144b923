import { describe, expect, it } from "@effect/vitest"
import { run, tempDir } from "./fixtures/cli.js"

// The CLI reads --scope with identity's own scope parser (TokenCache.parseScopes), as getToken does.
describe("effect-entra --scope", () => {
  it("token: a blank --scope is refused by the credential's rule, naming the option", async () => {
    const result = await run(["token", "--scope", "   ", "--cache-dir", tempDir()])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain("effect-entra: --scope: every scope must be a non-empty string")
  })

  it("login: a blank --scope is refused before anything is opened", async () => {
    const result = await run(["login", "--scope", "   ", "--cache-dir", tempDir(), "--client-id", "c", "--no-browser"])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain("--scope: every scope must be a non-empty string")
  })
})
