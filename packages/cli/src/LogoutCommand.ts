/**
 * `effect-entra logout`: removes an account, its refresh token and its access tokens from the token cache. (Entra
 * has no revocation endpoint for a public client's refresh token; forgetting it is what `az logout` does too.)
 *
 * @since 0.1.0
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as CliOptions from "./CliOptions.js"
import * as CliSettings from "./CliSettings.js"
import * as Output from "./Output.js"
import * as Session from "./Session.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface LogoutInput {
  readonly flags: CliSettings.Flags
  readonly account: Option.Option<string>
  readonly all: boolean
}

/**
 * Signs out the selected account (or every account of this authority and app with `all`).
 *
 * @since 0.1.0
 * @category handlers
 */
export const logout = Effect.fn("LogoutCommand.logout")(function*(input: LogoutInput) {
  const settings = yield* CliSettings.resolve(input.flags, { checkEmulatorReachable: false })
  const cache = yield* Session.openCache(settings)
  const signedIn = yield* Session.accounts(cache, settings)
  if (signedIn.length === 0 && Option.isNone(input.account)) {
    yield* Output.line(`Not signed in to ${settings.authority} with app ${settings.clientId}; nothing to remove.`)
    return
  }
  const targets = input.all ? signedIn : [yield* Session.selectAccount(cache, settings, input.account)]
  yield* Session.ensureWritable(cache)
  for (const account of targets) {
    const key = Session.accountKeyOf(account)
    const tokens = yield* cache.listAccessTokens(key)
    yield* cache.removeAccount(key)
    yield* Session.checkLastWrite(cache, `could not sign out ${account.username ?? account.homeAccountId}`)
    yield* Output.line(
      `Signed out ${
        account.username ?? account.homeAccountId
      }: removed the account, its refresh token and ${tokens.length} access token(s).`
    )
  }
})

/**
 * The `logout` command.
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make(
  "logout",
  {
    ...CliOptions.common,
    account: CliOptions.account,
    all: Options.boolean("all").pipe(Options.withDescription("Sign out every account of this authority and app"))
  },
  (parsed) => logout({ flags: CliOptions.toFlags(parsed), account: parsed.account, all: parsed.all })
).pipe(
  Command.withDescription("Remove the signed-in account, its refresh token and its access tokens from the cache.")
)
