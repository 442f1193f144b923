/**
 * Every ```ts block of README.md, docs/*.md and packages/*\/README.md type-checks as written (with the names its
 * `// assumes:` line declares), and each block marked `// runs against the emulator` exits 0 against a fresh
 * emulator. The work is scripts/doc-blocks.mjs; this file gives each block its own test, named file:line.
 */
import { assert, beforeAll, describe, it } from "@effect/vitest"
import { execFile, execFileSync } from "node:child_process"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..")
const script = path.join(root, "scripts/doc-blocks.mjs")

interface Block {
  readonly file: string
  readonly line: number
  readonly runnable: boolean
}
interface Result extends Block {
  readonly messages: ReadonlyArray<string>
  readonly run?: { readonly ok: boolean; readonly output: string }
}

const blocks: ReadonlyArray<Block> = JSON.parse(
  execFileSync(process.execPath, [script, "--list"], { encoding: "utf8" })
)
let results: { readonly global: ReadonlyArray<string>; readonly results: ReadonlyArray<Result> }

beforeAll(async () => {
  const stdout = await new Promise<string>((resolve, reject) =>
    execFile(
      process.execPath,
      [script, "--run", "--json"],
      { cwd: root, maxBuffer: 64 * 1024 * 1024, timeout: 170_000 },
      (error, out, err) => error === null ? resolve(out) : reject(new Error(`${error.message}\n${err}`))
    )
  )
  results = JSON.parse(stdout)
}, 180_000)

describe("doc blocks", () => {
  it("the blocks are found, and the program that checks them has no errors of its own", () => {
    assert.isAbove(blocks.length, 20)
    assert.deepStrictEqual(results.global, [])
    assert.deepStrictEqual(
      results.results.map(({ file, line }) => `${file}:${line}`),
      blocks.map(({ file, line }) => `${file}:${line}`)
    )
  })

  for (const block of blocks) {
    const name = `${block.file}:${block.line}${
      block.runnable ? " (type-checks, runs against the emulator)" : " (type-checks)"
    }`
    it(name, () => {
      const result = results.results.find((r) => r.file === block.file && r.line === block.line)
      assert.isDefined(result)
      assert.deepStrictEqual(result!.messages, [])
      if (block.runnable) {
        assert.isDefined(result!.run)
        assert.isTrue(result!.run!.ok, result!.run!.output)
      }
    })
  }
})
