// How many Effect runtime steps (instructions of the fiber run loop) a cold redemption takes (not a test):
// `node packages/identity/bench/runtime-steps.mjs [--detail]` after `npx tsc -b packages/identity packages/emulator`.
// The Promise facade (dist/promise.js) redeems a few codes from the emulator (its own process, as in cold-parts.mjs);
// the fifth redemption (new credential + first getToken) is counted by instruction, `--detail` also by the function
// each one runs. Deterministic, unlike CPU time on a shared machine: a change that removes steps shows here exactly.
import { createRequire } from "node:module"
import { fileURLToPath, pathToFileURL } from "node:url"
import { codes, runBesideEmulator } from "./emulatorRelay.mjs"

const coldParts = fileURLToPath(new URL("cold-parts.mjs", import.meta.url))

if (process.env.RUNTIME_STEPS === undefined) {
  await runBesideEmulator(coldParts, fileURLToPath(import.meta.url), "RUNTIME_STEPS")
} else {
  const p = JSON.parse(process.env.RUNTIME_STEPS)
  // The `effect` the built package imports (its ES module build).
  const fromIdentity = createRequire(new URL("../package.json", import.meta.url))
  const effectEsm = fromIdentity.resolve("effect").replace(/([\\/])dist\1cjs\1/, "$1dist$1esm$1")
  const runtime = await import(pathToFileURL(effectEsm.replace(/index\.js$/, "internal/fiberRuntime.js")))
  const steps = new Map()
  const detail = new Map()
  let counting = false
  const proto = runtime.FiberRuntime.prototype
  const opCodes = [
    "Async",
    "Commit",
    "Failure",
    "OnFailure",
    "OnSuccess",
    "OnSuccessAndFailure",
    "Success",
    "Sync",
    "Tag",
    "UpdateRuntimeFlags",
    "While",
    "Iterator",
    "WithRuntime",
    "Yield",
    "RevertFlags",
    "Left",
    "Right",
    "Some",
    "None"
  ]
  for (const name of opCodes) {
    const original = proto[name]
    if (typeof original !== "function") continue
    proto[name] = function(op) {
      if (counting) {
        steps.set(name, (steps.get(name) ?? 0) + 1)
        const f = name === "Commit" ? op.commit : op.effect_instruction_i0
        const where = `${name} ${typeof f === "function" ? String(f).replace(/\s+/g, " ").slice(0, 100) : ""}`
        detail.set(where, (detail.get(where) ?? 0) + 1)
      }
      return original.call(this, op)
    }
  }
  const { AuthorizationCodeCredential } = await import(new URL("../dist/promise.js", import.meta.url))
  const list = await codes(5)
  const options = { authorityHost: p.authority, disableInstanceDiscovery: true }
  for (let i = 0; i < list.length; i++) {
    counting = i === list.length - 1
    const credential = new AuthorizationCodeCredential(
      p.tenantId,
      p.clientId,
      p.clientSecret,
      list[i],
      p.redirectUri,
      options
    )
    await credential.getToken("User.Read")
    counting = false
    await credential.close()
  }
  const total = [...steps.values()].reduce((a, b) => a + b, 0)
  if (process.argv.includes("--detail")) {
    for (const [where, n] of [...detail].sort((a, b) => b[1] - a[1])) console.log(String(n).padStart(4), where)
  }
  console.log(`runtime steps per cold redemption (new credential + first getToken): ${total}`)
  console.log(Object.fromEntries([...steps].sort((a, b) => b[1] - a[1])))
  process.exit(0)
}
