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
import type * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { EmulatorNotRunningError, NotSignedInError, SettingsError, TokenRequestError } from "./CliError.js"
import * as CliOptions from "./CliOptions.js"
import * as CliSettings from "./CliSettings.js"
import * as EmulatorInfo from "./EmulatorInfo.js"
import * as Output from "./Output.js"
import * as Session from "./Session.js"
import * as StatusCommand from "./StatusCommand.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface TokenInput {
  readonly flags: CliSettings.Flags
  readonly scopes: ReadonlyArray<string>
  readonly account: Option.Option<string>
  readonly json: boolean
}

/**
 * What `--json` prints.
 *
 * @since 0.1.0
 * @category models
 */
export interface TokenJson {
  readonly token: string
  /** ISO 8601. */
  readonly expiresOn: string
  readonly tokenType: string
  readonly scopes: ReadonlyArray<string>
  readonly tenantId: string
}

/**
 * Prints a token (or its JSON) on stdout.
 *
 * @since 0.1.0
 * @category handlers
 */
export const token = Effect.fn("TokenCommand.token")(function*(input: TokenInput) {
  // The credential's own reading of scopes: space-separated, trimmed, de-duplicated; none at all is refused here.
  const scopes = input.scopes.length === 0 ? [] : TokenCache.parseScopes(input.scopes)
  if (isInvalidOptionError(scopes) || scopes.length === 0) {
    const why = isInvalidOptionError(scopes) ? `--scope: ${scopes.reason}` : "at least one --scope is required"
    return yield* new SettingsError({ reason: `${why}, e.g. --scope https://graph.microsoft.com/.default` })
  }
  const settings = yield* CliSettings.resolve(input.flags, { checkEmulatorReachable: false })
  const cache = yield* Session.openCache(settings)
  const account = yield* Session.selectAccount(cache, settings, input.account)
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

  if (input.json) {
    const json: TokenJson = {
      token: Redacted.value(accessToken.token),
      expiresOn: StatusCommand.isoTime(accessToken.expiresOnTimestamp),
      tokenType: accessToken.tokenType,
      scopes,
      tenantId: settings.tenantId
    }
    yield* Output.line(JSON.stringify(json, null, 2))
  } else {
    yield* Output.line(Redacted.value(accessToken.token))
  }
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
      Options.withDescription("Scope of the token, e.g. https://graph.microsoft.com/.default (repeatable, required)"),
      Options.repeated
    ),
    account: CliOptions.account,
    json: CliOptions.json.pipe(
      Options.withDescription("Print {token, expiresOn, tokenType, scopes, tenantId} as JSON instead of the bare token")
    )
  },
  (parsed) =>
    token({ flags: CliOptions.toFlags(parsed), scopes: parsed.scopes, account: parsed.account, json: parsed.json })
).pipe(
  Command.withDescription(
    "Print an access token for the signed-in account: from the cache, or renewed with the cached refresh token."
  )
)
