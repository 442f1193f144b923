/**
 * The whole flow in a real browser: `effect-entra login --emulator --no-browser` prints the URL, Chromium (driven by
 * playwright-core) signs in and consents on the emulator's pages, the CLI redeems the code; `token` then works
 * from the cache without another sign-in.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import * as Fs from "node:fs"
import * as Path from "node:path"
import type { Browser } from "playwright-core"
import { chromium } from "playwright-core"
import { run, signInUrl, start, tempDir } from "./fixtures/cli.js"
import type { RunningEmulator } from "./fixtures/emulator.js"
import { record, startEmulator } from "./fixtures/emulator.js"

const executablePath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium"
const available = Fs.existsSync(executablePath)
const underCi = process.env.CI !== undefined && process.env.CI !== "" && process.env.CI !== "false"
const screenshotFile = Path.resolve(__dirname, "../../../docs/cli-sign-in.png")

if (!available && !underCi) {
  console.warn(
    `\n*** SKIPPING the browser end-to-end test: no Chromium at ${executablePath} (set CHROMIUM_PATH). ` +
      "Under CI=1 this is a failure. ***\n"
  )
}

describe.runIf(available || underCi)("effect-entra login in a real browser", () => {
  let emulator: RunningEmulator
  let browser: Browser

  beforeAll(async () => {
    if (!available) throw new Error(`CI is set but there is no Chromium at ${executablePath} (set CHROMIUM_PATH)`)
    emulator = await startEmulator()
    browser = await chromium.launch({ executablePath, headless: true, args: ["--no-sandbox"] })
  }, 30_000)

  afterAll(async () => {
    await browser?.close()
    await emulator?.close()
  })

  it(
    "signs in and consents on the emulator's pages; the CLI prints the user; token then comes from the cache",
    async () => {
      const cacheDir = tempDir()
      record(emulator, cacheDir)
      const login = start(["login", "--emulator", "--no-browser", "--cache-dir", cacheDir])
      const url = await signInUrl(login)

      // The emulator's certificate is signed by its own CA; the CLI trusts that CA, the test browser skips the check.
      const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 900, height: 700 } })
      try {
        const page = await context.newPage()
        await page.goto(url.toString())
        await page.waitForSelector("#signin-page")
        expect(await page.title()).toBe("Sign in to your account")
        const shot = await page.screenshot({ fullPage: false })
        expect(shot.subarray(1, 4).toString()).toBe("PNG")
        if (!Fs.existsSync(screenshotFile) || process.env.UPDATE_SCREENSHOTS === "1") {
          Fs.writeFileSync(screenshotFile, shot)
        }

        await page.click(`button.user[data-username="alice@contoso.example"]`)
        await page.waitForSelector("#consent-page")
        expect(await page.textContent("#signed-in-user")).toBe("alice@contoso.example")
        const scopes = await page.$$eval("#scopes li", (items) => items.map((item) => item.getAttribute("data-scope")))
        expect(scopes).toContain("https://graph.microsoft.com/User.Read")
        expect(scopes).toContain("offline_access")
        await page.click("button#accept")
        await page.waitForSelector("#result")
        expect(await page.textContent("#result")).toBe("You are signed in")
        expect(new URL(page.url()).origin).toBe(new URL(url.searchParams.get("redirect_uri")!).origin)
      } finally {
        await context.close()
      }

      const result = await login.exit
      expect(result.code).toBe(0)
      expect(result.stdout).toContain("Signed in as alice@contoso.example (Alice Example)")

      const authorizeBefore = (await emulator.requests({ endpoint: "authorize" })).length
      const tokenBefore = (await emulator.requests({ endpoint: "token" })).length
      const token = await run([
        "token",
        "--emulator",
        "--cache-dir",
        cacheDir,
        "--scope",
        "https://graph.microsoft.com/User.Read"
      ])
      expect(token.code).toBe(0)
      const payload = JSON.parse(Buffer.from(token.stdout.trim().split(".")[1]!, "base64url").toString())
      expect(payload).toMatchObject({ preferred_username: "alice@contoso.example", scp: "User.Read" })
      expect((await emulator.requests({ endpoint: "authorize" })).length).toBe(authorizeBefore)
      expect((await emulator.requests({ endpoint: "token" })).length).toBe(tokenBefore)
    },
    45_000
  )
})
