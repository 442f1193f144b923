/**
 * `effect-entra login --use-device-code` against the emulator, the built CLI as a child process: the test reads
 * the code from stderr and plays the user on the emulator's device page with HTTPS requests. The emulator polls
 * every second here (Entra: 5 s), so a sign-in takes a second or two.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import * as Fs from "node:fs"
import * as Https from "node:https"
import * as Path from "node:path"
import type { HttpAnswer, Running } from "./fixtures/cli.js"
import { cleanEnv, run, start, tempDir } from "./fixtures/cli.js"
import type { RunningEmulator } from "./fixtures/emulator.js"
import { record, startEmulator } from "./fixtures/emulator.js"

const graph = "https://graph.microsoft.com/User.Read"
const fastPolls = { config: { deviceCodeInterval: 1 } } as const

let shared: RunningEmulator
beforeAll(async () => {
  shared = await startEmulator(fastPolls)
})
afterAll(() => shared?.close())

const recorded = (emulator: RunningEmulator) => {
  const cacheDir = tempDir()
  record(emulator, cacheDir)
  return cacheDir
}

const login = (cacheDir: string, extra: Array<string> = [], env = cleanEnv()) =>
  start(["login", "--use-device-code", "--emulator", "--cache-dir", cacheDir, ...extra], env)

/** The user code in Entra's sentence on stderr. */
const userCode = async (running: Running): Promise<string> => {
  const [, code] = await running.waitFor(/enter the code (\w+) to authenticate/)
  return code!
}

const postForm = (url: string, form: Record<string, string>, ca: string): Promise<HttpAnswer> =>
  new Promise((resolve, reject) => {
    const body = new URLSearchParams(form).toString()
    const request = Https.request(url, {
      method: "POST",
      ca,
      headers: { "content-type": "application/x-www-form-urlencoded", "content-length": Buffer.byteLength(body) }
    }, (response) => {
      let text = ""
      response.setEncoding("utf8")
      response.on("data", (chunk: string) => (text += chunk))
      response.on("end", () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: text }))
    })
    request.on("error", reject)
    request.end(body)
  })

/** Enter the code on the device page, pick the account, accept or decline. */
const onDevicePage = async (
  emulator: RunningEmulator,
  otc: string,
  action: "accept" | "cancel",
  username = "alice@contoso.example"
) => {
  const page = (form: Record<string, string>) => postForm(`${emulator.authority}/devicelogin`, form, emulator.caPem)
  expect((await page({ emu_step: "code", otc })).body).toContain(`data-username="${username}"`)
  expect((await page({ emu_step: "signin", otc, emu_pick: username })).body).toContain("id=\"accept\"")
  const done = await page({ emu_step: "consent", otc, emu_user: username, emu_action: action })
  expect(done.body).toContain(`data-result="${action === "accept" ? "approved" : "declined"}"`)
}

/** The TCP sockets the process listens on (Linux: its socket inodes in /proc/net/tcp{,6} in state LISTEN). */
const listeningSockets = (pid: number): number => {
  const inodes = new Set(
    Fs.readdirSync(`/proc/${pid}/fd`).flatMap((fd) => {
      try {
        const match = /^socket:\[(\d+)\]$/.exec(Fs.readlinkSync(`/proc/${pid}/fd/${fd}`))
        return match === null ? [] : [match[1]!]
      } catch {
        return []
      }
    })
  )
  return ["/proc/net/tcp", "/proc/net/tcp6"].flatMap((file) =>
    Fs.existsSync(file) ? Fs.readFileSync(file, "utf8").split("\n").slice(1) : []
  ).map((line) => line.trim().split(/\s+/)).filter((fields) => fields[3] === "0A" && inodes.has(fields[9]!)).length
}

describe.concurrent("effect-entra login --use-device-code", () => {
  it("prints Entra's message on stderr, opens no browser, binds no port; the account then serves token", async () => {
    await using emulator = await startEmulator(fastPolls)
    const cacheDir = recorded(emulator)
    const marker = Path.join(tempDir(), "browser-ran")
    const browser = Path.join(tempDir(), "browser.sh")
    Fs.writeFileSync(browser, `#!/bin/sh\ntouch '${marker}'\n`, { mode: 0o755 })
    const running = login(cacheDir, [], cleanEnv({ BROWSER: browser }))
    const code = await userCode(running)
    expect(running.stderr()).toContain(
      `To sign in, use a web browser to open the page ${emulator.authority}/devicelogin and enter the code ${code}`
    )
    expect(listeningSockets(running.child.pid!)).toBe(0)
    await onDevicePage(emulator, code, "accept")
    const result = await running.exit
    expect(result.code).toBe(0)
    expect(result.stdout).toContain("Signed in as alice@contoso.example (Alice Example)")
    expect(result.stdout).not.toContain(code)
    expect(Fs.existsSync(marker)).toBe(false)
    const devicePolls = await emulator.requests({ grantType: "urn:ietf:params:oauth:grant-type:device_code" })
    expect(devicePolls.at(-1)?.status).toBe(200)
    expect(await emulator.requests({ endpoint: "authorize" })).toHaveLength(0)

    // The same cache as a browser sign-in: the login scope from the cache, another one with the refresh token.
    await emulator.clearRequests()
    const cached = await run(["token", "--emulator", "--cache-dir", cacheDir, "--scope", graph])
    expect(cached.code).toBe(0)
    expect(cached.stdout.trim()).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+$/)
    expect(await emulator.requests({ endpoint: "token" })).toHaveLength(0)
    const renewed = await run(["token", "--emulator", "--cache-dir", cacheDir, "--scope", emulator.defaults.scope])
    expect(renewed.code).toBe(0)
    expect((await emulator.requests({ endpoint: "token" })).map((entry) => entry.grantType)).toEqual(["refresh_token"])
  })

  it("declined on the device page: exit 1 with Entra's reason", async () => {
    const running = login(recorded(shared))
    await onDevicePage(shared, await userCode(running), "cancel", "bob@contoso.example")
    const result = await running.exit
    expect(result.code).toBe(1)
    expect(result.stderr).toContain(
      "effect-entra: sign-in failed: the sign-in was declined on the device-code page (AADSTS65004: User declined " +
        "to consent to access the app. (authorization_declined, HTTP 400))"
    )
    expect(result.stdout).toBe("")
  })

  it("a code that expires before the sign-in: exit 4, asking for a new code", async () => {
    await using emulator = await startEmulator(fastPolls)
    const running = login(recorded(emulator))
    await userCode(running)
    await emulator.advanceTime(901_000)
    const result = await running.exit
    expect(result.code).toBe(4)
    expect(result.stderr).toContain(
      "effect-entra: the device code expired after 15m before the sign-in was completed; run " +
        "`effect-entra login --use-device-code` again for a new code"
    )
  })

  it("--timeout shorter than the code's lifetime ends the wait: exit 4", async () => {
    const result = await login(recorded(shared), ["--timeout", "2s"]).exit
    expect(result.code).toBe(4)
    expect(result.stderr).toContain(
      "effect-entra: timed out after 2s waiting for the sign-in with the device code; run " +
        "`effect-entra login --use-device-code` again (use --timeout to wait longer)"
    )
  })

  it("Ctrl+C while waiting cancels the sign-in: exit 130, nothing cached", async () => {
    const cacheDir = recorded(shared)
    const running = login(cacheDir)
    await userCode(running)
    running.child.kill("SIGINT")
    const result = await running.exit
    expect(result.code).toBe(130)
    expect(result.stderr).toContain("Sign-in cancelled.")
    expect(Fs.existsSync(Path.join(cacheDir, "token-cache.json"))).toBe(false)
  })

  it("the browser sign-in's flags are refused with --use-device-code: exit 2, nothing sent", async () => {
    const cacheDir = recorded(shared)
    const result = await run(["login", "--use-device-code", "--emulator", "--cache-dir", cacheDir, "--prompt", "login"])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain("--prompt cannot be used with --use-device-code")
  })
})
