// Signs the CLI in against a running emulator without a browser, for the benchmarks: records the emulator as
// `effect-entra emulator` would, runs `login --emulator --no-browser`, and answers its URL as a browser with a
// session does (prompt=none: a 302 to the loopback receiver, followed).
import * as ChildProcess from "node:child_process"
import * as Http from "node:http"
import * as Https from "node:https"
import * as Path from "node:path"

const root = Path.resolve(import.meta.dirname, "../..")

/** `node` runs `bin` (the CLI's entry file) with `env`; the account lands in `cacheDir`. */
export const signInWithCli = async ({ bin, cacheDir, emulator, env, node = process.execPath, timeoutMs = 60_000 }) => {
  const { fromEmulator, write } = await import(Path.join(root, "packages/cli/dist/EmulatorInfo.js"))
  const { Effect } = await import("effect")
  await Effect.runPromise(write(cacheDir, fromEmulator(emulator, process.pid)))
  const child = ChildProcess.spawn(node, [
    bin,
    "login",
    "--emulator",
    "--no-browser",
    "--cache-dir",
    cacheDir,
    "--scope",
    emulator.defaults.scope
  ], { env, stdio: ["ignore", "pipe", "pipe"] })
  let output = ""
  child.stdout.on("data", (chunk) => (output += chunk))
  child.stderr.on("data", (chunk) => (output += chunk))
  const exited = new Promise((resolve) => child.on("close", resolve))
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no sign-in URL from login:\n${output}`)), timeoutMs)
    const poll = setInterval(() => {
      const match = output.match(/https:\/\/\S+\/oauth2\/v2\.0\/authorize\?\S+/)
      if (match !== null) {
        clearInterval(poll)
        clearTimeout(timer)
        resolve(new URL(match[0]))
      }
    }, 20)
  })
  url.searchParams.set("prompt", "none")
  url.searchParams.set("login_hint", emulator.defaults.users[0].username)
  const location = await new Promise((resolve, reject) =>
    Https.get(url, { ca: emulator.caPem }, (response) => {
      response.resume()
      resolve(response.headers.location)
    }).on("error", reject)
  )
  if (location === undefined) throw new Error("the emulator did not redirect the sign-in")
  await new Promise((resolve, reject) =>
    Http.get(location.replace(/#.*$/, ""), (response) => {
      response.resume()
      response.on("end", resolve)
    }).on("error", reject)
  )
  const code = await exited
  if (code !== 0) throw new Error(`login exited with ${code}:\n${output}`)
}
