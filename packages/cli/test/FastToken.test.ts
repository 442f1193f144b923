import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Fs from "node:fs"
import * as Path from "node:path"
import * as FastToken from "../src/FastToken.js"
import { version } from "../src/Version.js"
import type { Result } from "./fixtures/cli.js"
import { bin, cleanEnv, headlessSignIn, repoBin, run, signInUrl, start, tempDir } from "./fixtures/cli.js"
import type { RunningEmulator } from "./fixtures/emulator.js"
import { record, startEmulator } from "./fixtures/emulator.js"

const graph = "https://graph.microsoft.com/User.Read"
const fullCli = Path.resolve(__dirname, "fixtures/full-cli.mjs")

let emulator: RunningEmulator

const signedIn = async (on: RunningEmulator = emulator) => {
  const cacheDir = tempDir()
  record(on, cacheDir)
  const running = start(["login", "--emulator", "--no-browser", "--cache-dir", cacheDir])
  await headlessSignIn(await signInUrl(running), on.caPem)
  const exit = await running.exit
  if (exit.code !== 0) throw new Error(`login failed: ${exit.stderr}`)
  return cacheDir
}

beforeAll(async () => {
  emulator = await startEmulator()
})
afterAll(() => emulator?.close())

/** The same arguments through the executable (fast path first) and through the full command line alone. */
const both = async (args: ReadonlyArray<string>): Promise<{ readonly fast: Result; readonly full: Result }> => {
  const fast = await run(args, cleanEnv())
  const full = await run(args, cleanEnv(), { script: fullCli })
  return { fast, full }
}

const outcome = (args: ReadonlyArray<string>) => {
  const input = FastToken.parseArguments(args)
  if (input === undefined) throw new Error(`not understood: ${args.join(" ")}`)
  return Effect.runPromise(FastToken.lookup(input))
}

describe("FastToken.parseArguments", () => {
  it("understands token with --scope and the common, account and output flags", () => {
    const parsed = FastToken.parseArguments([
      "token",
      "--emulator",
      "--scope",
      "a",
      "--cache-dir",
      "/x",
      "--scope",
      "b c",
      "-o",
      "tsv",
      "--query",
      "accessToken",
      "--account",
      "bob"
    ])
    expect(parsed).toMatchObject({
      scopes: ["a", "b c"],
      account: Option.some("bob"),
      output: { format: "tsv", query: { fields: ["accessToken"], list: false } }
    })
    expect(parsed?.flags).toMatchObject({ emulator: true, cacheDir: Option.some("/x"), tenant: Option.none() })
  })

  it("leaves to the full command what it does not fully understand", () => {
    for (
      const args of [
        ["status"],
        ["token"],
        ["token", "--emulator"],
        ["token", "--scope"],
        ["token", "--scope=a"],
        ["token", "--scope", "a", "--help"],
        ["token", "--scope", "a", "--no-color"],
        ["token", "--scope", "a", "--bogus"],
        ["token", "--scope", "a", "extra"],
        ["token", "--scope", "-a"],
        ["token", "--scope", "a", "--tenant", "t", "--tenant", "u"],
        ["token", "--scope", "a", "--emulator", "--emulator"],
        ["token", "--scope", "a", "--output", "yaml"],
        ["token", "--scope", "a", "--json", "--output", "tsv"],
        ["token", "--scope", "a", "--query", "accesToken"],
        ["--emulator", "token", "--scope", "a"]
      ]
    ) expect(FastToken.parseArguments(args), args.join(" ")).toBeUndefined()
  })
})

describe("effect-entra --version", () => {
  it("the bin's own constant is the package's version", async () => {
    const packageJson = JSON.parse(Fs.readFileSync(Path.resolve(__dirname, "../package.json"), "utf8"))
    expect(version).toBe(packageJson.version)
    expect(Fs.readFileSync(bin, "utf8")).toContain(`const version = ${JSON.stringify(version)}`)
    expect(await run(["--version"])).toMatchObject({ code: 0, stdout: `${version}\n`, stderr: "" })
  })

  it("the repository's bin (the unbundled build) runs the same command line as the published bundle", async () => {
    for (const args of [["token", "--help"], ["status", "--no-such-flag"]]) {
      const published = await run(args)
      expect(await run(args, cleanEnv(), { script: repoBin }), args.join(" ")).toEqual(published)
    }
  })
})

describe("the cached-token fast path serves a fresh token as the full command prints it", () => {
  // An emulator of its own, so its request log holds only these tests' requests (none renews a token).
  let fresh: RunningEmulator
  let cacheDir: string
  beforeAll(async () => {
    fresh = await startEmulator()
    cacheDir = await signedIn(fresh)
    await fresh.clearRequests()
  })
  afterAll(() => fresh?.close())

  const servedAlike = async (args: ReadonlyArray<string>) => {
    const served = await outcome(args)
    expect(Option.isSome(served.stdout), args.join(" ")).toBe(true)
    const { fast, full } = await both(args)
    expect(fast, args.join(" ")).toEqual(full)
    expect(fast.code).toBe(0)
    const text = Option.getOrThrow(served.stdout)
    expect(fast.stdout).toBe(text === undefined ? "" : `${text}\n`)
    expect(await fresh.requests({ endpoint: "token" })).toHaveLength(0)
  }
  const token = (
    ...extra: Array<string>
  ) => ["token", "--emulator", "--cache-dir", cacheDir, "--scope", graph, ...extra]

  it("text, and --json", async () => {
    await servedAlike(token())
    await servedAlike(token("--json"))
  })

  it("--output json and -o tsv", async () => {
    await servedAlike(token("--output", "json"))
    await servedAlike(token("-o", "tsv"))
  })

  it("--output none and --query", async () => {
    await servedAlike(token("--output", "none"))
    await servedAlike(token("--query", "accessToken"))
  })

  it("--query lists in json and tsv", async () => {
    await servedAlike(token("--output", "json", "--query", "[accessToken, expires_on]"))
    await servedAlike(token("--output", "tsv", "--query", "[expires_on,tenant]"))
  })

  it("a cached token loads neither the TLS nor the HTTP stack (node:https is imported where it is used)", async () => {
    const env = cleanEnv({ NODE_OPTIONS: `--import=${Path.resolve(__dirname, "fixtures/trace-builtins.mjs")}` })
    const served = await run(token(), env)
    expect(served.code).toBe(0)
    const builtins = served.stderr.match(/^\[builtins\] (.*)$/m)?.[1]?.split(" ") ?? []
    expect(builtins).toContain("fs")
    expect(builtins.filter((name) => /^(https|tls|_http_client)$/.test(name))).toEqual([])
  })

  it("--account, and the settings as flags instead of --emulator", async () => {
    await servedAlike(token("--account", "alice@contoso.example"))
    await servedAlike([
      "token",
      "--authority",
      fresh.authority,
      "--tenant",
      fresh.defaults.tenantId,
      "--client-id",
      fresh.defaults.publicClientId,
      "--cache-dir",
      cacheDir,
      "--scope",
      graph
    ])
  })
})

describe("what the fast path misses runs the full command, with its output", () => {
  it("an expired token is a miss: the full command renews it, and prints what the full command alone prints", async () => {
    const cacheDir = await signedIn()
    const file = Path.join(cacheDir, "token-cache.json")
    const contents = JSON.parse(Fs.readFileSync(file, "utf8"))
    for (const entry of Object.values(contents.accessTokens) as Array<{ expiresOn: number }>) {
      entry.expiresOn = Date.now() - 60_000
    }
    Fs.writeFileSync(file, JSON.stringify(contents), { mode: 0o600 })
    const args = ["token", "--emulator", "--cache-dir", cacheDir, "--scope", graph, "--output", "tsv"]
    expect(Option.isNone((await outcome(args)).stdout)).toBe(true)
    // The first run renews (one refresh), the second serves the renewed token: the same output.
    const { fast, full } = await both(args)
    expect(fast.code).toBe(0)
    expect(fast).toEqual(full)
    expect(Date.parse(fast.stdout.split("\t")[1]!)).toBeGreaterThan(Date.now())
  })

  it("not signed in, and usage errors: a miss, with the full command's message and exit code", async () => {
    const cacheDir = tempDir()
    record(emulator, cacheDir)
    const base = ["token", "--emulator", "--cache-dir", cacheDir, "--scope", graph]
    expect(Option.isNone((await outcome(base)).stdout)).toBe(true)
    for (const args of [base, [...base, "--bogus"]]) {
      const { fast, full } = await both(args)
      expect(fast, args.join(" ")).toEqual(full)
      expect(fast.code).not.toBe(0)
      expect(fast.stderr).toMatch(/^effect-entra: /)
    }
  })

  it("a corrupt cache file: a miss whose warning is printed once, then the full command's message", async () => {
    const cacheDir = tempDir()
    record(emulator, cacheDir)
    Fs.writeFileSync(Path.join(cacheDir, "token-cache.json"), "{not json", { mode: 0o600 })
    const args = ["token", "--emulator", "--cache-dir", cacheDir, "--scope", graph]
    const { fast, full } = await both(args)
    expect(fast).toEqual(full)
    expect(fast.code).toBe(3)
    expect(fast.stderr.match(/it is not a token cache file/g)).toHaveLength(1)
  })

  it("an account that is not signed in: a miss, with the full command's message and exit code", async () => {
    const cacheDir = await signedIn()
    const args = ["token", "--emulator", "--cache-dir", cacheDir, "--scope", graph, "--account", "nobody"]
    expect(Option.isNone((await outcome(args)).stdout)).toBe(true)
    const { fast, full } = await both(args)
    expect(fast).toEqual(full)
    expect(fast.code).toBe(3)
    expect(fast.stderr).toContain("account \"nobody\" is not signed in")
  })

  it("the full command builds its HTTP client (a TLS context with the emulator's CA) only to send a request", async () => {
    const cacheDir = await signedIn()
    const env = cleanEnv({ NODE_OPTIONS: `--import=${Path.resolve(__dirname, "fixtures/trace-tls.mjs")}` })
    const cached = await run(["token", "--emulator", "--cache-dir", cacheDir, "--scope", graph], env, {
      script: fullCli
    })
    expect(cached).toMatchObject({ code: 0, stderr: "" })
    const renewed = await run(
      ["token", "--emulator", "--cache-dir", cacheDir, "--scope", emulator.defaults.scope],
      env,
      {
        script: fullCli
      }
    )
    expect(renewed.code).toBe(0)
    expect(renewed.stderr).toContain("[tls.createSecureContext]")
  })
})
