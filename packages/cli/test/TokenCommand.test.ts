import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { cleanEnv, headlessSignIn, run, signInUrl, start, tempDir } from "./fixtures/cli.js"
import type { RunningEmulator } from "./fixtures/emulator.js"
import { record, startEmulator } from "./fixtures/emulator.js"

const graph = "https://graph.microsoft.com/User.Read"

let emulator: RunningEmulator
let cacheDir: string

// One sign-in for the block: every test reads the same cached token.
beforeAll(async () => {
  emulator = await startEmulator()
  cacheDir = tempDir()
  record(emulator, cacheDir)
  const running = start(["login", "--emulator", "--no-browser", "--cache-dir", cacheDir])
  await headlessSignIn(await signInUrl(running), emulator.caPem)
  const exit = await running.exit
  if (exit.code !== 0) throw new Error(`login failed: ${exit.stderr}`)
})
afterAll(() => emulator?.close())

const token = (...extra: Array<string>) =>
  run(["token", "--emulator", "--cache-dir", cacheDir, "--scope", graph, ...extra])

describe.concurrent("effect-entra token output for scripts", () => {
  it("--output json prints az's fields, expires_on in epoch seconds matching expiresOn", async () => {
    const bare = await token()
    const result = await token("--output", "json")
    expect(result.code).toBe(0)
    const json = JSON.parse(result.stdout)
    expect(json).toMatchObject({
      accessToken: bare.stdout.trim(),
      tenant: emulator.defaults.tenantId,
      tokenType: "Bearer",
      scopes: [graph]
    })
    expect(json.expires_on).toBe(Math.floor(Date.parse(json.expiresOn) / 1000))
    expect(json.expires_on * 1000).toBeGreaterThan(Date.now())
    // --json is an alias.
    expect(JSON.parse((await token("--json")).stdout)).toEqual(json)
  })

  it("--output tsv, -o none and --query print what a script needs, and nothing else", async () => {
    const bare = (await token()).stdout.trim()
    const tsv = await token("-o", "tsv")
    expect(tsv.code).toBe(0)
    expect(tsv.stdout.trimEnd().split("\n")).toHaveLength(1)
    expect(tsv.stdout.split("\t")[0]).toBe(bare)
    const none = await token("--output", "none")
    expect(none).toMatchObject({ code: 0, stdout: "", stderr: "" })
    expect((await token("--query", "accessToken", "--output", "tsv")).stdout).toBe(`${bare}\n`)
    expect((await token("--query", "accessToken", "--output", "json")).stdout).toBe(`"${bare}"\n`)
    expect((await token("--query", "expires_on")).stdout).toMatch(/^\d{10}\n$/)
  })

  it("a bad --output or --query, or --json with another --output, is a usage error before any request", async () => {
    for (
      const [args, message] of [
        [["--output", "yaml"], "effect-entra: --output: \"yaml\" is not one of text, json, tsv, none"],
        [["--query", "accesToken"], "effect-entra: --query: \"accesToken\" is not a field"],
        [["--json", "--output", "tsv"], "effect-entra: --json contradicts --output tsv"]
      ] as const
    ) {
      const result = await token(...args)
      expect(result.code).toBe(2)
      expect(result.stdout).toBe("")
      expect(result.stderr).toContain(message)
    }
  })
})

describe.concurrent("effect-entra default scopes", () => {
  it("token without --scope uses \"scopes\" from the config file, else EFFECT_ENTRA_SCOPE", async () => {
    const bare = (await token()).stdout.trim()
    // The same authority and app as --emulator, given by the config file, so the signed-in account is found.
    const configured = tempDir()
    Fs.copyFileSync(Path.join(cacheDir, "token-cache.json"), Path.join(configured, "token-cache.json"))
    Fs.writeFileSync(
      Path.join(configured, "config.json"),
      JSON.stringify({
        authority: emulator.authority,
        tenantId: emulator.defaults.tenantId,
        clientId: emulator.defaults.publicClientId,
        scopes: [graph]
      }),
      { mode: 0o600 }
    )
    const fromConfig = await run(
      ["token", "--cache-dir", configured],
      cleanEnv({ NODE_EXTRA_CA_CERTS: emulator.caFile })
    )
    expect(fromConfig.stderr).toBe("")
    expect(fromConfig).toMatchObject({ code: 0, stdout: `${bare}\n` })
    const fromEnv = await run(
      ["token", "--emulator", "--cache-dir", cacheDir],
      cleanEnv({ EFFECT_ENTRA_SCOPE: ` ${graph} ` })
    )
    expect(fromEnv).toMatchObject({ code: 0, stdout: `${bare}\n` })
  })

  it("login without --scope asks for EFFECT_ENTRA_SCOPE", async () => {
    const running = start(
      ["login", "--emulator", "--no-browser", "--cache-dir", cacheDir, "--timeout", "1m"],
      cleanEnv({ EFFECT_ENTRA_SCOPE: emulator.defaults.scope })
    )
    const url = await signInUrl(running)
    running.child.kill("SIGINT")
    await running.exit
    expect(url.searchParams.get("scope")).toBe(`openid profile offline_access ${emulator.defaults.scope}`)
  })
})
