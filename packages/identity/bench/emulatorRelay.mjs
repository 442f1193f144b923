// The cold benches' set-up (not a test): the emulator in a process of its own (answering each { n } with n fresh
// codes), and the measured script in a child of its own that trusts the emulator's CA and asks for codes.
import { fork, spawn } from "node:child_process"

const emulatorDist = new URL("../../emulator/dist/index.js", import.meta.url)

/** The emulator's process (a script run with `--emulator` calls this): answers each { n } with n fresh codes. */
export const serveEmulator = async () => {
  const { startEmulator } = await import(emulatorDist)
  const emulator = await startEmulator({})
  const d = emulator.defaults
  process.send({
    authority: emulator.authority,
    caFile: emulator.caFile,
    tenantId: d.tenantId,
    clientId: d.clientId,
    clientSecret: d.clientSecret,
    redirectUri: d.redirectUri
  })
  process.on("message", async (m) => {
    if (m === "close") {
      await emulator.close()
      process.exit(0)
    }
    const codes = []
    for (let i = 0; i < m.n; i++) codes.push((await emulator.signIn()).code)
    process.send({ codes })
  })
}

/**
 * Runs `script` (with this process's arguments) beside an emulator forked from `emulatorScript --emulator`; the
 * child finds the emulator's settings as JSON in the environment variable `envName`.
 */
export const runBesideEmulator = async (emulatorScript, script, envName) => {
  const emulator = fork(emulatorScript, ["--emulator"])
  const settings = await new Promise((resolve) => emulator.once("message", resolve))
  const child = spawn(process.execPath, [script, ...process.argv.slice(2)], {
    env: { ...process.env, [envName]: JSON.stringify(settings), NODE_EXTRA_CA_CERTS: settings.caFile },
    stdio: ["inherit", "inherit", "inherit", "ipc"]
  })
  child.on("message", (m) => {
    emulator.once("message", (answer) => child.send(answer))
    emulator.send(m)
  })
  await new Promise((resolve) => child.on("exit", resolve))
  emulator.send("close")
}

/** In the measured child: n fresh codes from the emulator's process. */
export const codes = (n) =>
  new Promise((resolve) => {
    process.once("message", (m) => resolve(m.codes))
    process.send({ n })
  })
