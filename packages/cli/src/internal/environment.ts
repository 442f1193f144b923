/**
 * The environment variables the settings read, each trimmed, an empty one counting as unset.
 *
 * @internal
 */
import * as Config from "effect/Config"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"

const nonEmpty = (name: string) =>
  Config.option(Config.string(name)).pipe(
    Config.map(Option.filter((value) => value.trim() !== "")),
    Config.map(Option.map((value) => value.trim()))
  )

const nonEmptyRedacted = (name: string) =>
  Config.option(Config.redacted(name)).pipe(Config.map(Option.filter((value) => Redacted.value(value) !== "")))

export const Env = Config.all({
  cacheDir: nonEmpty("EFFECT_ENTRA_CACHE_DIR"),
  cacheKey: nonEmptyRedacted("EFFECT_ENTRA_CACHE_KEY"),
  cachePreviousKeys: nonEmptyRedacted("EFFECT_ENTRA_CACHE_PREVIOUS_KEYS"),
  stateHome: nonEmpty("XDG_STATE_HOME"),
  scope: nonEmpty("EFFECT_ENTRA_SCOPE"),
  authority: nonEmpty("AZURE_AUTHORITY_HOST"),
  tenantId: nonEmpty("AZURE_TENANT_ID"),
  clientId: nonEmpty("AZURE_CLIENT_ID"),
  clientSecret: nonEmptyRedacted("AZURE_CLIENT_SECRET")
})

export type Env = Config.Config.Success<typeof Env>
