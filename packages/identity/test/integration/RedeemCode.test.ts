import { assert, describe, layer } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import * as E from "./fixtures/Emulated.js"

const graphUser = "https://graph.microsoft.com/User.Read"
const graphMail = "https://graph.microsoft.com/Mail.Read"

layer(E.EmulatorLive)("RedeemCode against the emulator", (it) => {
  describe("exactly once", () => {
    it.effect("120 concurrent first calls for the same scope redeem the code once", () =>
      E.withCredentialDeps(Effect.gen(function*() {
        const { credential, emulator } = yield* E.setup()
        const tokens = yield* Effect.all(
          Array.from({ length: 120 }, () => Effect.map(credential.getToken(emulator.defaults.scope), E.tokenOf)),
          { concurrency: "unbounded" }
        )
        assert.strictEqual(new Set(tokens).size, 1)
        assert.deepStrictEqual(yield* E.countTokenRequests, { authorization_code: 1 })
      })))

    it.effect("150 concurrent first calls over three scope sets: one redemption, one refresh per other set", () =>
      E.withCredentialDeps(Effect.gen(function*() {
        const { credential, emulator } = yield* E.setup()
        const sets = [[emulator.defaults.scope], [graphUser], [graphMail]] as const
        const results = yield* Effect.all(
          Array.from(
            { length: 150 },
            (_, i) => Effect.map(credential.getToken(sets[i % 3]!), (t) => [i % 3, E.tokenOf(t)] as const)
          ),
          { concurrency: "unbounded" }
        )
        const bySet = new Map<number, Set<string>>()
        for (const [set, token] of results) bySet.set(set, (bySet.get(set) ?? new Set()).add(token))
        assert.deepStrictEqual([...bySet.values()].map((tokens) => tokens.size), [1, 1, 1])
        assert.strictEqual(new Set(results.map(([, token]) => token)).size, 3)

        const log = yield* E.tokenRequests
        assert.deepStrictEqual(E.grantCounts(log), { authorization_code: 1, refresh_token: 2 })
        // The code went out first and only once: nothing was answered "already redeemed" (AADSTS54005).
        assert.strictEqual(log[0]!.grantType, "authorization_code")
        assert.isTrue(log.every((entry) => entry.status === 200 && entry.errorCode === undefined))
      })))

    it.effect("later calls never send the code again", () =>
      E.withCredentialDeps(Effect.gen(function*() {
        const { credential, emulator } = yield* E.setup()
        yield* credential.getToken(emulator.defaults.scope)
        yield* credential.getToken(graphUser)
        yield* credential.getToken(graphMail)
        yield* credential.getToken(emulator.defaults.scope)
        const log = yield* E.tokenRequests
        assert.deepStrictEqual(E.grantCounts(log), { authorization_code: 1, refresh_token: 2 })
        assert.isFalse(log.some((entry) => entry.errorCode === 54005))
        const account = yield* credential.account
        assert.strictEqual(account._tag, "Some")
      })))
  })

  describe("PKCE and client authentication", () => {
    it.effect("a code from an S256 sign-in redeems with its verifier", () =>
      E.withCredentialDeps(Effect.gen(function*() {
        const { challenge, verifier } = E.pkce()
        const { credential, emulator } = yield* E.setup(
          { codeVerifier: Redacted.make(verifier) },
          { codeChallenge: challenge, codeChallengeMethod: "S256" }
        )
        const token = yield* credential.getToken(emulator.defaults.scope)
        assert.strictEqual(E.jwtPayload(E.tokenOf(token))["scp"], "access_as_user")
        const [entry] = yield* E.tokenRequests
        assert.strictEqual(entry!.status, 200)
        assert.isTrue(entry!.hasCodeVerifier)
        assert.isTrue(entry!.hasClientSecret)
      })))

    it.effect("a wrong verifier fails with 400 AADSTS501481, then asks for a new sign-in without a request", () =>
      E.withCredentialDeps(Effect.gen(function*() {
        const { challenge } = E.pkce()
        const wrong = E.pkce().verifier
        const { credential, emulator, secrets } = yield* E.setup(
          { codeVerifier: Redacted.make(wrong) },
          { codeChallenge: challenge }
        )
        const error = yield* Effect.flip(credential.getToken(emulator.defaults.scope))
        assert.strictEqual(error._tag, "AuthenticationError")
        if (error._tag !== "AuthenticationError") return
        assert.strictEqual(error.reason, "ErrorResponse")
        assert.strictEqual(error.statusCode, 400)
        assert.strictEqual(error.aadstsCode, 501481)
        assert.strictEqual(error.errorResponse.error, "invalid_grant")
        assert.deepStrictEqual(error.errorResponse.errorCodes, [501481])
        assert.match(error.message, /^AADSTS501481: .*\(invalid_grant, HTTP 400\)$/)
        assert.strictEqual(error.grantType, "authorization_code")
        assert.strictEqual(error.attempts, 1)
        assert.isTrue(error.isInteractionRequired)
        E.assertNoSecret(error, secrets)

        // The rejection is definite: the credential does not try the code again.
        const again = yield* Effect.flip(credential.getToken(emulator.defaults.scope))
        assert.strictEqual(again._tag, "AuthenticationError")
        if (again._tag === "AuthenticationError") {
          assert.strictEqual(again.reason, "ReauthenticationRequired")
          assert.strictEqual(again.aadstsCode, 501481)
          assert.isTrue(again.isInteractionRequired)
        }
        const log = yield* E.tokenRequests
        assert.strictEqual(log.length, 1)
        assert.strictEqual(log[0]!.errorCode, 501481)
      })))

    it.effect("a wrong client secret fails with 401 AADSTS7000215 and Entra's error fields", () =>
      E.withCredentialDeps(Effect.gen(function*() {
        const { credential, emulator, secrets } = yield* E.setup({
          clientSecret: Redacted.make("wrong~Secret.not-the-emulator-one_0123456789")
        })
        const error = yield* Effect.flip(credential.getToken(emulator.defaults.scope))
        assert.strictEqual(error._tag, "AuthenticationError")
        if (error._tag !== "AuthenticationError") return
        assert.strictEqual(error.reason, "ErrorResponse")
        assert.strictEqual(error.statusCode, 401)
        assert.strictEqual(error.aadstsCode, 7000215)
        const response = error.errorResponse
        assert.strictEqual(response.error, "invalid_client")
        assert.deepStrictEqual(response.errorCodes, [7000215])
        assert.match(response.errorDescription, /^AADSTS7000215: Invalid client secret provided/)
        assert.match(response.traceId ?? "", /^[0-9a-f-]{36}$/)
        assert.match(response.correlationId ?? "", /^[0-9a-f-]{36}$/)
        assert.include(response.errorDescription, `Trace ID: ${response.traceId}`)
        assert.include(response.errorDescription, `Correlation ID: ${response.correlationId}`)
        assert.isString(response.timestamp)
        assert.include(response.errorUri ?? "", "7000215")
        assert.isFalse(error.isInteractionRequired)
        E.assertNoSecret(error, secrets)
        const [entry] = yield* E.tokenRequests
        assert.strictEqual(entry!.status, 401)
        assert.strictEqual(entry!.errorCode, 7000215)
      })))
  })
})
