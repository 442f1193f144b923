/**
 * The graph against the bundled emulator: a headless sign-in gives the code, the emulator's `/_resource/me` plays
 * the API, and a continuous-access-evaluation challenge is answered without the service noticing.
 */
import type { EmulatorError } from "@effect-entra/emulator"
import { Emulator } from "@effect-entra/emulator"
import type { InvalidOptionError } from "@effect-entra/identity/AuthenticationError"
import type * as HttpServer from "@effect/platform/HttpServer"
import type * as HttpServerError from "@effect/platform/HttpServerError"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import type { AppConfig, ListenOptions } from "./AppLayer.js"
import { AppLive, ServerLive } from "./AppLayer.js"
import type { Profile, ProfileError } from "./ProfileService.js"
import { ProfileService } from "./ProfileService.js"

/** The application's settings for the emulator's default app and a fresh code for `username`. */
export const emulatorConfig = (username?: string): Effect.Effect<AppConfig, EmulatorError, Emulator.Emulator> =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    const { code } = yield* emulator.signIn({ username })
    const { defaults } = emulator
    return {
      authority: emulator.authority,
      tenantId: defaults.tenantId,
      clientId: defaults.clientId,
      clientSecret: Redacted.make(defaults.clientSecret),
      redirectUri: defaults.redirectUri,
      authorizationCode: Redacted.make(code),
      apiScope: defaults.scope,
      apiBaseUrl: emulator.authority,
      ca: emulator.caPem
    }
  })

export interface DemoResult {
  readonly profile: Profile
  /** Read again after the API revoked every earlier token with a claims challenge. */
  readonly afterChallenge: Profile
}

/** Reads the profile, has the API revoke the token (CAE), and reads it again. */
export const demo = (
  username?: string
): Effect.Effect<DemoResult, ProfileError | InvalidOptionError | EmulatorError, Emulator.Emulator> =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    const config = yield* emulatorConfig(username)
    return yield* Effect.gen(function*() {
      const profiles = yield* ProfileService
      const profile = yield* profiles.me
      yield* emulator.challengeResource({ access_token: { nbf: { essential: true, value: "1604106651" } } })
      const afterChallenge = yield* profiles.me
      return { profile, afterChallenge }
    }).pipe(Effect.provide(AppLive(config)))
  })

/** The application's HTTP server against the emulator: signs `username` in, then serves on loopback. */
export const DemoServerLive = (
  options: { readonly username?: string | undefined; readonly listen?: ListenOptions | undefined } = {}
): Layer.Layer<
  HttpServer.HttpServer,
  InvalidOptionError | HttpServerError.ServeError | EmulatorError,
  Emulator.Emulator
> => Layer.unwrapEffect(Effect.map(emulatorConfig(options.username), (config) => ServerLive(config, options.listen)))
