/**
 * `effect-entra-emulator [--host 127.0.0.1] [--port 0] [--config file.json]`
 *
 * Prints one JSON line when ready (authority, CA file, default ids), then serves until SIGINT or SIGTERM.
 *
 * @since 0.1.0
 */
import { parseArgs } from "node:util"
import { startEmulator } from "./startEmulator.js"

const usage = "usage: effect-entra-emulator [--host 127.0.0.1] [--port 0] [--config file.json]"

const fail = (message: string): never => {
  process.stderr.write(`effect-entra-emulator: ${message.replace(/\s*\n\s*/g, " ")}\n`)
  process.exit(2)
}

const main = async () => {
  let values: {
    host?: string | undefined
    port?: string | undefined
    config?: string | undefined
    help?: boolean | undefined
  }
  try {
    values = parseArgs({
      options: {
        host: { type: "string" },
        port: { type: "string" },
        config: { type: "string" },
        help: { type: "boolean", short: "h" }
      },
      strict: true,
      allowPositionals: false
    }).values
  } catch (error) {
    return fail(`${(error as Error).message}; ${usage}`)
  }
  if (values.help === true) {
    process.stdout.write(`${usage}\n`)
    return
  }
  const port = values.port === undefined ? 0 : Number(values.port)
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    return fail(`--port must be an integer between 0 and 65535, got "${values.port}"`)
  }
  const emulator = await startEmulator({ host: values.host, port, configFile: values.config }).catch((error) =>
    fail((error as Error).message)
  )
  const d = emulator.defaults
  process.stdout.write(
    JSON.stringify({
      authority: emulator.authority,
      caFile: emulator.caFile,
      tenantId: d.tenantId,
      otherTenantId: d.otherTenantId,
      clientId: d.clientId,
      clientSecret: d.clientSecret,
      redirectUri: d.redirectUri,
      publicClientId: d.publicClientId,
      scope: d.scope,
      users: d.users
    }) + "\n"
  )
  let stopping = false
  const stop = () => {
    if (stopping) return
    stopping = true
    void emulator.close().then(() => process.exit(0))
  }
  process.on("SIGINT", stop)
  process.on("SIGTERM", stop)
}

void main()
