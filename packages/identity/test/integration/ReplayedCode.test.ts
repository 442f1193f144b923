/**
 * A replayed authorization code must never adopt someone else's sign-in (authorization-code injection). Credentials
 * share one cache, as the docs recommend: the victim redeems; then the same code is tried with another verifier,
 * with none, with another redirect URI and with a wrong secret. Each attempt must reach Entra (which refuses it),
 * never yield the victim's token or account, and never spend the victim's refresh token.
 */
import { Emulator } from "@effect-entra/emulator"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, layer } from "@effect/vitest"
import { Effect, Layer, Option, Redacted } from "effect"
import * as Crypto from "node:crypto"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import type { AuthenticationError } from "../../src/AuthenticationError.js"
import * as AuthorizationCodeCredential from "../../src/AuthorizationCodeCredential.js"
import * as FileTokenCache from "../../src/FileTokenCache.js"
import * as TokenCache from "../../src/TokenCache.js"
import * as E from "./fixtures/Emulated.js"

const fileCache = (encryptionKey?: string) =>
  Layer.unwrapEffect(Effect.sync(() => {
    const directory = Fs.mkdtempSync(Path.join(Os.tmpdir(), "effect-entra-replay-"))
    return FileTokenCache.layer({
      directory,
      ...(encryptionKey === undefined ? {} : { encryptionKey: Redacted.make(encryptionKey) })
    }).pipe(Layer.provide(NodeContext.layer), Layer.orDie)
  }))

const caches: ReadonlyArray<readonly [string, () => Layer.Layer<TokenCache.TokenCache>]> = [
  ["memory", () => TokenCache.layerMemory],
  ["file", () => fileCache()],
  ["file, encrypted", () => fileCache(Crypto.randomBytes(32).toString("base64"))]
]

const otherVerifier = () => E.pkce().verifier

layer(E.EmulatorLive)("a replayed code never adopts another credential's sign-in", (it) => {
  for (const [name, cacheLayer] of caches) {
    describe(`over the ${name} cache`, () => {
      it.effect("another verifier, no verifier, another redirect URI, a wrong secret: each gets Entra's error", () =>
        Effect.gen(function*() {
          const context = yield* Layer.build(Layer.merge(E.HttpLive, cacheLayer()))
          const victimPkce = E.pkce()
          const emulator = yield* Emulator
          yield* emulator.reset()
          yield* E.wallClock
          const { code } = yield* Effect.orDie(emulator.signIn({ codeChallenge: victimPkce.challenge }))
          const base = E.appOptions(emulator)
          const build = (options: Partial<AuthorizationCodeCredential.Options>) =>
            Effect.provide(
              AuthorizationCodeCredential.make({ ...base, authorizationCode: Redacted.make(code), ...options }),
              context
            ).pipe(Effect.orDie)

          const victim = yield* build({ codeVerifier: Redacted.make(victimPkce.verifier) })
          const victimToken = E.tokenOf(yield* victim.getToken(emulator.defaults.scope))
          const refreshTokens = yield* Effect.provide(E.cachedRefreshTokens, context)
          assert.strictEqual(refreshTokens.length, 1)

          const attacks: ReadonlyArray<readonly [string, Partial<AuthorizationCodeCredential.Options>]> = [
            ["another verifier", { codeVerifier: Redacted.make(otherVerifier()) }],
            ["no verifier", {}],
            ["another redirect URI", {
              codeVerifier: Redacted.make(victimPkce.verifier),
              redirectUri: "http://127.0.0.1/callback"
            }],
            ["a wrong secret", {
              codeVerifier: Redacted.make(victimPkce.verifier),
              clientSecret: Redacted.make("wrong~Secret.not-the-emulator-one_0123456789")
            }]
          ]
          for (const [attack, options] of attacks) {
            const attacker = yield* build(options)
            // A scope the victim never asked for: adopting the account would spend its refresh token for it.
            for (const scope of [emulator.defaults.scope, "https://graph.microsoft.com/User.Read"]) {
              const error = yield* Effect.flip(attacker.getToken(scope))
              assert.strictEqual(error._tag, "AuthenticationError", `${attack}: ${error.message}`)
              const failure = error as AuthenticationError
              assert.include(["ErrorResponse", "ReauthenticationRequired"], failure.reason, attack)
              assert.isDefined(failure.aadstsCode, `${attack}: Entra's error code`)
              E.assertNoSecret(failure, [victimToken, ...refreshTokens])
            }
            assert.isTrue(Option.isNone(yield* attacker.account), `${attack}: no account`)
            assert.isUndefined(attacker.unsafeCachedToken(emulator.defaults.scope), attack)
          }

          const log = yield* Effect.provide(E.tokenRequests, context)
          // Every attempt reached Entra with the code, which refused it; the refresh token was never sent. A wrong
          // secret (invalid_client) does not spend the code, so that credential sent it again for its second scope.
          assert.deepStrictEqual(E.grantCounts(log), { authorization_code: 1 + attacks.length + 1 })
          assert.isTrue(log.slice(1).every((entry) => entry.status >= 400), "Entra refused every replay")
          // The victim is unaffected.
          assert.strictEqual(E.tokenOf(yield* victim.getToken(emulator.defaults.scope)), victimToken)
        }).pipe(Effect.scoped))

      it.effect("the same sign-in (same verifier and parameters) adopts the redemption: one request", () =>
        Effect.gen(function*() {
          const context = yield* Layer.build(Layer.merge(E.HttpLive, cacheLayer()))
          const emulator = yield* Emulator
          yield* emulator.reset()
          yield* E.wallClock
          const { challenge, verifier } = E.pkce()
          const { code, homeAccountId } = yield* Effect.orDie(emulator.signIn({ codeChallenge: challenge }))
          const options = E.appOptions(emulator)
          // Two processes of a fleet: each got the code and the verifier from the same session.
          const build = () =>
            Effect.provide(
              AuthorizationCodeCredential.make({
                ...options,
                authorizationCode: Redacted.make(code),
                codeVerifier: Redacted.make(verifier)
              }),
              context
            ).pipe(Effect.orDie)
          const first = yield* build()
          const second = yield* build()
          const a = E.tokenOf(yield* first.getToken(emulator.defaults.scope))
          const b = E.tokenOf(yield* second.getToken(emulator.defaults.scope))
          assert.strictEqual(a, b)
          const account = yield* second.account
          assert.strictEqual(Option.getOrThrow(account).homeAccountId, homeAccountId)
          assert.deepStrictEqual(yield* Effect.provide(E.countTokenRequests, context), { authorization_code: 1 })
        }).pipe(Effect.scoped))
    })
  }
})
