/**
 * The common case of `effect-entra token` without the command-line parser or the credential: arguments this module
 * fully understands, a fresh token in the file cache, printed by the same {@link TokenOutput} rules. Anything else
 * (a flag it does not know, no `--scope`, no fresh token, any error) is a miss, and the full command runs instead,
 * so behaviour and messages stay the full command's. It reads the cache through the same settings and account
 * selection as `token`, and changes nothing that the full command would not.
 *
 * @since 0.1.0
 */
import * as CacheLookup from "@effect-entra/identity/CacheLookup"
import * as RefreshPolicy from "@effect-entra/identity/RefreshPolicy"
import * as TokenCache from "@effect-entra/identity/TokenCache"
import * as TokenRequest from "@effect-entra/identity/TokenRequest"
import * as NodePath from "@effect/platform-node/NodePath"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as CliSettings from "./CliSettings.js"
import * as FastFiles from "./internal/fastFiles.js"
import * as Output from "./Output.js"
import * as Session from "./Session.js"
import * as TokenOutput from "./TokenOutput.js"

/**
 * The `token` arguments the fast path understands.
 *
 * @since 0.1.0
 * @category models
 */
export interface Arguments {
  readonly flags: CliSettings.Flags
  readonly scopes: ReadonlyArray<string>
  readonly account: Option.Option<string>
  readonly output: TokenOutput.Options
}

const valued: Record<string, string> = {
  "--scope": "scope",
  "--account": "account",
  "--authority": "authority",
  "--tenant": "tenant",
  "--client-id": "clientId",
  "--cache-dir": "cacheDir",
  "--output": "output",
  "-o": "output",
  "--query": "query"
}

const booleans: Record<string, string> = { "--emulator": "emulator", "--json": "json" }

/**
 * Reads `token` arguments (what follows the executable and script): `undefined` for anything not understood in
 * full (other commands or flags, `--flag=value`, a flag given twice, a value that looks like a flag, no `--scope`,
 * output options the full command would refuse).
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseArguments = (args: ReadonlyArray<string>): Arguments | undefined => {
  if (args[0] !== "token") return undefined
  const values: Record<string, string> = {}
  const scopes: Array<string> = []
  const seen = new Set<string>()
  for (let index = 1; index < args.length; index++) {
    const arg = args[index]!
    const boolean = booleans[arg]
    if (boolean !== undefined) {
      if (seen.has(boolean)) return undefined
      seen.add(boolean)
      continue
    }
    const name = valued[arg]
    const value = args[index + 1]
    if (name === undefined || value === undefined || value.startsWith("-")) return undefined
    index++
    if (name === "scope") {
      scopes.push(value)
      continue
    }
    if (seen.has(name)) return undefined
    seen.add(name)
    values[name] = value
  }
  if (scopes.length === 0) return undefined
  const output = TokenOutput.optionsFrom({ json: seen.has("json"), output: values.output, query: values.query })
  if (TokenOutput.isInvalid(output)) return undefined
  return {
    flags: {
      authority: Option.fromNullable(values.authority),
      tenant: Option.fromNullable(values.tenant),
      clientId: Option.fromNullable(values.clientId),
      cacheDir: Option.fromNullable(values.cacheDir),
      emulator: seen.has("emulator")
    },
    scopes,
    account: Option.fromNullable(values.account),
    output
  }
}

/**
 * What the fast path found: the token's text for stdout (`Some(undefined)` for `--output none`; `None` is a miss:
 * run the full command), and the warnings logged on the way, each as its stderr line.
 *
 * @since 0.1.0
 * @category models
 */
export interface Outcome {
  readonly stdout: Option.Option<string | undefined>
  readonly warnings: ReadonlyArray<string>
}

const messageOf = (message: unknown): string =>
  Array.isArray(message) ? message.map((part) => messageOf(part)).join(" ") : String(message)

/**
 * Looks the token up: `Some` only for a fresh cached token (what the credential would serve without a request).
 *
 * @since 0.1.0
 * @category lookup
 */
export const lookup = (input: Arguments): Effect.Effect<Outcome> => {
  const warnings: Array<string> = []
  // The full command's warning lines, kept until the outcome is known.
  const logger = Logger.make(({ logLevel, message }) => {
    warnings.push(`effect-entra: ${logLevel.label.toLowerCase()}: ${messageOf(message)}`)
  })
  const stdout = Effect.gen(function*() {
    const scopes = TokenCache.parseScopes(input.scopes)
    if (!Array.isArray(scopes) || scopes.length === 0) return Option.none()
    const settings = yield* CliSettings.resolve(input.flags, { checkEmulatorReachable: false })
    const cache = yield* Session.openCache(settings)
    const account = yield* Session.selectAccount(cache, settings, input.account)
    // The key and the policy the credential would use (it is built with the settings' tenant, client and authority).
    const request = TokenRequest.unsafeMake({ tenantId: settings.tenantId }, scopes)
    if (!("scopeKey" in request)) return Option.none()
    const key = TokenRequest.accessTokenKey(settings, account.homeAccountId, request)
    const policy = yield* RefreshPolicy.CurrentRefreshPolicy
    const found = CacheLookup.classify(yield* cache.getAccessToken(key), yield* Clock.currentTimeMillis, policy)
    if (found._tag !== "Fresh") return Option.none()
    return Option.some(TokenOutput.render({
      accessToken: found.entry.token,
      expiresOnTimestamp: found.entry.expiresOn,
      tokenType: found.entry.tokenType,
      tenantId: settings.tenantId,
      scopes
    }, input.output))
  })
  return stdout.pipe(
    // Reads only, synchronously (see internal/fastFiles): the same checks, without NodeFileSystem's code.
    Effect.provide([FastFiles.layer, NodePath.layer]),
    Effect.catchAllCause(() => Effect.succeed(Option.none<string | undefined>())),
    Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
    Logger.withMinimumLogLevel(LogLevel.Warning),
    Effect.map((found): Outcome => ({ stdout: found, warnings }))
  )
}

/**
 * Runs the fast path for these arguments: prints and returns `true` when the token was served, else prints only the
 * warnings logged on the way (a warning about a file the lookup just tightened would not come again; the full
 * command does not print one twice) and returns `false`: run the full command.
 *
 * @since 0.1.0
 * @category running
 */
export const serve = async (args: ReadonlyArray<string>): Promise<boolean> => {
  const input = parseArguments(args)
  if (input === undefined) return false
  const outcome = await Effect.runPromise(lookup(input))
  // Once: on a miss the full command reads the same files and would log the same warnings again.
  for (const warning of outcome.warnings) Output.warnOnceSync(warning)
  if (Option.isNone(outcome.stdout)) return false
  if (outcome.stdout.value !== undefined) Effect.runSync(Output.line(outcome.stdout.value))
  return true
}
