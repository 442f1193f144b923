/**
 * The failures of the `effect-entra` commands and the exit code of each. Every message reads well on one line and
 * never holds a code, a verifier, a token or a secret.
 *
 * | code | meaning |
 * | --- | --- |
 * | 0 | success |
 * | 1 | the sign-in or the token request failed (denied consent, an Entra error, the network) |
 * | 2 | invalid usage or settings (bad flag, bad config file, no client id, emulator not running) |
 * | 3 | not signed in, or the sign-in has expired: run `effect-entra login` |
 * | 4 | timed out waiting for the browser sign-in |
 * | 5 | the token cache cannot be used: its folder cannot be written, is not yours, is open to other users or is a
 * symbolic link; or it is encrypted with a key this process does not have (`EFFECT_ENTRA_CACHE_KEY`) |
 * | 130 | cancelled (Ctrl+C) |
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"

/**
 * The process exit codes.
 *
 * @since 0.1.0
 * @category constants
 */
export const ExitCode = {
  Success: 0,
  Failed: 1,
  Usage: 2,
  NotSignedIn: 3,
  TimedOut: 4,
  CacheNotWritable: 5,
  Cancelled: 130
} as const

/**
 * A flag, an environment variable or the config file holds something unusable, or a required setting is missing.
 *
 * @since 0.1.0
 * @category errors
 */
export class SettingsError extends Data.TaggedError("SettingsError")<{
  readonly reason: string
}> {
  override get message(): string {
    return this.reason
  }
}

/**
 * `--emulator` was given but no running emulator is recorded for this cache folder, or it does not answer.
 *
 * @since 0.1.0
 * @category errors
 */
export class EmulatorNotRunningError extends Data.TaggedError("EmulatorNotRunningError")<{
  readonly infoFile: string
  readonly detail: string
}> {
  override get message(): string {
    return `the emulator is not running (${this.detail}); start it with \`effect-entra emulator\` in another ` +
      "terminal, with the same --cache-dir if you give one"
  }
}

/**
 * No account is signed in for this authority and app, or the one asked for is not in the cache.
 *
 * @since 0.1.0
 * @category errors
 */
export class NotSignedInError extends Data.TaggedError("NotSignedInError")<{
  readonly detail: string
}> {
  override get message(): string {
    return `${this.detail}; sign in with \`effect-entra login\``
  }
}

/**
 * The browser sign-in did not produce a code: the user declined, the authorization server answered an error, or
 * the code could not be redeemed.
 *
 * @since 0.1.0
 * @category errors
 */
export class SignInError extends Data.TaggedError("SignInError")<{
  readonly detail: string
  /** The OAuth `error` value, when the authorization or token endpoint sent one. */
  readonly error?: string | undefined
  readonly cause?: unknown
}> {
  override get message(): string {
    return `sign-in failed: ${this.detail}`
  }
}

/**
 * No redirect arrived before the time-out.
 *
 * @since 0.1.0
 * @category errors
 */
export class SignInTimeoutError extends Data.TaggedError("SignInTimeoutError")<{
  readonly timeout: string
}> {
  override get message(): string {
    return `timed out after ${this.timeout} waiting for the sign-in in the browser; run \`effect-entra login\` ` +
      "again (use --timeout to wait longer)"
  }
}

/**
 * A token request with the cached refresh token failed for a reason other than an expired sign-in.
 *
 * @since 0.1.0
 * @category errors
 */
export class TokenRequestError extends Data.TaggedError("TokenRequestError")<{
  readonly detail: string
  readonly cause?: unknown
}> {
  override get message(): string {
    return `token request failed: ${this.detail}`
  }
}

/**
 * The token cache folder or file (or another file the CLI keeps there) cannot be created, written or trusted, or
 * the cache is encrypted with a key this process does not have. Nothing was changed.
 *
 * @since 0.1.0
 * @category errors
 */
export class CacheNotWritableError extends Data.TaggedError("CacheNotWritableError")<{
  readonly detail: string
  /** What to do; by default, choose another folder. */
  readonly hint?: string | undefined
  readonly cause?: unknown
}> {
  override get message(): string {
    return `${this.detail}; ${this.hint ?? "choose another folder with --cache-dir or EFFECT_ENTRA_CACHE_DIR"}`
  }
}

/**
 * The loopback receiver could not listen (e.g. the `--redirect-port` is taken).
 *
 * @since 0.1.0
 * @category errors
 */
export class ReceiverError extends Data.TaggedError("ReceiverError")<{
  readonly detail: string
  readonly cause?: unknown
}> {
  override get message(): string {
    return `cannot receive the sign-in redirect: ${this.detail}`
  }
}

/**
 * Every failure a command can end with.
 *
 * @since 0.1.0
 * @category errors
 */
export type CliError =
  | SettingsError
  | EmulatorNotRunningError
  | NotSignedInError
  | SignInError
  | SignInTimeoutError
  | TokenRequestError
  | CacheNotWritableError
  | ReceiverError

/**
 * The exit code for a failure.
 *
 * @since 0.1.0
 * @category exit codes
 */
export const exitCodeOf = (error: CliError): number => {
  switch (error._tag) {
    case "SettingsError":
    case "EmulatorNotRunningError":
      return ExitCode.Usage
    case "NotSignedInError":
      return ExitCode.NotSignedIn
    case "SignInTimeoutError":
      return ExitCode.TimedOut
    case "CacheNotWritableError":
      return ExitCode.CacheNotWritable
    case "SignInError":
    case "TokenRequestError":
    case "ReceiverError":
      return ExitCode.Failed
  }
}
