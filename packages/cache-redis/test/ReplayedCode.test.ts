/**
 * A replayed authorization code must never adopt another replica's sign-in through Redis. Two cache instances
 * (own connections, own L1: two processes) share a namespace; the victim redeems on one; the same code is then
 * tried on the other with another verifier, with none, with another redirect URI and with a wrong secret, plain and
 * encrypted. Each attempt goes to Entra, which refuses it; the victim's token, account and refresh token stay out
 * of reach. The same sign-in (same verifier) is still adopted with one redemption.
 */
import { type RunningEmulator, startEmulator } from "@effect-entra/emulator"
import { AuthorizationCodeCredential, NodeHttp } from "@effect-entra/identity"
import { assert, it } from "@effect/vitest"
import { Effect, Layer, Option, Redacted } from "effect"
import * as Crypto from "node:crypto"
import { afterAll, beforeAll } from "vitest"
import { RedisTokenCache } from "../src/index.js"
import { describeRedis, type RedisServer, startRedisServer } from "./fixtures/RedisServer.js"

const pkce = () => {
  const verifier = Crypto.randomBytes(48).toString("base64url")
  return { verifier, challenge: Crypto.createHash("sha256").update(verifier).digest("base64url") }
}

describeRedis("a replayed code over Redis", () => {
  let server: RedisServer
  let emulator: RunningEmulator
  beforeAll(async () => {
    server = await startRedisServer()
    emulator = await startEmulator()
  }, 30_000)
  afterAll(async () => {
    await emulator?.close()
    await server?.stop()
  })

  for (const encrypted of [false, true]) {
    const label = encrypted ? "encrypted" : "plain"
    const replica = (namespace: string, key: string | undefined) =>
      Layer.build(Layer.merge(
        RedisTokenCache.layer({
          url: server.url,
          namespace,
          ...(key === undefined ? {} : { encryptionKey: Redacted.make(key) })
        }),
        NodeHttp.layer({ ca: emulator.caPem })
      ))

    it.live(`${label}: replays with another verifier, none, another redirect URI or a wrong secret get Entra's error`, () =>
      Effect.gen(function*() {
        const namespace = `replay-${Crypto.randomUUID().slice(0, 8)}:`
        const key = encrypted ? Crypto.randomBytes(32).toString("base64") : undefined
        const [victimSide, attackerSide] = yield* Effect.all([replica(namespace, key), replica(namespace, key)])
        yield* Effect.promise(() => emulator.clearRequests())
        const victimPkce = pkce()
        const { code } = yield* Effect.promise(() => emulator.signIn({ codeChallenge: victimPkce.challenge }))
        const base: AuthorizationCodeCredential.Options = {
          tenantId: emulator.defaults.tenantId,
          clientId: emulator.defaults.clientId,
          redirectUri: emulator.defaults.redirectUri,
          clientSecret: Redacted.make(emulator.defaults.clientSecret),
          authority: emulator.authority
        }
        const victim = yield* Effect.provide(
          AuthorizationCodeCredential.make({
            ...base,
            authorizationCode: Redacted.make(code),
            codeVerifier: Redacted.make(victimPkce.verifier)
          }),
          victimSide
        )
        const victimToken = Redacted.value((yield* victim.getToken(emulator.defaults.scope)).token)

        const attacks: ReadonlyArray<Partial<AuthorizationCodeCredential.Options>> = [
          { codeVerifier: Redacted.make(pkce().verifier) },
          {},
          { codeVerifier: Redacted.make(victimPkce.verifier), redirectUri: "http://127.0.0.1/callback" },
          {
            codeVerifier: Redacted.make(victimPkce.verifier),
            clientSecret: Redacted.make("wrong~Secret.not-the-emulator-one_0123456789")
          }
        ]
        for (const options of attacks) {
          const attacker = yield* Effect.provide(
            AuthorizationCodeCredential.make({ ...base, authorizationCode: Redacted.make(code), ...options }),
            attackerSide
          )
          const error = yield* Effect.flip(attacker.getToken("https://graph.microsoft.com/User.Read"))
          assert.strictEqual(error._tag, "AuthenticationError", error.message)
          if (error._tag === "AuthenticationError") assert.isDefined(error.aadstsCode, error.message)
          assert.isFalse(error.message.includes(victimToken))
          assert.isTrue(Option.isNone(yield* attacker.account))
        }
        const log = yield* Effect.promise(() => emulator.requests({ endpoint: "token" }))
        assert.deepStrictEqual(log.map((entry) => entry.grantType), Array(5).fill("authorization_code"))
        assert.isTrue(log.slice(1).every((entry) => entry.status >= 400))
      }).pipe(Effect.scoped))

    it.live(`${label}: another replica with the same sign-in (same verifier) adopts it: one redemption`, () =>
      Effect.gen(function*() {
        const namespace = `replay-${Crypto.randomUUID().slice(0, 8)}:`
        const key = encrypted ? Crypto.randomBytes(32).toString("base64") : undefined
        const replicas = yield* Effect.all([replica(namespace, key), replica(namespace, key)])
        yield* Effect.promise(() => emulator.clearRequests())
        const { challenge, verifier } = pkce()
        const { code } = yield* Effect.promise(() => emulator.signIn({ codeChallenge: challenge }))
        const options: AuthorizationCodeCredential.Options = {
          tenantId: emulator.defaults.tenantId,
          clientId: emulator.defaults.clientId,
          redirectUri: emulator.defaults.redirectUri,
          clientSecret: Redacted.make(emulator.defaults.clientSecret),
          authority: emulator.authority,
          authorizationCode: Redacted.make(code),
          codeVerifier: Redacted.make(verifier)
        }
        const [a, b] = yield* Effect.forEach(
          replicas,
          (context) => Effect.provide(AuthorizationCodeCredential.make(options), context)
        )
        const first = Redacted.value((yield* a!.getToken(emulator.defaults.scope)).token)
        const second = Redacted.value((yield* b!.getToken(emulator.defaults.scope)).token)
        assert.strictEqual(first, second)
        const log = yield* Effect.promise(() => emulator.requests({ endpoint: "token" }))
        assert.deepStrictEqual(log.map((entry) => entry.grantType), ["authorization_code"])
      }).pipe(Effect.scoped))
  }
})
