import { describe, expect, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import * as EmulatorInfo from "../src/EmulatorInfo.js"
import * as StatusCommand from "../src/StatusCommand.js"
import { cleanEnv, run, tempDir } from "./fixtures/cli.js"

const isRoot = process.getuid?.() === 0
const env = cleanEnv({ AZURE_CLIENT_ID: "client", AZURE_AUTHORITY_HOST: "https://login.example" })

const info: EmulatorInfo.EmulatorInfo = {
  authority: "https://127.0.0.1:1",
  caFile: "/nonexistent/ca.pem",
  tenantId: "t",
  clientId: "c",
  webClientId: "w",
  scope: "api://w/.default",
  redirectUri: "http://127.0.0.1/callback",
  users: [],
  pid: 1
}

const account = {
  homeAccountId: "uid.utid",
  authority: "https://login.example",
  clientId: "client",
  tenantId: "utid",
  username: "alice@contoso.example",
  refreshToken: "refresh-secret",
  version: 1,
  updatedOn: 1
}

describe("files the CLI writes and reads in shared folders", () => {
  it("emulator.json: a planted symlink is refused, never followed; so is a symlinked or foreign folder", async () => {
    const root = tempDir()
    const victim = Path.join(root, "victim")
    Fs.writeFileSync(victim, "root-owned contents")
    const cacheDir = Path.join(root, "cache")
    Fs.mkdirSync(cacheDir, { mode: 0o700 })
    Fs.symlinkSync(victim, Path.join(cacheDir, "emulator.json"))
    const refused = await Effect.runPromise(Effect.either(EmulatorInfo.write(cacheDir, info)))
    expect(Either.isLeft(refused) && refused.left.detail).toContain("symbolic link")
    expect(Fs.readFileSync(victim, "utf8")).toBe("root-owned contents")

    Fs.rmSync(Path.join(cacheDir, "emulator.json"))
    const written = await Effect.runPromise(EmulatorInfo.write(cacheDir, info))
    expect(Fs.lstatSync(written).isFile()).toBe(true)
    expect(Fs.statSync(written).mode & 0o777).toBe(0o600)
    expect(Fs.readdirSync(cacheDir)).toEqual(["emulator.json"])

    const link = Path.join(root, "link")
    Fs.symlinkSync(cacheDir, link)
    const viaLink = await Effect.runPromise(Effect.either(EmulatorInfo.write(link, info)))
    expect(Either.isLeft(viaLink) && viaLink.left.detail).toContain("is a symbolic link")

    if (isRoot) {
      const theirs = Path.join(root, "theirs")
      Fs.mkdirSync(theirs, { mode: 0o777 })
      Fs.chmodSync(theirs, 0o777)
      Fs.chownSync(theirs, 65534, 65534)
      const foreign = await Effect.runPromise(Effect.either(EmulatorInfo.write(theirs, info)))
      expect(Either.isLeft(foreign) && foreign.left.detail).toContain("owned by uid 65534")
      expect(Fs.statSync(theirs).mode & 0o777).toBe(0o777)
      expect(Fs.readdirSync(theirs)).toEqual([])
    }
  })

  it("status (and the time format token --json uses) never crash on odd stored values: the odd entry is dropped, the account still shows", async () => {
    expect(StatusCommand.isoTime(1e30)).toBe("invalid")
    expect(StatusCommand.isoTime(Number.NaN)).toBe("invalid")
    expect(StatusCommand.isoTime(Date.UTC(2030, 0, 1))).toBe("2030-01-01T00:00:00Z")
    const cacheDir = tempDir()
    const odd = (expiresOn: unknown) => ({
      token: "access-secret",
      tokenType: "Bearer",
      issuedOn: 1,
      expiresOn,
      scopes: ["api://x/y"],
      tenantId: "utid",
      homeAccountId: "uid.utid",
      cae: false
    })
    const key = "account|https://login.example|client|uid.utid"
    Fs.writeFileSync(
      Path.join(cacheDir, "token-cache.json"),
      JSON.stringify({
        version: 1,
        accounts: { [key]: account },
        accessTokens: { [`${key}|utid|std|api://x/y`]: odd(1e30), [`${key}|utid|std|api://x/z`]: odd(null) },
        redemptions: {}
      }),
      { mode: 0o600 }
    )
    const [status, json] = await Promise.all([
      run(["status", "--cache-dir", cacheDir], env),
      run(["status", "--json", "--cache-dir", cacheDir], env)
    ])
    expect(status.code).toBe(0)
    expect(status.stdout).toContain("alice@contoso.example")
    expect(status.stdout).toContain("access tokens  none")
    expect(status.stderr).toContain("2 entries could not be read and were dropped")
    expect(status.stderr).not.toContain("RangeError")
    expect(json.code).toBe(0)
    expect(JSON.parse(json.stdout).accounts[0].accessTokens).toEqual([])
  })

  it("login without the key, or with another one, leaves an encrypted cache alone: exit 5 naming EFFECT_ENTRA_CACHE_KEY", async () => {
    const cacheDir = tempDir()
    const file = Path.join(cacheDir, "token-cache.json")
    // Any envelope: this process cannot open it either way.
    const sealed = JSON.stringify({
      v: 1,
      alg: "A256GCM",
      iv: "AAAAAAAAAAAAAAAA",
      tag: "AAAAAAAAAAAAAAAAAAAAAA==",
      data: "AA=="
    })
    Fs.writeFileSync(file, sealed, { mode: 0o600 })
    const [withoutKey, otherKey] = await Promise.all([
      run(["login", "--no-browser", "--cache-dir", cacheDir, "--timeout", "1s"], env),
      run(
        ["login", "--no-browser", "--cache-dir", cacheDir, "--timeout", "1s"],
        cleanEnv({ ...env, EFFECT_ENTRA_CACHE_KEY: Buffer.alloc(32, 9).toString("base64") })
      )
    ])
    for (const result of [withoutKey, otherKey]) {
      expect(result.code).toBe(5)
      expect(result.stderr).toContain("EFFECT_ENTRA_CACHE_KEY")
      expect(result.stderr).toContain("nothing was changed")
      expect(result.stderr).not.toContain("/oauth2/v2.0/authorize")
    }
    expect(withoutKey.stderr).toContain("no key is set")
    expect(otherKey.stderr).toMatch(/key ids [0-9a-f]{8}/)
    expect(Fs.readFileSync(file, "utf8")).toBe(sealed)
    expect(Fs.readdirSync(cacheDir)).toEqual(["token-cache.json"])
  })

  it("a symlinked cache folder, or a config file of another user, is a clear error with exit 5", async () => {
    const root = tempDir()
    const target = Path.join(root, "target")
    Fs.mkdirSync(target, { mode: 0o755 })
    Fs.chmodSync(target, 0o755)
    const link = Path.join(root, "link")
    Fs.symlinkSync(target, link)
    const status = await run(["status", "--cache-dir", link], env)
    expect(status.code).toBe(5)
    expect(status.stderr).toContain("is a symbolic link")
    expect(status.stderr).toContain("--cache-dir")
    expect(Fs.statSync(target).mode & 0o777).toBe(0o755)

    // A config file of ours that others could read (it may hold a client secret) is tightened, with a warning.
    const mine = tempDir()
    Fs.writeFileSync(Path.join(mine, "config.json"), JSON.stringify({ clientId: "client" }))
    Fs.chmodSync(Path.join(mine, "config.json"), 0o644)
    const loose = await run(["status", "--cache-dir", mine], cleanEnv())
    expect(loose.code).toBe(3)
    expect(loose.stderr).toContain("had mode 0644, open to other users; changed to 0600")
    expect(Fs.statSync(Path.join(mine, "config.json")).mode & 0o777).toBe(0o600)

    if (isRoot) {
      const cacheDir = tempDir()
      const config = Path.join(cacheDir, "config.json")
      Fs.writeFileSync(config, JSON.stringify({ clientId: "planted" }), { mode: 0o644 })
      Fs.chownSync(config, 65534, 65534)
      const planted = await run(["status", "--cache-dir", cacheDir], cleanEnv())
      expect(planted.code).toBe(5)
      expect(planted.stderr).toContain("owned by uid 65534")
      expect(planted.stdout).not.toContain("planted")
    }
  })
})
