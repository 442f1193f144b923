/**
 * docs/api is what scripts/api-docs.mjs generates from the packages' declarations and JSDoc today: a changed
 * export, signature or comment without a regenerated reference fails here (run `node scripts/api-docs.mjs`).
 */
import { assert, describe, it } from "@effect/vitest"
import { execFile } from "node:child_process"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..")

describe("API reference", () => {
  it("docs/api matches the packages' declarations and JSDoc", async () => {
    const outcome = await new Promise<{ readonly ok: boolean; readonly output: string }>((resolve) =>
      execFile(
        process.execPath,
        [path.join(root, "scripts/api-docs.mjs"), "--check"],
        { cwd: root, timeout: 110_000 },
        (error, stdout, stderr) => resolve({ ok: error === null, output: `${stdout}${stderr}`.trim() })
      )
    )
    assert.isTrue(outcome.ok, outcome.output)
  }, 120_000)
})
