import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Scope } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { makeLoader } from "../src/internal/platformNode.js"
import type { PlatformNode } from "../src/internal/platformNode.js"
import * as NodeHttp from "../src/NodeHttp.js"

const src = Path.join(import.meta.dirname, "../src")

const sourceFiles = (dir: string): ReadonlyArray<string> =>
  Fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sourceFiles(Path.join(dir, entry.name))
      : entry.name.endsWith(".ts")
      ? [Path.join(dir, entry.name)]
      : []
  )

const notFound = (specifier: string) =>
  Object.assign(new Error(`Cannot find package '${specifier}' imported from /app/node_modules/x.js`), {
    code: "ERR_MODULE_NOT_FOUND"
  })

describe("@effect/platform-node is an optional peer", () => {
  it("no module imports it at load time: only type imports and the loader's dynamic import()", () => {
    const offenders = sourceFiles(src).flatMap((file) =>
      Fs.readFileSync(file, "utf8").split("\n")
        .filter((line) => /^\s*(import|export)\s(?!type\b).*from\s+"@effect\/platform-node/.test(line))
        .map((line) => `${Path.relative(src, file)}: ${line.trim()}`)
    )
    assert.deepStrictEqual(offenders, [])
  })

  it.effect("a missing package fails with PlatformNodeMissingError, whose message says what to install", () =>
    Effect.gen(function*() {
      const load = makeLoader(() => Promise.reject(notFound("@effect/platform-node")))
      const error = yield* Effect.flip(load)
      assert.strictEqual(error._tag, "PlatformNodeMissingError")
      assert.strictEqual(error.reason, "NotInstalled")
      assert.include(error.message, "npm i @effect/platform-node@^0.108")
      assert.include(error.message, "optional peer dependency of @effect-entra/identity")
    }))

  it.effect("a package that is found but fails to load says so, with the loader's message", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(makeLoader(() => Promise.reject(new Error("undici: unsupported runtime"))))
      assert.strictEqual(error.reason, "LoadFailed")
      assert.strictEqual(error.message, "NodeHttp could not load @effect/platform-node: undici: unsupported runtime")
      // A missing dependency of the package is not the package missing.
      const inner = yield* Effect.flip(makeLoader(() => Promise.reject(notFound("undici"))))
      assert.strictEqual(inner.reason, "LoadFailed")
    }))

  it.effect("the package is loaded once; later loads answer synchronously", () =>
    Effect.gen(function*() {
      let imports = 0
      const load = makeLoader(() => {
        imports++
        return Promise.resolve({} as PlatformNode)
      })
      yield* load
      assert.isTrue(Exit.isSuccess(Effect.runSyncExit(load)))
      assert.strictEqual(imports, 1)
    }))

  it.effect("sharedClient builds synchronously (the Promise facade builds with runSync): the pool opens on first use", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const exit = Effect.runSyncExit(Scope.extend(NodeHttp.sharedClient({ idleGraceMs: 0 }), scope))
      yield* Scope.close(scope, Exit.void)
      assert.isTrue(Exit.isSuccess(exit))
    }))
})
