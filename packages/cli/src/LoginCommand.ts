/**
 * `effect-entra login`: the authorization-code flow with PKCE in the system browser, like `az login`.
 *
 * 1. Resolve the settings and check the token cache can be written (before the browser opens).
 * 2. Start the loopback receiver on the address the redirect URI names (both 127.0.0.1 and ::1 for `localhost`)
 *    and build the authorize URL (PKCE S256, `state`, `nonce`).
 * 3. Open the browser (or print the URL with `--no-browser`) and wait, with a countdown, until the genuine redirect
 *    arrives or `--timeout` passes. Requests with a foreign `state` are answered with an error page and ignored.
 * 4. Redeem the code with `AuthorizationCodeCredential` and the code verifier; the credential stores the account,
 *    its refresh token and the first access token in the file cache.
 *
 * With `--use-device-code`, steps 2 to 4 are the device authorization grant instead (see {@link DeviceCodeLogin}):
 * no browser, no port.
 *
 * @since 0.1.0
 */
import { isInvalidOptionError } from "@effect-entra/identity/AuthenticationError"
import * as AuthorizationCodeCredential from "@effect-entra/identity/AuthorizationCodeCredential"
import * as AuthorizationRequest from "@effect-entra/identity/AuthorizationRequest"
import type * as FileTokenCache from "@effect-entra/identity/FileTokenCache"
import * as TokenCache from "@effect-entra/identity/TokenCache"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import * as Browser from "./Browser.js"
import { SettingsError, SignInError, SignInTimeoutError } from "./CliError.js"
import * as CliOptions from "./CliOptions.js"
import * as CliSettings from "./CliSettings.js"
import * as DeviceCodeLogin from "./DeviceCodeLogin.js"
import * as LoopbackReceiver from "./LoopbackReceiver.js"
import * as Output from "./Output.js"
import * as Session from "./Session.js"
import * as SignedIn from "./SignedIn.js"
import * as Spinner from "./Spinner.js"
import { sanitizeInline } from "./TerminalText.js"

const oidcScopes = new Set(["openid", "profile", "offline_access", "email"])

/**
 * @since 0.1.0
 * @category models
 */
export interface LoginInput {
  readonly flags: CliSettings.Flags
  readonly scopes: ReadonlyArray<string>
  readonly noBrowser: boolean
  /** `--timeout`; the browser sign-in waits 5 minutes without it, the device code until it expires. */
  readonly timeout: Option.Option<Duration.Duration>
  readonly loginHint: Option.Option<string>
  readonly prompt: Option.Option<"login" | "consent" | "select_account" | "none">
  /** The device authorization grant instead of the browser. */
  readonly useDeviceCode?: boolean | undefined
}

const defaultTimeout = Duration.minutes(5)

/** The flags that belong to the browser sign-in: refused with `--use-device-code` rather than ignored. */
const browserOnly = (input: LoginInput): ReadonlyArray<string> => [
  ...(Option.isSome(input.flags.redirectPort ?? Option.none()) ? ["--redirect-port"] : []),
  ...(Option.isSome(input.loginHint) ? ["--login-hint"] : []),
  ...(Option.isSome(input.prompt) ? ["--prompt"] : [])
]

const describeRedirectError = (error: AuthorizationRequest.AuthorizationRedirectError): SignInError => {
  if (error.reason === "MissingCode") return new SignInError({ detail: "the redirect carried no authorization code" })
  // Both come from the redirect, that is from whoever sent the browser there: one line each, nothing a terminal runs.
  const description = error.errorDescription === undefined ?
    undefined :
    sanitizeInline(error.errorDescription.split(/\r?\n/)[0] ?? "").trim()
  return new SignInError({
    error: error.error,
    detail: `${error.error === undefined ? "unknown_error" : sanitizeInline(error.error)}${
      description !== undefined && description !== "" ? ` (${description})` : ""
    }`
  })
}

/** Opens the system browser on the sign-in page, or prints its URL. */
const showSignInPage = (url: string, noBrowser: boolean): Effect.Effect<void> =>
  noBrowser
    ? Output.info(`To sign in, open this URL in a browser:\n\n  ${url}\n`)
    : Effect.flatMap(Effect.either(Browser.open(url)), (opened) =>
      Either.match(opened, {
        onLeft: (error) => Output.info(`${error.message}.\nTo sign in, open this URL in a browser:\n\n  ${url}\n`),
        onRight: () => Output.info(`Opened the browser to sign in. If it did not open, open this URL:\n\n  ${url}\n`)
      }))

/** Step 4: the credential redeems the code and stores the account; the account as the cache keeps it. */
const redeemCode = (
  settings: CliSettings.Settings,
  cache: FileTokenCache.Service,
  scopes: ReadonlyArray<string>,
  redemption: {
    readonly redirectUri: string
    readonly code: Redacted.Redacted<string>
    readonly codeVerifier: Redacted.Redacted<string>
  }
) =>
  Effect.gen(function*() {
    const credential = yield* AuthorizationCodeCredential.make({
      tenantId: settings.tenantId,
      clientId: settings.clientId,
      authority: settings.authority,
      redirectUri: redemption.redirectUri,
      authorizationCode: redemption.code,
      codeVerifier: redemption.codeVerifier,
      clientSecret: settings.clientSecret
    })
    yield* credential.getToken(scopes)
    return yield* credential.account
  }).pipe(
    Effect.provideService(TokenCache.TokenCache, cache),
    Effect.provide(Session.httpLayer(settings)),
    Effect.catchTags({
      InvalidOptionError: (error) => Effect.fail(new SettingsError({ reason: error.message })),
      AuthenticationError: (error) =>
        Effect.fail(
          new SignInError({
            detail: `the code could not be redeemed: ${error.message}`,
            error: error.errorResponse.error,
            cause: error
          })
        )
    }),
    Effect.scoped
  )

/** Steps 2 to 4: the browser sign-in on a loopback redirect. */
const browserLogin = (
  input: LoginInput,
  settings: CliSettings.Settings,
  cache: FileTokenCache.Service,
  scopes: ReadonlyArray<string>
) =>
  Effect.gen(function*() {
    const timeout = Option.getOrElse(input.timeout, () => defaultTimeout)
    const pkce = AuthorizationRequest.makePkce()
    const state = AuthorizationRequest.randomValue()
    const receiver = yield* LoopbackReceiver.make({
      redirectUri: settings.redirectUri,
      port: settings.redirectPort,
      expectedState: state,
      onIgnored: (why) => Output.infoSync(`warning: ignored ${why}; still waiting for the sign-in`)
    })
    const url = AuthorizationRequest.authorizeUrl({
      authority: settings.authority,
      tenantId: settings.tenantId,
      clientId: settings.clientId,
      redirectUri: receiver.redirectUri,
      scopes: ["openid", "profile", "offline_access", ...scopes],
      state,
      nonce: AuthorizationRequest.randomValue(),
      codeChallenge: pkce.codeChallenge,
      loginHint: Option.getOrUndefined(input.loginHint),
      prompt: Option.getOrUndefined(input.prompt)
    }).toString()
    yield* showSignInPage(url, input.noBrowser)

    const deadline = (yield* Clock.currentTimeMillis) + Duration.toMillis(timeout)
    const redirect = yield* Effect.scoped(
      Effect.zipRight(
        Spinner.make({ label: "Waiting for the sign-in in the browser...", deadline }),
        receiver.awaitRedirect
      )
    ).pipe(
      Effect.timeoutFail({
        duration: timeout,
        onTimeout: () => new SignInTimeoutError({ timeout: Duration.format(timeout) })
      }),
      Effect.catchTag("AuthorizationRedirectError", (error) => Effect.fail(describeRedirectError(error)))
    )

    const account = yield* redeemCode(settings, cache, scopes, {
      redirectUri: receiver.redirectUri,
      code: redirect.code,
      codeVerifier: pkce.codeVerifier
    }).pipe(Effect.tapError(() => receiver.complete({ success: false })))
    yield* Session.checkLastWrite(cache, "the sign-in succeeded but could not be saved").pipe(
      Effect.tapError(() => receiver.complete({ success: false }))
    )
    yield* receiver.complete({ success: true })

    if (Option.isNone(account)) return yield* new SignInError({ detail: "no account was returned" })
    yield* SignedIn.print(account.value, settings, cache)
  }).pipe(
    Effect.scoped,
    Effect.onInterrupt(() => Output.info("Sign-in cancelled."))
  )

/**
 * Signs a user in and prints who it was.
 *
 * @since 0.1.0
 * @category handlers
 */
export const login = Effect.fn("LoginCommand.login")(function*(input: LoginInput) {
  // The credential's own reading of scopes: space-separated, trimmed, de-duplicated.
  const requested = input.scopes.length === 0 ? [] : TokenCache.parseScopes(input.scopes)
  if (isInvalidOptionError(requested)) return yield* new SettingsError({ reason: `--scope: ${requested.reason}` })
  const refused = input.useDeviceCode === true ? browserOnly(input) : []
  if (refused.length > 0) {
    return yield* new SettingsError({
      reason: `${refused.join(", ")} cannot be used with --use-device-code (only the browser sign-in has them)`
    })
  }
  const settings = yield* CliSettings.resolve(input.flags, { checkEmulatorReachable: true })
  const cache = yield* Session.openCache(settings)
  yield* Session.ensureWritable(cache)
  const resourceScopes = requested.filter((scope) => !oidcScopes.has(scope.toLowerCase()))
  const scopes = resourceScopes.length > 0 ? resourceScopes : settings.loginScopes
  return yield* input.useDeviceCode === true
    ? DeviceCodeLogin.login({ settings, cache, scopes, timeout: input.timeout })
    : browserLogin(input, settings, cache, scopes)
})

/**
 * The `login` command.
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make(
  "login",
  {
    ...CliOptions.common,
    scopes: Options.text("scope").pipe(
      Options.withDescription(
        "Resource scope to consent to and get the first token for (repeatable; else EFFECT_ENTRA_SCOPE, \"scopes\" in " +
          "config.json, https://graph.microsoft.com/User.Read)"
      ),
      Options.repeated
    ),
    redirectPort: CliOptions.port("redirect-port").pipe(
      Options.withDescription("Port of the loopback receiver (default: a free port)"),
      Options.optional
    ),
    noBrowser: Options.boolean("no-browser").pipe(
      Options.withDescription("Print the sign-in URL instead of opening the system browser")
    ),
    timeout: CliOptions.duration("timeout").pipe(
      Options.withDescription(
        "How long to wait for the sign-in, e.g. 90s, 5m (default 5m; with --use-device-code, until the code expires)"
      ),
      Options.optional
    ),
    loginHint: Options.text("login-hint").pipe(
      Options.withDescription("Username to pre-fill on the sign-in page"),
      Options.optional
    ),
    prompt: Options.choice("prompt", ["login", "consent", "select_account", "none"]).pipe(
      Options.withDescription("Entra's prompt parameter: force a sign-in, consent or the account picker"),
      Options.optional
    ),
    useDeviceCode: Options.boolean("use-device-code").pipe(
      Options.withDescription(
        "Sign in on another device with a code (for SSH sessions and machines without a browser): no browser is " +
          "opened and no port is bound"
      )
    )
  },
  (parsed) =>
    login({
      flags: CliOptions.toFlags(parsed, parsed.redirectPort),
      scopes: parsed.scopes,
      noBrowser: parsed.noBrowser,
      timeout: parsed.timeout,
      loginHint: parsed.loginHint,
      prompt: parsed.prompt,
      useDeviceCode: parsed.useDeviceCode
    })
).pipe(
  Command.withDescription(
    "Sign in in the system browser (authorization code + PKCE on a loopback redirect), or with a code on another " +
      "device (--use-device-code), and keep the account and its refresh token in the token cache."
  )
)
