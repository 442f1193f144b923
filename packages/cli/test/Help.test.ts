import { describe, expect, it } from "@effect/vitest"
import * as Help from "../src/Help.js"
import { canRedraw, stripAnsi, useColor } from "../src/TerminalText.js"
import { cleanEnv, run } from "./fixtures/cli.js"

const esc = "\x1b"

/** The option names a help lists: the lines indented by two spaces that start with a dash. */
const listedOptions = (help: string) =>
  help.split("\n").filter((line) => /^ {2}-/.test(line)).map((line) =>
    line.trim().replace(/ (text|file)(\.\.\.)?$/, "").replace(/ [a-z_]+( \| [a-z_]+)+$/, "")
  )

const common = ["--authority", "--tenant", "--client-id", "--cache-dir", "--emulator"]

describe.concurrent("effect-entra help", () => {
  it.each([
    ["token", [...common, "--scope", "--account", "-o, --output", "--json", "--query"]],
    ["status", [...common, "--json"]],
    ["logout", [...common, "--account", "--all"]],
    ["emulator", ["--cache-dir", "--port", "--config"]]
  ])("%s --help lists exactly its own options, under a usage line naming the program", async (command, options) => {
    const result = await run([command, "--help"])
    expect(result.code).toBe(0)
    expect(listedOptions(result.stdout)).toEqual([...options, "-h, --help"])
    expect(result.stdout).toContain(`USAGE\n  effect-entra ${command} [options]\n`)
    expect(result.stdout).not.toMatch(/^\$ /m)
    expect(result.stdout).not.toMatch(/--wizard|--log-level|--completions|This setting is optional/)
    expect(result.stdout).not.toContain(esc)
  })

  it("login --help lists no built-in option, and --scope is not said to be required", async () => {
    const result = await run(["login", "--help"])
    expect(result.code).toBe(0)
    expect(result.stdout).not.toMatch(/--wizard|--log-level|--completions/)
    const token = await run(["token", "-h"])
    expect(token.stdout).not.toMatch(/required|zero or more/)
  })

  it("the program's help, also with no arguments: the commands and the options it takes alone", async () => {
    for (const args of [["--help"], []]) {
      const result = await run(args)
      expect(result.code).toBe(0)
      expect(result.stdout).toContain("USAGE\n  effect-entra <command> [options]\n")
      for (const name of ["login", "token", "status", "logout", "emulator"]) {
        expect(result.stdout).toMatch(new RegExp(`^  ${name} +\\S`, "m"))
      }
      expect(listedOptions(result.stdout)).toEqual(["-h, --help", "--version", "--completions", "--no-color"])
      expect(result.stdout).not.toContain(esc)
    }
  })

  it("colour: FORCE_COLOR turns it on for a pipe; --no-color and NO_COLOR win over it", async () => {
    const forced = await run(["token", "--help"], cleanEnv({ FORCE_COLOR: "1" }))
    expect(forced.stdout).toContain(`${esc}[1mUSAGE${esc}[0m`)
    expect(stripAnsi(forced.stdout)).toBe((await run(["token", "--help"])).stdout)
    const flag = await run(["token", "--help", "--no-color"], cleanEnv({ FORCE_COLOR: "1" }))
    expect(flag.stdout).not.toContain(esc)
    const noColor = await run(["--help"], cleanEnv({ FORCE_COLOR: "1", NO_COLOR: "1" }))
    expect(noColor.stdout).not.toContain(esc)
  })

  it.each([
    [["token", "--wizard"], "effect-entra: --wizard is not an option of effect-entra"],
    [["token", "--log-level", "debug", "--scope", "x"], "effect-entra: --log-level is not an option of effect-entra"],
    [["status", "--completions", "bash"], "effect-entra: --completions is an option of effect-entra alone"],
    [["token", "--bogus"], "effect-entra: Received unknown argument: '--bogus' (see `effect-entra token --help`)"]
  ])("%j is a usage error on one plain line", async (args, message) => {
    const result = await run(args, cleanEnv({ FORCE_COLOR: "1" }))
    expect(result.code).toBe(2)
    expect(result.stdout).toBe("")
    expect(result.stderr).toBe(`${message}${result.stderr.slice(message.length)}`)
    expect(result.stderr.trim().split("\n")).toHaveLength(1)
    expect(result.stderr).not.toContain(esc)
  })

  it("--completions still works for the program", async () => {
    const result = await run(["--completions", "bash"])
    expect(result.code).toBe(0)
    expect(result.stdout).toContain("_effect-entra_bash_completions")
  })
})

describe("colour and wrapping rules", () => {
  it("useColor: --no-color, NO_COLOR and TERM=dumb turn it off; FORCE_COLOR on; else only on a terminal", () => {
    expect(useColor({ isTTY: true, env: {} })).toBe(true)
    expect(useColor({ isTTY: false, env: {} })).toBe(false)
    expect(useColor({ isTTY: undefined, env: {} })).toBe(false)
    expect(useColor({ isTTY: true, env: { NO_COLOR: "1" } })).toBe(false)
    expect(useColor({ isTTY: true, env: { NO_COLOR: "" } })).toBe(true)
    expect(useColor({ isTTY: true, env: { TERM: "dumb" } })).toBe(false)
    expect(useColor({ isTTY: true, env: {}, noColorFlag: true })).toBe(false)
    expect(useColor({ isTTY: false, env: { FORCE_COLOR: "1" } })).toBe(true)
    expect(useColor({ isTTY: true, env: { FORCE_COLOR: "0" } })).toBe(false)
    expect(useColor({ isTTY: false, env: { FORCE_COLOR: "1", NO_COLOR: "1" } })).toBe(false)
  })

  it("canRedraw: a terminal other than TERM=dumb; never a pipe", () => {
    expect(canRedraw({ isTTY: true, env: { TERM: "xterm-256color" } })).toBe(true)
    expect(canRedraw({ isTTY: true, env: { TERM: "dumb" } })).toBe(false)
    expect(canRedraw({ isTTY: false, env: {} })).toBe(false)
  })

  it("stripAnsi removes CSI and OSC sequences and keeps the text", () => {
    expect(stripAnsi(`${esc}[0;1m${esc}[0;37;1mUSAGE${esc}[0m ok ${esc}]8;;https://x${esc}\\link`)).toBe(
      "USAGE ok link"
    )
  })

  it("wrap keeps lines within the width, continuation lines indented", () => {
    const text = Help.wrap("one two three four five six seven eight nine ten", 20, "    ", 6)
    const lines = text.split("\n")
    expect(lines.map((line, i) => (i === 0 ? 6 : 0) + line.length).every((n) => n <= 20)).toBe(true)
    expect(lines.slice(1).every((line) => line.startsWith("    "))).toBe(true)
    expect(text.replace(/\s+/g, " ")).toBe("one two three four five six seven eight nine ten")
  })
})
