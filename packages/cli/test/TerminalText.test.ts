import { afterEach, describe, expect, it, vi } from "@effect/vitest"
import { Effect, FastCheck } from "effect"
import * as Output from "../src/Output.js"
import { sanitizeForTerminal, sanitizeInline } from "../src/TerminalText.js"
import { cleanEnv, headlessSignIn, run, signInUrl, start, tempDir } from "./fixtures/cli.js"
import { record, startEmulator } from "./fixtures/emulator.js"

// The rule, written independently of the module's regular expression.
const isUnsafe = (codePoint: number): boolean =>
  (codePoint <= 0x1f && codePoint !== 0x09 && codePoint !== 0x0a) ||
  (codePoint >= 0x7f && codePoint <= 0x9f) ||
  codePoint === 0x061c ||
  codePoint === 0x200e ||
  codePoint === 0x200f ||
  codePoint === 0x2028 ||
  codePoint === 0x2029 ||
  (codePoint >= 0x202a && codePoint <= 0x202e) ||
  (codePoint >= 0x2066 && codePoint <= 0x2069)

const unsafeIn = (text: string) => [...text].filter((c) => isUnsafe(c.codePointAt(0)!))

const dangerous = [
  "\x1b[2J",
  "\x1b]0;pwned\x07",
  "\x1b]8;;https://evil.example\x1b\\",
  "\r",
  "\b",
  "\x00",
  "\x7f",
  "\x9b31m",
  "\u0085",
  "\u202e",
  "\u202a",
  "\u2066",
  "\u2069",
  "\u200e",
  "\u200f",
  "\u061c",
  "\u2028"
]

// Ordinary text, any code point, and the sequences attackers use, mixed.
const hostileText = FastCheck.array(
  FastCheck.oneof(
    FastCheck.string(),
    FastCheck.string({ unit: "binary" }),
    FastCheck.integer({ min: 0, max: 0x2100 }).map((n) => String.fromCodePoint(n)),
    FastCheck.constantFrom(...dangerous)
  ),
  { maxLength: 30 }
).map((parts) => parts.join(""))

describe("TerminalText", () => {
  it.prop("no control or bidi character survives, and everything else is kept in order", [hostileText], ([text]) => {
    const clean = sanitizeForTerminal(text)
    expect(unsafeIn(clean)).toEqual([])
    expect(clean).toBe([...text].filter((c) => !isUnsafe(c.codePointAt(0)!)).join(""))
  })

  it.prop("inline values keep to one line", [hostileText], ([text]) => {
    const clean = sanitizeInline(text)
    expect(unsafeIn(clean)).toEqual([])
    expect(clean).not.toMatch(/[\t\n]/)
  })

  it("keeps tabs, newlines and non-Latin text", () => {
    expect(sanitizeForTerminal("Zoë\tΑλίκη\n山田 עברית 🙂")).toBe("Zoë\tΑλίκη\n山田 עברית 🙂")
    expect(sanitizeForTerminal("AADSTS70008: expired.\r\nTrace ID: x")).toBe("AADSTS70008: expired.\nTrace ID: x")
    expect(sanitizeForTerminal("\u202egnp.exe")).toBe("gnp.exe")
  })
})

describe("Output cleans every line it prints", () => {
  afterEach(() => {
    vi.restoreAllMocks()
  })

  it.prop("line and infoSync write no control or bidi character from the text", [hostileText], ([text]) => {
    const written: Array<string> = []
    vi.spyOn(process.stdout, "write").mockImplementation((chunk) => (written.push(String(chunk)), true))
    vi.spyOn(process.stderr, "write").mockImplementation((chunk) => (written.push(String(chunk)), true))
    Effect.runSync(Output.line(text))
    Output.infoSync(text)
    vi.restoreAllMocks()
    const expected = `${sanitizeForTerminal(text)}\n`
    expect(written[0]).toBe(expected)
    // On a terminal, info clears the spinner line first: that sequence is the CLI's own.
    expect(written[1]!.replace(/^\r\x1b\[2K/, "")).toBe(expected)
  })
})

describe("the CLI against a hostile directory", () => {
  const hostileName = "Eve\x1b]0;pwned\x07 \u202eevil\u202c\r\nSigned in as admin@contoso.example"

  it("login, status and an error from the token endpoint print no control or bidi character", async () => {
    await using emulator = await startEmulator({
      config: {
        users: [{ username: "eve@contoso.example", name: hostileName, oid: "5d6e7f80-1a2b-4c3d-8e9f-0a1b2c3d4e5f" }]
      }
    })
    const cacheDir = tempDir()
    record(emulator, cacheDir)
    const running = start(["login", "--emulator", "--no-browser", "--cache-dir", cacheDir], cleanEnv())
    const page = await headlessSignIn(await signInUrl(running), emulator.caPem, "eve@contoso.example")
    expect(page.status).toBe(200)
    const login = await running.exit
    expect(login.code).toBe(0)
    expect(unsafeIn(login.stdout + login.stderr)).toEqual([])
    // The name stays on the "Signed in as" line: it cannot print a line of its own.
    expect(login.stdout).toContain("Signed in as eve@contoso.example (Eve]0;pwned evil Signed in as admin@")
    expect(login.stdout.match(/^Signed in as/gm)).toHaveLength(1)

    const status = await run(["status", "--emulator", "--cache-dir", cacheDir])
    expect(status.code).toBe(0)
    expect(unsafeIn(status.stdout + status.stderr)).toEqual([])
    // In status too, the name stays on its account's line: it cannot forge a line of its own.
    expect(status.stdout.match(/Signed in as admin@/g)).toHaveLength(1)
    expect(status.stdout.match(/^.*Signed in as admin@.*$/m)?.[0]).toMatch(/^\*? ?\s*eve@contoso\.example \(Eve/)

    await emulator.injectFault({
      endpoint: "token",
      kind: "status",
      status: 400,
      body: { error: "invalid_grant", error_description: "AADSTS50173: \x1b[2J\x1b]0;pwned\x07\u202eyrros\u202c" }
    })
    const token = await run(["token", "--emulator", "--cache-dir", cacheDir, "--scope", emulator.defaults.scope])
    expect(token.code).not.toBe(0)
    expect(token.stderr).toContain("AADSTS50173")
    expect(unsafeIn(token.stdout + token.stderr)).toEqual([])
  })
})
