import { Emulator } from "@effect-entra/emulator"
import { HttpClient } from "@effect/platform"
import { assert, layer } from "@effect/vitest"
import { Effect } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as NodeHttp from "../../src/NodeHttp.js"
import * as E from "./fixtures/Emulated.js"

const discovery = (emulator: Emulator["Type"], ca: NodeHttp.CaCertificates) =>
  HttpClient.get(`${emulator.authority}/${emulator.defaults.tenantId}/v2.0/.well-known/openid-configuration`).pipe(
    Effect.map((response) => response.status),
    Effect.provide(NodeHttp.layer({ ca })),
    Effect.scoped
  )

/** Runs `effect` with NODE_EXTRA_CA_CERTS pointing at a file holding `pem` (or unset), then restores it. */
const withExtraCaFile = <A, E, R>(pem: string | undefined, effect: Effect.Effect<A, E, R>) =>
  Effect.acquireUseRelease(
    Effect.sync(() => {
      const before = process.env["NODE_EXTRA_CA_CERTS"]
      if (pem === undefined) {
        delete process.env["NODE_EXTRA_CA_CERTS"]
        return { before, dir: undefined }
      }
      const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "extra-ca-"))
      Fs.writeFileSync(Path.join(dir, "ca.pem"), pem)
      process.env["NODE_EXTRA_CA_CERTS"] = Path.join(dir, "ca.pem")
      return { before, dir }
    }),
    () => effect,
    ({ before, dir }) =>
      Effect.sync(() => {
        if (before === undefined) delete process.env["NODE_EXTRA_CA_CERTS"]
        else process.env["NODE_EXTRA_CA_CERTS"] = before
        if (dir !== undefined) Fs.rmSync(dir, { recursive: true, force: true })
      })
  )

layer(E.EmulatorLive)("NodeHttp.layer", (it) => {
  it.effect("trusts the extra CA given, besides Node's roots", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator
      assert.strictEqual(yield* withExtraCaFile(undefined, discovery(emulator, emulator.caPem)), 200)
    }))

  it.effect("an unknown issuer is refused: the check is never turned off", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator
      const failure = yield* withExtraCaFile(undefined, Effect.flip(discovery(emulator, [])))
      assert.strictEqual(failure._tag, "RequestError")
    }))

  it.effect("also trusts NODE_EXTRA_CA_CERTS, which an explicit CA list would otherwise replace", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator
      assert.strictEqual(yield* withExtraCaFile(emulator.caPem, discovery(emulator, [])), 200)
    }))
})
