/**
 * The emulator's directory: tenants, app registrations, users and token lifetimes.
 *
 * A config file (or the `config` option) is a partial {@link EmulatorConfigInput}, decoded with Schema and merged
 * onto {@link defaults}: list entries replace the default with the same id and add the rest.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as Crypto from "node:crypto"
import * as Fs from "node:fs/promises"
import type { App, Tenant, User } from "./internal/configSchema.js"
import { EmulatorConfigInput } from "./internal/configSchema.js"
import { defaults } from "./internal/defaultDirectory.js"

export {
  /**
   * @since 0.1.0
   */
  App,
  /**
   * @since 0.1.0
   */
  AppType,
  /**
   * @since 0.1.0
   */
  EmulatorConfigInput,
  /**
   * @since 0.1.0
   */
  Tenant,
  /**
   * @since 0.1.0
   */
  User
} from "./internal/configSchema.js"

/**
 * The resolved configuration.
 *
 * @since 0.1.0
 * @category models
 */
export interface EmulatorConfig {
  readonly tenants: ReadonlyArray<Tenant>
  readonly apps: ReadonlyArray<App>
  readonly users: ReadonlyArray<User>
  readonly accessTokenLifetime: number
  readonly refreshTokenLifetime: number
  readonly authorizationCodeLifetime: number
  readonly refreshIn: number | undefined
  readonly refreshTokenRotation: "lenient" | "strict"
  readonly resourceScope: string
  readonly resourceAudience: string
  readonly maxRequestBodyBytes: number
  readonly deviceCodeLifetime: number
  readonly deviceCodeInterval: number
  readonly clientAssertionReplay: "allow" | "reject"
}

export {
  /**
   * The fixed ids of the default directory, so tests and docs can name them.
   *
   * @since 0.1.0
   * @category constants
   */
  defaultIds,
  /**
   * The default directory: two tenants, a confidential web app exposing `access_as_user`, a public (native)
   * client for a CLI, and three users: alice (Contoso, a guest in Fabrikam), bob (Contoso only), carol (Fabrikam,
   * a guest in Contoso).
   *
   * @since 0.1.0
   * @category constants
   */
  defaults
} from "./internal/defaultDirectory.js"

/**
 * A configuration could not be read or decoded. The message names the file and the offending path.
 *
 * @since 0.1.0
 * @category errors
 */
export class ConfigError
  extends Data.TaggedError("ConfigError")<{ readonly reason: string; readonly cause?: unknown }>
{
  override get message(): string {
    return this.reason
  }
}

const mergeBy = <A>(base: ReadonlyArray<A>, extra: ReadonlyArray<A> | undefined, key: (a: A) => string) => {
  if (extra === undefined) return base
  const keys = new Set(extra.map(key))
  return [...base.filter((a) => !keys.has(key(a))), ...extra]
}

const isCertificate = (pem: string) => {
  try {
    new Crypto.X509Certificate(pem)
    return true
  } catch {
    return false
  }
}

const decodeInput = Schema.decodeUnknownEither(EmulatorConfigInput, { errors: "all", onExcessProperty: "error" })

/**
 * Decodes a partial configuration and merges it onto `base` (the defaults unless given).
 *
 * @since 0.1.0
 * @category constructors
 */
export const resolve = (
  input: unknown,
  source = "config",
  base: EmulatorConfig = defaults
): Either.Either<EmulatorConfig, ConfigError> =>
  Either.flatMap(
    Either.mapLeft(decodeInput(input ?? {}), (e) =>
      new ConfigError({
        reason: `invalid emulator ${source}: ${
          ParseResult.TreeFormatter.formatErrorSync(e).replace(/\s*\n\s*/g, "; ")
        }`,
        cause: e
      })),
    (i) => {
      const tenants = mergeBy(base.tenants, i.tenants, (t) => t.id.toLowerCase())
      const firstTenant = tenants[0]
      if (firstTenant === undefined) {
        return Either.left(new ConfigError({ reason: `invalid emulator ${source}: at least one tenant is required` }))
      }
      const known = new Set(tenants.map((t) => t.id.toLowerCase()))
      const apps = mergeBy(base.apps, i.apps, (a) => a.clientId.toLowerCase()).map((a) => ({
        ...a,
        tenantId: a.tenantId ?? firstTenant.id
      }))
      const users = mergeBy(base.users, i.users, (u) => u.username.toLowerCase()).map((u) => ({
        ...u,
        tenantId: u.tenantId ?? firstTenant.id
      }))
      const named = [
        ...apps.map((a) => ({ who: `app ${a.clientId}`, tenantId: a.tenantId })),
        ...users.flatMap((u) =>
          [u.tenantId, ...(u.guestOf ?? [])].map((tenantId) => ({ who: `user ${u.username}`, tenantId }))
        )
      ]
      for (const { tenantId, who } of named) {
        if (!known.has(tenantId.toLowerCase())) {
          return Either.left(
            new ConfigError({ reason: `invalid emulator ${source}: ${who} names unknown tenant ${tenantId}` })
          )
        }
      }
      for (const a of apps) {
        const badCertificate = a.certificates.findIndex((pem) => !isCertificate(pem))
        if (badCertificate >= 0) {
          return Either.left(
            new ConfigError({
              reason: `invalid emulator ${source}: app ${a.clientId} certificates[${badCertificate}] is not a PEM ` +
                "X.509 certificate"
            })
          )
        }
        if (a.type === "web" && a.secrets.length === 0 && a.certificates.length === 0) {
          return Either.left(
            new ConfigError({
              reason: `invalid emulator ${source}: web app ${a.clientId} needs at least one secret or certificate`
            })
          )
        }
      }
      return Either.right({
        tenants,
        apps,
        users,
        accessTokenLifetime: i.accessTokenLifetime ?? base.accessTokenLifetime,
        refreshTokenLifetime: i.refreshTokenLifetime ?? base.refreshTokenLifetime,
        authorizationCodeLifetime: i.authorizationCodeLifetime ?? base.authorizationCodeLifetime,
        refreshIn: i.refreshIn ?? base.refreshIn,
        refreshTokenRotation: i.refreshTokenRotation ?? base.refreshTokenRotation,
        resourceScope: i.resourceScope ?? base.resourceScope,
        resourceAudience: i.resourceAudience ?? base.resourceAudience,
        maxRequestBodyBytes: i.maxRequestBodyBytes ?? base.maxRequestBodyBytes,
        deviceCodeLifetime: i.deviceCodeLifetime ?? base.deviceCodeLifetime,
        deviceCodeInterval: i.deviceCodeInterval ?? base.deviceCodeInterval,
        clientAssertionReplay: i.clientAssertionReplay ?? base.clientAssertionReplay
      })
    }
  )

/**
 * Reads a JSON config file and merges it (and then `overrides`) onto the defaults.
 *
 * @since 0.1.0
 * @category constructors
 */
export const load = (
  options: { readonly configFile?: string | undefined; readonly config?: EmulatorConfigInput | undefined }
): Effect.Effect<EmulatorConfig, ConfigError> =>
  Effect.gen(function*() {
    let base = defaults
    const file = options.configFile
    if (file !== undefined) {
      const text = yield* Effect.tryPromise({
        try: () => Fs.readFile(file, "utf8"),
        catch: (cause) =>
          new ConfigError({ reason: `cannot read emulator config file ${file}: ${(cause as Error).message}`, cause })
      })
      const json = yield* Effect.try({
        try: () => JSON.parse(text) as unknown,
        catch: (cause) =>
          new ConfigError({ reason: `emulator config file ${file} is not JSON: ${(cause as Error).message}`, cause })
      })
      base = yield* resolve(json, `config file ${file}`)
    }
    return yield* resolve(options.config ?? {}, "config option", base)
  })
