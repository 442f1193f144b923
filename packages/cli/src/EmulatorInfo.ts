/**
 * `<cache-dir>/emulator.json`: what `effect-entra emulator` writes when the emulator is ready (and removes when it
 * stops), and what `--emulator` reads to find it: the authority, its CA certificate and the default ids.
 *
 * @since 0.1.0
 */
import type { Defaults } from "@effect-entra/emulator/Emulator"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Fs from "node:fs/promises"
import * as Path from "node:path"
import type { NotSignedInError } from "./CliError.js"
import { CacheNotWritableError, EmulatorNotRunningError } from "./CliError.js"
import * as Session from "./Session.js"

/**
 * The file's contents. No secret: the CLI signs in with the emulator's public client.
 *
 * @since 0.1.0
 * @category models
 */
export const EmulatorInfo = Schema.Struct({
  authority: Schema.String,
  caFile: Schema.String,
  tenantId: Schema.String,
  /** The public (native) client the CLI uses, with PKCE and no secret. */
  clientId: Schema.String,
  /** The emulator's confidential web app, whose API scope is `scope`. */
  webClientId: Schema.String,
  scope: Schema.String,
  redirectUri: Schema.String,
  users: Schema.Array(Schema.Struct({ username: Schema.String, name: Schema.String })),
  pid: Schema.Number
})

/**
 * @since 0.1.0
 * @category models
 */
export interface EmulatorInfo extends Schema.Schema.Type<typeof EmulatorInfo> {}

/**
 * What the CLI records of a running emulator (in-process or `effect-entra emulator`): its public client, since the
 * CLI signs in as a native app, and the loopback redirect URI that client registers.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromEmulator = (emulator: {
  readonly authority: string
  readonly caFile: string
  readonly defaults: Defaults
}, pid: number): EmulatorInfo => {
  const d = emulator.defaults
  return {
    authority: emulator.authority,
    caFile: emulator.caFile,
    tenantId: d.tenantId,
    clientId: d.publicClientId,
    webClientId: d.clientId,
    scope: d.scope,
    redirectUri: "http://127.0.0.1/callback",
    users: d.users.map((user) => ({ username: user.username, name: user.name })),
    pid
  }
}

/**
 * The emulator info with the CA certificate read from `caFile`.
 *
 * @since 0.1.0
 * @category models
 */
export interface RunningEmulator extends EmulatorInfo {
  readonly caPem: string
}

const decode = Schema.decodeUnknownEither(Schema.parseJson(EmulatorInfo))

/**
 * The file's path in a cache folder.
 *
 * @since 0.1.0
 * @category paths
 */
export const filePath = (cacheDir: string): string => Path.join(Path.resolve(cacheDir), "emulator.json")

class FileError extends Data.TaggedError("FileError")<{ readonly detail: string }> {}

/**
 * Writes the file atomically: the folder is created (0700) or must be the current user's and closed to others, the
 * text goes to a random temporary name created exclusively (0600), then is renamed over the file. A symbolic link
 * is refused, never followed.
 *
 * @since 0.1.0
 * @category writing
 */
export const write = (cacheDir: string, info: EmulatorInfo): Effect.Effect<string, FileError> => {
  const target = filePath(cacheDir)
  return Session.writePrivateFile(target, JSON.stringify(info, null, 2) + "\n").pipe(
    Effect.as(target),
    Effect.mapError((error) => new FileError({ detail: `cannot write ${target}: ${error.detail}` }))
  )
}

/**
 * Removes the file if it still names this process (another `effect-entra emulator` may have replaced it).
 *
 * @since 0.1.0
 * @category writing
 */
export const removeIfOwned = (cacheDir: string, pid: number): Effect.Effect<void> =>
  Effect.promise(async () => {
    const target = filePath(cacheDir)
    try {
      const current = decode(await Fs.readFile(target, "utf8"))
      if (Either.isRight(current) && current.right.pid === pid) await Fs.rm(target, { force: true })
    } catch {
      // Already gone.
    }
  })

/**
 * GET /_emulator/health over TLS with the emulator's CA only. `node:https` is imported here, not at the top: it loads
 * the TLS and HTTP stacks, several milliseconds of a cached `token`'s start-up, which never asks.
 */
const health = async (authority: string, ca: string): Promise<void> => {
  const Https = await import("node:https")
  return new Promise((resolve, reject) => {
    const request = Https.get(`${authority}/_emulator/health`, { ca, timeout: 3000 }, (response) => {
      response.resume()
      if (response.statusCode === 200) resolve()
      else reject(new Error(`it answered HTTP ${response.statusCode}`))
    })
    request.on("timeout", () => request.destroy(new Error("it did not answer within 3 s")))
    request.on("error", reject)
  })
}

/**
 * Reads the file and the CA certificate; with `checkReachable`, also asks the emulator for its health over TLS.
 * Every failure is an {@link EmulatorNotRunningError} telling the user to start it, except a file or folder that is
 * not the current user's or is a symbolic link: a {@link CacheNotWritableError}.
 *
 * @since 0.1.0
 * @category reading
 */
export const read = (
  cacheDir: string,
  options: { readonly checkReachable: boolean }
): Effect.Effect<RunningEmulator, EmulatorNotRunningError | CacheNotWritableError> => {
  const infoFile = filePath(cacheDir)
  const notRunning = (detail: string) => new EmulatorNotRunningError({ infoFile, detail })
  return Effect.gen(function*() {
    const text = yield* Session.readPrivateFile(infoFile, 0o022).pipe(
      Effect.mapError((error) =>
        error.reason === "Unsafe"
          ? new CacheNotWritableError({
            detail: `refusing ${infoFile}: ${error.detail}`,
            hint: "use a folder of your own, closed to other users, with --cache-dir or EFFECT_ENTRA_CACHE_DIR",
            cause: error
          })
          : notRunning(`cannot read ${infoFile}`)
      ),
      Effect.flatMap(Option.match({ onNone: () => notRunning(`no ${infoFile}`), onSome: Effect.succeed }))
    )
    const decoded = decode(text)
    if (Either.isLeft(decoded)) return yield* notRunning(`${infoFile} is not an emulator info file`)
    const info = decoded.right
    const caPem = yield* Effect.tryPromise({
      try: () => Fs.readFile(info.caFile, "utf8"),
      catch: () => notRunning(`its CA certificate ${info.caFile} is gone`)
    })
    const running = { ...info, caPem }
    if (options.checkReachable) yield* checkAnswers(cacheDir, running)
    return running
  })
}

/**
 * Asks a recorded emulator for its health: an {@link EmulatorNotRunningError} when it does not answer.
 *
 * @since 0.1.0
 * @category reading
 */
export const checkAnswers = (
  cacheDir: string,
  emulator: RunningEmulator
): Effect.Effect<void, EmulatorNotRunningError> =>
  Effect.tryPromise({
    try: () => health(emulator.authority, emulator.caPem),
    catch: (error) =>
      new EmulatorNotRunningError({
        infoFile: filePath(cacheDir),
        detail: `${emulator.authority} does not answer: ${(error as Error).message}`
      })
  })

/**
 * With `--emulator`, a "not signed in" is checked against the emulator before it is reported: an `emulator.json`
 * left by an emulator that has stopped would otherwise read as "not signed in", and signing in cannot work until it
 * is started again. Only the failure pays for the check; a token served from the cache does not.
 *
 * @since 0.1.0
 * @category reading
 */
export const explainNotSignedIn = (settings: {
  readonly cacheDir: string
  readonly emulator: RunningEmulator | undefined
}) =>
<A, E, R>(
  self: Effect.Effect<A, E | NotSignedInError, R>
): Effect.Effect<A, E | NotSignedInError | EmulatorNotRunningError, R> =>
  settings.emulator === undefined
    ? self
    : Effect.catchIf(
      self,
      (error): error is NotSignedInError =>
        typeof error === "object" && error !== null &&
        (error as { readonly _tag?: unknown })._tag === "NotSignedInError",
      (error) => Effect.zipRight(checkAnswers(settings.cacheDir, settings.emulator!), Effect.fail(error))
    )
