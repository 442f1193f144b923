import { describe, expect, it, layer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Fs from "node:fs"
import * as Net from "node:net"
import * as Os from "node:os"
import * as Path from "node:path"
import { Emulator } from "../src/index.js"
import { startEmulator } from "../src/index.js"

layer(Emulator.layer())("Emulator.layer", (it) => {
  it.effect("signs in through the real authorize endpoint and logs it", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator
      expect(emulator.authority).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/)
      const result = yield* emulator.signIn({ username: "bob@contoso.example", state: "abc" })
      expect(result.state).toBe("abc")
      expect(result.homeAccountId).toBe(`${emulator.defaults.users[1]!.oid}.${emulator.defaults.tenantId}`)
      const log = yield* emulator.requests({ endpoint: "authorize" })
      expect(log.at(-1)?.status).toBe(302)
    }))

  it.effect("fails signIn with a readable EmulatorError for an unknown user", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator
      const error = yield* Effect.flip(emulator.signIn({ username: "nobody@contoso.example" }))
      expect(error._tag).toBe("EmulatorError")
      expect(error.message).toContain("login_required")
    }))
})

describe("lifecycle", () => {
  it("frees the port and removes the CA file on close", async () => {
    const emulator = await startEmulator()
    const port = Number(new URL(emulator.authority).port)
    expect(Fs.readFileSync(emulator.caFile, "utf8")).toBe(emulator.caPem)
    await emulator.signIn()
    await emulator.close()
    await emulator.close()
    expect(Fs.existsSync(emulator.caFile)).toBe(false)
    await new Promise<void>((resolve, reject) => {
      const server = Net.createServer().once("error", reject).listen(
        port,
        "127.0.0.1",
        () => server.close(() => resolve())
      )
    })
  })

  it("rejects a bad config with a clear error naming the path", async () => {
    const file = Path.join(Os.tmpdir(), `emulator-bad-${process.pid}.json`)
    Fs.writeFileSync(file, JSON.stringify({ users: [{ username: "x", name: "X", oid: "not-a-guid" }] }))
    try {
      await expect(startEmulator({ configFile: file })).rejects.toThrow(/invalid emulator config file .*oid/)
    } finally {
      Fs.rmSync(file)
    }
    const exit = await Effect.runPromiseExit(
      Layer.launch(Emulator.layer({ config: { accessTokenLifetime: -5 } as never }))
    )
    expect(Exit.isFailure(exit)).toBe(true)
  })

  it("merges config entries onto the defaults", async () => {
    const emulator = await startEmulator({
      config: {
        users: [{ username: "dave@contoso.example", name: "Dave", oid: "11111111-2222-4333-8444-555555555555" }]
      }
    })
    try {
      expect(emulator.defaults.users.map((u) => u.username)).toContain("dave@contoso.example")
      expect(emulator.defaults.users.map((u) => u.username)).toContain("alice@contoso.example")
      expect((await emulator.signIn({ username: "dave@contoso.example" })).homeAccountId).toBe(
        `11111111-2222-4333-8444-555555555555.${emulator.defaults.tenantId}`
      )
    } finally {
      await emulator.close()
    }
  })
})
