/**
 * The credential's account: unredeemed (it holds a code), redeemed (or resumed), or spent (the code was refused).
 * RedeemCode runs at most once per credential; the other steps read the account from here.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import { AuthenticationError } from "../AuthenticationError.js"
import * as RedeemCode from "../RedeemCode.js"
import type * as TokenCache from "../TokenCache.js"
import * as TokenRequest from "../TokenRequest.js"
import type { RedeemUnshared } from "./redeemUnshared.js"
import * as SingleFlight from "./singleFlight.js"

/** What the state needs of the credential's settings. */
export interface AccountSettings extends TokenRequest.Client {
  readonly authorizationCode: Redacted.Redacted<string> | undefined
  readonly suppliedAuthorizationCode?: Redacted.Redacted<string> | undefined
  readonly codeVerifier: Redacted.Redacted<string> | undefined
  readonly homeAccountId: string | undefined
}

type State =
  | { readonly _tag: "Unredeemed"; readonly code: Redacted.Redacted<string> }
  | { readonly _tag: "Redeemed"; readonly account: RedeemCode.AccountInfo; readonly accountKey: string }
  | { readonly _tag: "Spent"; readonly error: AuthenticationError }

/** @internal */
export interface AccountState {
  /** The account's id once the code is redeemed (or resumed), synchronously: the hot path's key. */
  readonly homeAccountId: () => string | undefined
  /** The account, redeeming the code first if needed (once, however many callers). */
  readonly ensure: (request: TokenRequest.TokenRequest) => Effect.Effect<RedeemCode.Redemption, AuthenticationError>
  /** The account as the cache last stored it (name and user name included), once redeemed. */
  readonly account: Effect.Effect<Option.Option<RedeemCode.AccountInfo>>
}

const reauthenticate = (cause: AuthenticationError) =>
  new AuthenticationError({
    reason: "ReauthenticationRequired",
    statusCode: cause.statusCode,
    grantType: "authorization_code",
    errorResponse: cause.errorResponse,
    attempts: 0
  })

/** @internal */
export const make = (
  settings: AccountSettings,
  redeemCode: RedeemCode.Service,
  cache: TokenCache.Service,
  scope: Scope.Scope,
  /** `redeemCode`'s redemption without its own flight, when the credential built the step itself. */
  unshared?: RedeemUnshared | undefined
): AccountState => {
  const flights = SingleFlight.make(scope)
  let state: State = settings.homeAccountId !== undefined
    ? {
      _tag: "Redeemed",
      account: { homeAccountId: settings.homeAccountId, tenantId: settings.tenantId },
      accountKey: TokenRequest.accountKey(settings, settings.homeAccountId)
    }
    : { _tag: "Unredeemed", code: settings.authorizationCode! }

  const adopt = (account: RedeemCode.AccountInfo, code: Redacted.Redacted<string>) => {
    state = { _tag: "Redeemed", account, accountKey: TokenRequest.accountKey(settings, account.homeAccountId) }
    // The code is single-use: once redeemed, nothing keeps it.
    Redacted.unsafeWipe(code)
    if (settings.suppliedAuthorizationCode !== undefined) Redacted.unsafeWipe(settings.suppliedAuthorizationCode)
  }

  // The credential's own step runs in this state's flight, without a second flight of its own.
  const redeemOnce = unshared ?? redeemCode.redeem
  const redeem = (request: TokenRequest.TokenRequest, code: Redacted.Redacted<string>) =>
    redeemOnce({ client: settings, code, codeVerifier: settings.codeVerifier, request }).pipe(
      Effect.tap((redemption) => Effect.sync(() => adopt(redemption.account, code))),
      Effect.tapError((error) =>
        Effect.sync(() => {
          if (RedeemCode.spendsCode(error)) state = { _tag: "Spent", error }
        })
      )
    )

  const ensure = (request: TokenRequest.TokenRequest): Effect.Effect<RedeemCode.Redemption, AuthenticationError> =>
    Effect.suspend(() => {
      switch (state._tag) {
        case "Redeemed":
          return Effect.succeed({ account: state.account })
        case "Spent":
          return Effect.fail(reauthenticate(state.error))
        case "Unredeemed":
          return flights.run("redeem", redeem(request, state.code), { finishWhenAbandoned: true })
      }
    })

  const account: Effect.Effect<Option.Option<RedeemCode.AccountInfo>> = Effect.suspend(() => {
    if (state._tag !== "Redeemed") return Effect.succeedNone
    const base = state.account
    return Effect.map(cache.getAccount(state.accountKey), (stored) =>
      Option.some(Option.match(stored, {
        onNone: () => base,
        onSome: (entry): RedeemCode.AccountInfo => ({
          homeAccountId: entry.homeAccountId,
          tenantId: entry.tenantId,
          ...(entry.username === undefined ? {} : { username: entry.username }),
          ...(entry.name === undefined ? {} : { name: entry.name })
        })
      })))
  })

  return {
    homeAccountId: () => state._tag === "Redeemed" ? state.account.homeAccountId : undefined,
    ensure,
    account
  }
}
