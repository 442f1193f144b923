/**
 * `effect-entra token --scope <s>...`: an access token for the signed-in account, from the cache, or renewed with
 * the cached refresh token (`AuthorizationCodeCredential` resumed from the account's `homeAccountId`).
 *
 * @since 0.1.0
 */
import { type AuthenticationError, isInvalidOptionError } from "@effect-entra/identity/AuthenticationError"
import * as AuthorizationCodeCredential from "@effect-entra/identity/AuthorizationCodeCredential"
import * as TokenCache from "@effect-entra/identity/TokenCache"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { EmulatorNotRunningError, NotSignedInError, SettingsError, TokenRequestError } from "./CliError.js"
import * as CliOptions from "./CliOptions.js"
import * as CliSettings from "./CliSettings.js"
import * as EmulatorInfo from "./EmulatorInfo.js"
import * as Output from "./Output.js"
import * as Session from "./Session.js"
import * as TokenOutput from "./TokenOutput.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface TokenInput {
  readonly flags: CliSettings.Flags
  readonly scopes: ReadonlyArray<string>
  readonly account: Option.Option<string>
  /** `--json`: the same as `--output json`. */
  readonly json: boolean
  /** `--output`: text (the default), json, tsv or none. */
  readonly output?: Option.Option<string> | undefined
  readonly query?: Option.Option<string> | undefined
}

/**
 * What `--output json` prints.
 *
 * @since 0.1.0
 * @category models
 */
export type TokenJson = TokenOutput.TokenJson

/**
 * The output options from `--output`, `--json` and `--query`; a contradiction or an unknown value is a usage error.
 *
 * @since 0.1.0
 * @category parsing
 */
export const outputOptions = (input: {
  readonly json: boolean
  readonly output?: Option.Option<string> | undefined
  readonly query?: Option.Option<string> | undefined
}): Effect.Effect<TokenOutput.Options, SettingsError> => {
  const options = TokenOutput.optionsFrom({
    json: input.json,
    output: Option.getOrUndefined(input.output ?? Option.none()),
    query: Option.getOrUndefined(input.query ?? Option.none())
  })
  return TokenOutput.isInvalid(options)
    ? Effect.fail(new SettingsError({ reason: options.reason }))
    : Effect.succeed(options)
}

/**
 * The scopes to ask for: `--scope`, else the default scopes (`EFFECT_ENTRA_SCOPE`, `"scopes"` in the config file),
 * read the credential's way (space-separated, trimmed, de-duplicated). None at all is a usage error.
 *
 * @since 0.1.0
 * @category parsing
 */
export const requestedScopes = Effect.fnUntraced(function*(
  flags: CliSettings.Flags,
  scopeFlags: ReadonlyArray<string>
) {
  const example = "e.g. --scope https://graph.microsoft.com/.default"
  const defaults = scopeFlags.length > 0 ? undefined : yield* CliSettings.resolveDefaultScopes(flags)
  if (scopeFlags.length === 0 && defaults === undefined) {
    const { cacheDir } = yield* CliSettings.resolveCacheDir(flags.cacheDir)
    return yield* new SettingsError({
      reason: `at least one --scope is required, ${example} (for a default, ${CliSettings.defaultScopesHint(cacheDir)})`
    })
  }
  const scopes = TokenCache.parseScopes(defaults?.scopes ?? scopeFlags)
  if (isInvalidOptionError(scopes) || scopes.length === 0) {
    const from = defaults === undefined
      ? "--scope"
      : defaults.source === "env"
      ? "EFFECT_ENTRA_SCOPE"
      : "\"scopes\" in the config file"
    const why = isInvalidOptionError(scopes) ? scopes.reason : "no scope"
    return yield* new SettingsError({ reason: `${from}: ${why}, ${example}` })
  }
  return scopes
})

/**
 * Prints a token (or its JSON) on stdout.
 *
 * @since 0.1.0
 * @category handlers
 */
export const token = Effect.fn("TokenCommand.token")(function*(input: TokenInput) {
  const output = yield* outputOptions(input)
  const scopes = yield* requestedScopes(input.flags, input.scopes)
  const settings = yield* CliSettings.resolve(input.flags, { checkEmulatorReachable: false })
  const cache = yield* Session.openCache(settings)
  const account = yield* Session.selectAccount(cache, settings, input.account).pipe(
    EmulatorInfo.explainNotSignedIn(settings)
  )
  const who = account.username ?? account.homeAccountId

  const mapAuthenticationError = (error: AuthenticationError) => {
    if (error.isInteractionRequired) {
      return new NotSignedInError({ detail: `the sign-in of ${who} has expired or was revoked (${error.message})` })
    }
    if (settings.emulator !== undefined && error.reason === "Transport") {
      return new EmulatorNotRunningError({
        infoFile: EmulatorInfo.filePath(settings.cacheDir),
        detail: `${settings.authority} does not answer`
      })
    }
    return new TokenRequestError({ detail: error.message, cause: error })
  }

  const accessToken = yield* Effect.gen(function*() {
    const credential = yield* AuthorizationCodeCredential.make({
      tenantId: settings.tenantId,
      clientId: settings.clientId,
      authority: settings.authority,
      redirectUri: settings.redirectUri,
      clientSecret: settings.clientSecret,
      homeAccountId: account.homeAccountId
    })
    return yield* credential.getToken(scopes)
  }).pipe(
    Effect.provideService(TokenCache.TokenCache, cache),
    Effect.provide(Session.httpLayer(settings)),
    Effect.scoped,
    Effect.catchTags({
      InvalidOptionError: (error) => Effect.fail(new SettingsError({ reason: error.message })),
      AuthenticationError: (error) => Effect.fail(mapAuthenticationError(error))
    })
  )

  const text = TokenOutput.render({
    accessToken: accessToken.token,
    expiresOnTimestamp: accessToken.expiresOnTimestamp,
    tokenType: accessToken.tokenType,
    tenantId: settings.tenantId,
    scopes
  }, output)
  if (text !== undefined) yield* Output.line(text)
})

/**
 * The `token` command.
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make(
  "token",
  {
    ...CliOptions.common,
    scopes: Options.text("scope").pipe(
      Options.withDescription(
        "Scope of the token, e.g. https://graph.microsoft.com/.default (repeatable; else EFFECT_ENTRA_SCOPE or " +
          "\"scopes\" in the config file)"
      ),
      Options.repeated
    ),
    account: CliOptions.account,
    output: Options.text("output").pipe(
      Options.withAlias("o"),
      Options.withDescription(
        "text (the bare token, the default), json (accessToken, expiresOn, expires_on, tenant, tokenType, scopes), " +
          "tsv (those values on one line) or none"
      ),
      Options.optional
    ),
    json: Options.boolean("json").pipe(Options.withDescription("The same as --output json")),
    query: Options.text("query").pipe(
      Options.withDescription(
        "Print only these fields: a name (accessToken, expires_on, ...) or a list [accessToken, expires_on]; as JSON " +
          "with --output json, else the raw values separated by tabs"
      ),
      Options.optional
    )
  },
  (parsed) =>
    token({
      flags: CliOptions.toFlags(parsed),
      scopes: parsed.scopes,
      account: parsed.account,
      json: parsed.json,
      output: parsed.output,
      query: parsed.query
    })
).pipe(
  Command.withDescription(
    "Print an access token for the signed-in account: from the cache, or renewed with the cached refresh token."
  )
)
