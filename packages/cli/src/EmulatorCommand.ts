/**
 * `effect-entra emulator`: runs the local Entra ID emulator in the foreground and records it in
 * `<cache-dir>/emulator.json` (removed on exit), so `--emulator` on the other commands finds its authority, CA and
 * public app.
 *
 * @since 0.1.0
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { CacheNotWritableError, SettingsError } from "./CliError.js"
import * as CliOptions from "./CliOptions.js"
import * as CliSettings from "./CliSettings.js"
import * as EmulatorInfo from "./EmulatorInfo.js"
import * as Output from "./Output.js"

/**
 * Whether loading the emulator failed because it is not installed: `import` (the repository's build) and
 * `require` (the published bundle) say so with different codes.
 *
 * @since 0.1.0
 * @category loading
 */
export const isEmulatorMissing = (error: unknown): boolean => {
  const code = (error as { readonly code?: unknown } | undefined)?.code
  return (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") &&
    String((error as Error).message).includes("@effect-entra/emulator")
}

// An optional peer dependency, loaded on demand: the emulator (TLS certificates, signing keys, a server) is not
// installed with the CLI. Its Promise API keeps its own copy of `effect` apart from the CLI's bundled one.
const loadEmulator = Effect.tryPromise({
  try: () => import("@effect-entra/emulator/startEmulator").then((module) => module.startEmulator),
  catch: (error) =>
    new SettingsError({
      reason: isEmulatorMissing(error)
        ? "the emulator is not installed: install @effect-entra/emulator where the CLI is " +
          "(npm install --global @effect-entra/emulator, or npm install --save-dev @effect-entra/emulator in a project)"
        : `cannot load the emulator: ${(error as Error).message}`
    })
})

/**
 * @since 0.1.0
 * @category models
 */
export interface EmulatorInput {
  readonly cacheDir: Option.Option<string>
  readonly port: Option.Option<number>
  readonly config: Option.Option<string>
}

/**
 * Starts the emulator and serves until interrupted (Ctrl+C, SIGTERM).
 *
 * @since 0.1.0
 * @category handlers
 */
export const run = Effect.fn("EmulatorCommand.run")(function*(input: EmulatorInput) {
  const { cacheDir } = yield* CliSettings.resolveCacheDir(input.cacheDir)
  const port = Option.getOrElse(input.port, () => 0)
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    return yield* new SettingsError({ reason: `--port must be an integer between 0 and 65535, got ${port}` })
  }
  const emulator = yield* Effect.acquireRelease(
    Effect.flatMap(loadEmulator, (startEmulator) =>
      Effect.tryPromise({
        try: () => startEmulator({ port, configFile: Option.getOrUndefined(input.config) }),
        catch: (error) => new SettingsError({ reason: `cannot start the emulator: ${(error as Error).message}` })
      })),
    (running) => Effect.promise(() => running.close())
  )
  const d = emulator.defaults
  const info = EmulatorInfo.fromEmulator(emulator, process.pid)
  const file = yield* EmulatorInfo.write(cacheDir, info).pipe(
    Effect.mapError((error) => new CacheNotWritableError({ detail: error.detail }))
  )
  yield* Effect.addFinalizer(() => EmulatorInfo.removeIfOwned(cacheDir, process.pid))
  yield* Output.line(`Entra ID emulator running at ${emulator.authority}`)
  yield* Output.line(`  tenant      ${d.tenantId}`)
  yield* Output.line(`  public app  ${d.publicClientId} (used by --emulator; PKCE, no secret)`)
  yield* Output.line(`  users       ${d.users.map((user) => user.username).join(", ")}`)
  yield* Output.line(`  API scope   ${d.scope}`)
  yield* Output.line(`  CA          ${emulator.caFile}`)
  yield* Output.line(`  info file   ${file}`)
  yield* Output.line("")
  yield* Output.line(
    `In another terminal: effect-entra login --emulator${
      Option.isSome(input.cacheDir) ? ` --cache-dir ${cacheDir}` : ""
    }`
  )
  yield* Output.line("Press Ctrl+C to stop.")
  return yield* Effect.never
}, Effect.scoped)

/**
 * The `emulator` command.
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make(
  "emulator",
  {
    cacheDir: CliOptions.cacheDirOption(),
    port: CliOptions.port("port", 0).pipe(
      Options.withDescription("HTTPS port on 127.0.0.1 (default: a free port)"),
      Options.optional
    ),
    config: Options.file("config", { exists: "yes" }).pipe(
      Options.withDescription("Emulator configuration (JSON: tenants, apps, users, lifetimes)"),
      Options.optional
    )
  },
  (parsed) => run(parsed)
).pipe(
  Command.withDescription(
    "Run the local Entra ID emulator in the foreground and record it in <cache-dir>/emulator.json for --emulator."
  )
)
