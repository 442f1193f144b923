/**
 * What `login` prints on stdout once an account is stored, whichever way the user signed in.
 *
 * @since 0.1.0
 */
import type * as FileTokenCache from "@effect-entra/identity/FileTokenCache"
import * as Effect from "effect/Effect"
import type * as CliSettings from "./CliSettings.js"
import * as Output from "./Output.js"
import { sanitizeInline } from "./TerminalText.js"

/**
 * Who signed in, as the cache keeps it.
 *
 * @since 0.1.0
 * @category models
 */
export interface Account {
  readonly homeAccountId: string
  readonly tenantId: string
  readonly username?: string | undefined
  readonly name?: string | undefined
}

/**
 * Prints the account, the app and the cache file.
 *
 * @since 0.1.0
 * @category printing
 */
export const print = (
  who: Account,
  settings: CliSettings.Settings,
  cache: FileTokenCache.Service
): Effect.Effect<void> =>
  Effect.gen(function*() {
    // Names come from the ID token: each stays on its line.
    const encrypted = settings.cacheKey !== undefined
    const username = sanitizeInline(who.username ?? who.homeAccountId)
    yield* Output.line(
      `Signed in as ${username}${who.name !== undefined ? ` (${sanitizeInline(who.name)})` : ""}`
    )
    yield* Output.line(`  account  ${sanitizeInline(who.homeAccountId)}`)
    yield* Output.line(`  tenant   ${sanitizeInline(who.tenantId)}`)
    yield* Output.line(`  app      ${settings.clientId} at ${settings.authority}`)
    yield* Output.line(
      `  cache    ${cache.filePath} (${encrypted ? "AES-256-GCM" : "plaintext; set EFFECT_ENTRA_CACHE_KEY to encrypt"})`
    )
  })
