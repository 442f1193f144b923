import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as FileSystem from "@effect/platform/FileSystem"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fs from "node:fs"
import * as Path from "node:path"
import * as FastFiles from "../src/internal/fastFiles.js"
import { tempDir } from "./fixtures/cli.js"

const node = Effect.provide(FileSystem.FileSystem, NodeFileSystem.layer)

/** What a call gives, as data: the value, or the error's fields a caller reads. */
const outcomeOf = <A>(effect: Effect.Effect<A, unknown>) =>
  Effect.map(Effect.exit(effect), (exit) =>
    Exit.isSuccess(exit)
      ? { ok: exit.value }
      : Exit.match(exit, {
        onSuccess: () => undefined,
        onFailure: (cause) => {
          const error = cause._tag === "Fail" ? cause.error as Record<string, unknown> : undefined
          return {
            failed: error === undefined ? cause._tag : {
              _tag: error._tag,
              reason: error.reason,
              method: error.method,
              pathOrDescriptor: error.pathOrDescriptor,
              syscall: error.syscall,
              description: error.description
            }
          }
        }
      }))

describe("the fast path's FileSystem", () => {
  it.effect("stat, readLink, readFileString and chmod give what NodeFileSystem gives, errors included", () =>
    Effect.gen(function*() {
      const dir = tempDir()
      const file = Path.join(dir, "config.json")
      // A byte-order mark: NodeFileSystem's TextDecoder drops it, as the fast path must.
      Fs.writeFileSync(file, "\uFEFF{\"a\":1}", { mode: 0o600 })
      Fs.symlinkSync(file, Path.join(dir, "link"))
      const nodeFs = yield* node
      const fastFs = FastFiles.fileSystem
      const paths = [dir, file, Path.join(dir, "link"), Path.join(dir, "missing"), Path.join(file, "below")]
      for (const path of paths) {
        expect(yield* outcomeOf(fastFs.stat(path)), `stat ${path}`).toEqual(yield* outcomeOf(nodeFs.stat(path)))
        expect(yield* outcomeOf(fastFs.readLink(path)), `readLink ${path}`).toEqual(
          yield* outcomeOf(nodeFs.readLink(path))
        )
      }
      for (const path of [file, dir, Path.join(dir, "missing")]) {
        expect(yield* outcomeOf(fastFs.readFileString(path)), `read ${path}`).toEqual(
          yield* outcomeOf(nodeFs.readFileString(path))
        )
      }
      expect(yield* fastFs.readFileString(file)).toBe("{\"a\":1}")
      yield* fastFs.chmod(file, 0o640)
      expect(Fs.statSync(file).mode & 0o777).toBe(0o640)
      expect(yield* outcomeOf(fastFs.chmod(Path.join(dir, "missing"), 0o600))).toEqual(
        yield* outcomeOf(nodeFs.chmod(Path.join(dir, "missing"), 0o600))
      )
    }))

  it.effect("any other method is a defect, never a failure a caller could take for an answer", () =>
    Effect.gen(function*() {
      const dir = tempDir()
      const exit = yield* Effect.exit(FastFiles.fileSystem.writeFileString(Path.join(dir, "x"), "text"))
      expect(Exit.isFailure(exit) && exit.cause._tag === "Die").toBe(true)
      const removed = yield* Effect.exit(Effect.ignore(FastFiles.fileSystem.remove(dir)))
      expect(Exit.isFailure(removed)).toBe(true)
      expect(Fs.existsSync(dir)).toBe(true)
      expect(Fs.existsSync(Path.join(dir, "x"))).toBe(false)
    }))
})
