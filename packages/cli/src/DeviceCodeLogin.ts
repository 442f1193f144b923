/**
 * `effect-entra login --use-device-code`: the device authorization grant, like `az login --use-device-code`, for
 * SSH sessions and machines without a browser. Entra's sentence (open this page, enter this code) goes to stderr;
 * this process opens no browser and binds no port, and polls until the user has signed in on another device,
 * declined, or the code expired. The account lands in the same token cache as after a browser sign-in.
 *
 * @since 0.1.0
 */
import type { AuthenticationError } from "@effect-entra/identity/AuthenticationError"
import * as DeviceCode from "@effect-entra/identity/DeviceCode"
import type * as FileTokenCache from "@effect-entra/identity/FileTokenCache"
import * as TokenCache from "@effect-entra/identity/TokenCache"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { SettingsError, SignInError, SignInTimeoutError } from "./CliError.js"
import type * as CliSettings from "./CliSettings.js"
import * as Output from "./Output.js"
import * as Session from "./Session.js"
import * as SignedIn from "./SignedIn.js"
import * as Spinner from "./Spinner.js"

/**
 * The wait ended before the sign-in: the code expired, or `--timeout` passed first. A sign-in time-out (its tag,
 * hence exit code 4), with the advice that fits the device code.
 *
 * @since 0.1.0
 * @category errors
 */
export class DeviceCodeTimeoutError extends SignInTimeoutError {
  /** `true`: the code's own lifetime ran out; `false`: `--timeout` was shorter. */
  readonly codeExpired: boolean

  constructor(args: { readonly timeout: string; readonly codeExpired: boolean }) {
    super({ timeout: args.timeout })
    this.codeExpired = args.codeExpired
  }

  override get message(): string {
    return this.codeExpired
      ? `the device code expired after ${this.timeout} before the sign-in was completed; run ` +
        "`effect-entra login --use-device-code` again for a new code"
      : `timed out after ${this.timeout} waiting for the sign-in with the device code; run ` +
        "`effect-entra login --use-device-code` again (use --timeout to wait longer)"
  }
}

/**
 * @since 0.1.0
 * @category models
 */
export interface DeviceCodeLoginInput {
  readonly settings: CliSettings.Settings
  readonly cache: FileTokenCache.Service
  /** The resource scopes (the OIDC ones are added). */
  readonly scopes: ReadonlyArray<string>
  /** `--timeout` when given: the wait ends then, or when the code expires if that is sooner. */
  readonly timeout: Option.Option<Duration.Duration>
}

const describeError = (
  error: AuthenticationError,
  expiresInSeconds: number | undefined
): SignInError | DeviceCodeTimeoutError => {
  switch (error.errorResponse.error) {
    case "expired_token":
      return new DeviceCodeTimeoutError({
        timeout: expiresInSeconds === undefined ? "its lifetime" : Duration.format(Duration.seconds(expiresInSeconds)),
        codeExpired: true
      })
    case "authorization_declined":
      return new SignInError({
        error: error.errorResponse.error,
        detail: `the sign-in was declined on the device-code page (${error.message})`,
        cause: error
      })
    default:
      return new SignInError({
        error: error.errorResponse.error,
        detail: expiresInSeconds === undefined
          ? `no device code was issued: ${error.message}`
          : `the device-code sign-in failed: ${error.message}`,
        cause: error
      })
  }
}

/**
 * Asks for a device code, shows it, waits for the sign-in and stores the account; prints who signed in.
 *
 * @since 0.1.0
 * @category handlers
 */
export const login = Effect.fn("DeviceCodeLogin.login")(function*(input: DeviceCodeLoginInput) {
  const { cache, settings } = input
  const account = yield* Effect.gen(function*() {
    const flow = yield* DeviceCode.make({
      tenantId: settings.tenantId,
      clientId: settings.clientId,
      authority: settings.authority,
      clientSecret: settings.clientSecret
    })
    const pending = yield* flow.start(input.scopes)
    // As `az` does: the instructions on stderr, stdout kept for what scripts read.
    yield* Output.info(pending.info.message)
    const now = yield* Clock.currentTimeMillis
    const flag = Option.filter(input.timeout, (timeout) => now + Duration.toMillis(timeout) < pending.info.expiresOn)
    const deadline = Option.match(flag, {
      onNone: () => pending.info.expiresOn,
      onSome: (timeout) => now + Duration.toMillis(timeout)
    })
    const wait = Effect.scoped(
      Effect.zipRight(Spinner.make({ label: "Waiting for the sign-in with the code...", deadline }), pending.await)
    ).pipe(Effect.catchTag("AuthenticationError", (error) => Effect.fail(describeError(error, pending.info.expiresIn))))
    const signIn = yield* Option.match(flag, {
      onNone: () => wait,
      onSome: (timeout) =>
        Effect.timeoutFail(wait, {
          duration: timeout,
          onTimeout: () => new DeviceCodeTimeoutError({ timeout: Duration.format(timeout), codeExpired: false })
        })
    })
    return signIn.account
  }).pipe(
    Effect.provideService(TokenCache.TokenCache, cache),
    Effect.provide(Session.httpLayer(settings)),
    Effect.catchTags({
      InvalidOptionError: (error) => Effect.fail(new SettingsError({ reason: error.message })),
      AuthenticationError: (error) => Effect.fail(describeError(error, undefined))
    })
  )
  yield* Session.checkLastWrite(cache, "the sign-in succeeded but could not be saved")
  yield* SignedIn.print(account, settings, cache)
}, Effect.onInterrupt(() => Output.info("Sign-in cancelled.")))
