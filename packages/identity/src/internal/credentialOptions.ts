/**
 * The credential's options and their validation, before anything touches the network.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { InvalidOptionError } from "../AuthenticationError.js"
import { defaultAuthority, normalizeAuthority, validateTenantId } from "../Authority.js"
import * as RefreshPolicy from "../RefreshPolicy.js"
import type * as TokenEndpoint from "../TokenEndpoint.js"
import type { ClientCredentialOptions, ClientCredentialSettings } from "./clientCredentialOptions.js"
import { checkClientCredential } from "./clientCredentialOptions.js"
import { disableMultiTenantAuthConfig } from "./credentialConfig.js"
import { isWiped } from "./redemptionBinding.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options extends ClientCredentialOptions {
  /** The tenant the code was issued for: a GUID, a verified domain, or common/organizations/consumers. */
  readonly tenantId: string
  readonly clientId: string
  /** The code from the redirect. Required unless `homeAccountId` resumes an account already in the cache. */
  readonly authorizationCode?: Redacted.Redacted<string> | undefined
  /** The redirect URI the code was issued for; Entra compares it exactly. */
  readonly redirectUri: string
  /** For confidential (web) apps (or `clientCertificate`, `clientAssertion`). Public clients send none (AADSTS700025). */
  readonly clientSecret?: Redacted.Redacted<string> | undefined
  /** The PKCE verifier of the authorize request (RFC 7636: 43–128 characters of `A-Z a-z 0-9 - . _ ~`). */
  readonly codeVerifier?: Redacted.Redacted<string> | undefined
  /** A host or https URL. Default: `AZURE_AUTHORITY_HOST`, else the public cloud. */
  readonly authority?: string | undefined
  /** Other tenants `getToken({ tenantId })` may ask for; `"*"` allows any. */
  readonly additionallyAllowedTenants?: ReadonlyArray<string> | undefined
  /** Ignore per-request tenants. Default: `AZURE_IDENTITY_DISABLE_MULTITENANTAUTH`. */
  readonly disableMultiTenantAuth?: boolean | undefined
  /** Resume an account already in the cache (`{uid}.{utid}`) instead of redeeming a code. */
  readonly homeAccountId?: string | undefined
  /** Renew this long before expiry (default 5 minutes), but never before half of the token's lifetime. */
  readonly refreshWindow?: Duration.DurationInput | undefined
  /** After a failed proactive renewal, wait this long before trying that key again. Default 30 s. */
  readonly refreshRetryDelay?: Duration.DurationInput | undefined
  /**
   * When tokens are due and how long a failed renewal waits: replaces `refreshWindow` and `refreshRetryDelay`.
   * Default: the `RefreshPolicy.CurrentRefreshPolicy` in the context, else `RefreshPolicy.defaultPolicy`.
   */
  readonly refreshPolicy?: RefreshPolicy.RefreshPolicy | undefined
  /** Retries and time-outs of the HTTP step. */
  readonly http?: TokenEndpoint.Options | undefined
}

/**
 * The options after validation.
 *
 * @since 0.1.0
 * @category models
 */
export interface Settings extends ClientCredentialSettings {
  readonly tenantId: string
  readonly clientId: string
  readonly redirectUri: string
  readonly authority: string
  /** The credential's own copy of the code: other credentials built from the same options keep theirs. */
  readonly authorizationCode: Redacted.Redacted<string> | undefined
  /**
   * The caller's instance, wiped after redemption along with the copy: building again from the same options is
   * then an `InvalidOptionError` (the code is spent) instead of a second request Entra would refuse.
   */
  readonly suppliedAuthorizationCode?: Redacted.Redacted<string> | undefined
  readonly clientSecret: Redacted.Redacted<string> | undefined
  readonly codeVerifier: Redacted.Redacted<string> | undefined
  readonly homeAccountId: string | undefined
  readonly allowedTenants: ReadonlySet<string>
  readonly allowAnyTenant: boolean
  readonly multiTenantDisabled: boolean
  readonly refreshWindowMs: number
  readonly refreshRetryDelayMs: number
  /** From `refreshPolicy`, `refreshWindow` or `refreshRetryDelay`; else the context's policy applies. */
  readonly refreshPolicy: RefreshPolicy.RefreshPolicy | undefined
  readonly http: TokenEndpoint.Options
}

const pkceVerifier = /^[A-Za-z0-9\-._~]{43,128}$/

type Checked<A> = Either.Either<A, InvalidOptionError>

const fail = (field: string, reason: string) => Either.left(new InvalidOptionError({ field, reason }))

const checkCode = (options: Options): Checked<Redacted.Redacted<string> | undefined> => {
  const code = options.authorizationCode
  if (code !== undefined && Redacted.isRedacted(code) && isWiped(code)) {
    // The code is wiped once redeemed: these options already built a credential that spent it.
    return fail(
      "authorizationCode",
      "this code was already redeemed by a credential built from these options (a code is single-use): build " +
        "the credential layer once and share it (provide it at the top, or use a ManagedRuntime), or resume the " +
        "account with homeAccountId"
    )
  }
  if (code !== undefined && (!Redacted.isRedacted(code) || typeof Redacted.value(code) !== "string")) {
    return fail("authorizationCode", "must be a Redacted string")
  }
  if (code !== undefined && Redacted.value(code).trim() === "") {
    return fail("authorizationCode", "the authorization code is empty")
  }
  if (code === undefined && options.homeAccountId === undefined) {
    return fail("authorizationCode", "an authorization code is required (or a homeAccountId to resume)")
  }
  return Either.right(code)
}

const checkSecrets = (options: Options): Checked<void> => {
  if (options.clientSecret !== undefined) {
    if (!Redacted.isRedacted(options.clientSecret) || typeof Redacted.value(options.clientSecret) !== "string") {
      return fail("clientSecret", "must be a Redacted string")
    }
    if (Redacted.value(options.clientSecret) === "") return fail("clientSecret", "the client secret is empty")
  }
  if (options.codeVerifier !== undefined) {
    const verifier = Redacted.isRedacted(options.codeVerifier) ? Redacted.value(options.codeVerifier) : undefined
    if (typeof verifier !== "string" || !pkceVerifier.test(verifier)) {
      return fail("codeVerifier", "a PKCE verifier is 43 to 128 characters of A-Z, a-z, 0-9, '-', '.', '_' and '~'")
    }
  }
  return Either.void
}

const checkTenants = (options: Options): Checked<{ readonly allowed: Set<string>; readonly any: boolean }> => {
  const allowed = new Set<string>()
  let any = false
  for (const entry of options.additionallyAllowedTenants ?? []) {
    if (entry === "*") {
      any = true
      continue
    }
    const checked = validateTenantId(entry, "additionallyAllowedTenants")
    if (Either.isLeft(checked)) return Either.left(checked.left)
    allowed.add(entry.toLowerCase())
  }
  return Either.right({ allowed, any })
}

interface RefreshSettings {
  readonly refreshWindowMs: number
  readonly refreshRetryDelayMs: number
  readonly refreshPolicy: RefreshPolicy.RefreshPolicy | undefined
}

// Decoded once: parsing the defaults' text on every credential cost a sign-in more than the rest of this check.
const defaultRefreshWindow = Option.some(Duration.minutes(5))
const defaultRefreshRetryDelay = Option.some(Duration.seconds(30))

const checkRefresh = (options: Options): Checked<RefreshSettings> => {
  const refreshWindow = options.refreshWindow === undefined
    ? defaultRefreshWindow
    : Duration.decodeUnknown(options.refreshWindow)
  const refreshRetryDelay = options.refreshRetryDelay === undefined
    ? defaultRefreshRetryDelay
    : Duration.decodeUnknown(options.refreshRetryDelay)
  if (Option.isNone(refreshWindow)) return fail("refreshWindow", "not a duration")
  if (Option.isNone(refreshRetryDelay)) return fail("refreshRetryDelay", "not a duration")
  const policy = options.refreshPolicy
  if (
    policy !== undefined &&
    (typeof policy !== "object" || policy === null || typeof policy.renewAt !== "function" ||
      typeof policy.retryDelay !== "function")
  ) return fail("refreshPolicy", "must be a RefreshPolicy (renewAt and retryDelay functions)")
  const named = options.refreshWindow !== undefined || options.refreshRetryDelay !== undefined
  return Either.right({
    refreshWindowMs: Duration.toMillis(refreshWindow.value),
    refreshRetryDelayMs: Duration.toMillis(refreshRetryDelay.value),
    refreshPolicy: policy ??
      (named ? RefreshPolicy.make({ window: refreshWindow.value, retryDelay: refreshRetryDelay.value }) : undefined)
  })
}

/**
 * Validates options synchronously (the Promise facade's constructor throws what this returns). Nothing here
 * touches the network.
 *
 * @since 0.1.0
 * @category validation
 */
export const validateOptions = (
  options: Options,
  defaults: {
    readonly authority?: string | undefined
    readonly disableMultiTenantAuth?: boolean | undefined
    /** Epoch ms: a client certificate must be valid then (unchecked when absent). */
    readonly now?: number | undefined
  } = {}
): Either.Either<Settings, InvalidOptionError> =>
  Either.gen(function*() {
    if (typeof options !== "object" || options === null) {
      return yield* fail("options", "an options object is required")
    }
    const tenantId = yield* validateTenantId(options.tenantId)
    if (typeof options.clientId !== "string" || options.clientId.trim() === "") {
      return yield* fail("clientId", "a client (application) id is required")
    }
    if (typeof options.redirectUri !== "string" || !URL.canParse(options.redirectUri)) {
      return yield* fail("redirectUri", "an absolute redirect URI (the one the code was issued for) is required")
    }
    const authority = yield* normalizeAuthority(options.authority ?? defaults.authority ?? defaultAuthority)
    const code = yield* checkCode(options)
    yield* checkSecrets(options)
    const clientCredential = yield* checkClientCredential(
      { ...options, clientId: options.clientId.trim() },
      defaults.now
    )
    const tenants = yield* checkTenants(options)
    const refresh = yield* checkRefresh(options)
    return {
      tenantId,
      clientId: options.clientId.trim(),
      redirectUri: options.redirectUri,
      authority,
      authorizationCode: code === undefined ? undefined : Redacted.make(Redacted.value(code)),
      suppliedAuthorizationCode: code,
      clientSecret: options.clientSecret,
      codeVerifier: options.codeVerifier,
      homeAccountId: options.homeAccountId,
      allowedTenants: tenants.allowed,
      allowAnyTenant: tenants.any,
      multiTenantDisabled: options.disableMultiTenantAuth ?? defaults.disableMultiTenantAuth ?? false,
      ...refresh,
      ...clientCredential,
      http: options.http ?? {}
    }
  })

/** The options checked, with `AZURE_AUTHORITY_HOST` and `AZURE_IDENTITY_DISABLE_MULTITENANTAUTH` as defaults. */
export const readSettings = (options: Options) =>
  Effect.gen(function*() {
    const envAuthority = yield* Config.option(Config.string("AZURE_AUTHORITY_HOST")).pipe(
      Effect.orElseSucceed(() => Option.none<string>())
    )
    const envDisable = yield* Config.option(disableMultiTenantAuthConfig).pipe(
      Effect.orElseSucceed(() => Option.none<boolean>())
    )
    return yield* validateOptions(options, {
      authority: Option.getOrUndefined(envAuthority),
      disableMultiTenantAuth: Option.getOrUndefined(envDisable),
      now: yield* Clock.currentTimeMillis
    })
  })
