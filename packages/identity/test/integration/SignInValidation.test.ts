/**
 * Against the emulator over TLS: the ID token of a code's redemption validated with the tenant's published keys
 * (discovery and JWKS over TLS, RS256), each way it can be wrong (a tampered signature, another audience, another
 * issuer, expired, not yet valid, another nonce); and a certificate credential the emulator verifies.
 *
 * The credential reads time from the Effect clock: each test sets the TestClock to the wall clock first.
 */
import { Emulator } from "@effect-entra/emulator"
import { assert, layer } from "@effect/vitest"
import { Effect, Option, Redacted, TestClock } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import type { AuthenticationError } from "../../src/AuthenticationError.js"
import * as AuthorizationCodeCredential from "../../src/AuthorizationCodeCredential.js"
import * as IdTokenValidator from "../../src/IdTokenValidator.js"
import * as TokenCache from "../../src/TokenCache.js"
import * as TokenEndpoint from "../../src/TokenEndpoint.js"
import * as E from "./fixtures/Emulated.js"

const certs = Path.join(import.meta.dirname, "..", "fixtures", "certs")
const certClientId = "6e1c2d3a-4b5c-4d6e-8f70-112233445566"
const certRedirectUri = "http://localhost:8400/callback"
const nonce = "n-0S6_WzA2Mj"

const EmulatorWithCertificateApp = Emulator.layer({
  config: {
    apps: [{
      clientId: certClientId,
      type: "web",
      redirectUris: [certRedirectUri],
      certificates: [Fs.readFileSync(Path.join(certs, "leaf.crt"), "utf8")]
    }]
  }
})

const wallClock = TestClock.setTime(Date.now())

/** A code from the emulator's authorize endpoint and the options of a credential that redeems it. */
const signedIn = (
  signIn: { readonly nonce?: string; readonly clientId?: string; readonly redirectUri?: string } = {}
) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator
    yield* emulator.reset()
    yield* wallClock
    const { code } = yield* Effect.orDie(emulator.signIn(signIn))
    const options: AuthorizationCodeCredential.Options = {
      tenantId: emulator.defaults.tenantId,
      clientId: signIn.clientId ?? emulator.defaults.clientId,
      redirectUri: signIn.redirectUri ?? emulator.defaults.redirectUri,
      clientSecret: Redacted.make(emulator.defaults.clientSecret),
      authority: emulator.authority,
      authorizationCode: Redacted.make(code),
      http: E.fastHttp
    }
    return { emulator, options }
  })

const invalidIdToken = (error: unknown, description: RegExp) => {
  const failure = error as AuthenticationError
  assert.strictEqual(failure.reason, "InvalidIdToken", failure.message)
  assert.match(failure.errorResponse.errorDescription, description)
}

/** A real redemption's ID token, to hand to the validator with other expectations. */
const realIdToken = Effect.gen(function*() {
  const { emulator, options } = yield* signedIn()
  const endpoint = yield* TokenEndpoint.make(E.fastHttp)
  const response = yield* Effect.orDie(endpoint.redeemCode({
    authority: emulator.authority,
    tenantId: options.tenantId,
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    scopes: [emulator.defaults.scope],
    code: options.authorizationCode!,
    redirectUri: options.redirectUri
  }))
  return { emulator, idToken: response.idToken! }
})

layer(EmulatorWithCertificateApp)("a validated sign-in against the emulator", (it) => {
  it.effect("a valid sign-in: the account is the validated claims', the keys fetched once", () =>
    Effect.gen(function*() {
      const { emulator, options } = yield* signedIn({ nonce })
      const credential = yield* AuthorizationCodeCredential.make({ ...options, nonce })
      yield* credential.getToken(emulator.defaults.scope)
      yield* credential.getToken("https://graph.microsoft.com/User.Read")
      const account = Option.getOrThrow(yield* credential.account)
      assert.strictEqual(account.tenantId, emulator.defaults.tenantId)
      assert.strictEqual(account.username, emulator.defaults.users[0]!.username)
      assert.lengthOf(yield* emulator.requests({ endpoint: "openid-configuration" }), 1)
      assert.lengthOf(yield* emulator.requests({ endpoint: "keys" }), 1)
    }).pipe(E.withCredentialDeps))

  it.effect("another nonce: InvalidIdToken, nothing cached, and the spent code is not sent again", () =>
    Effect.gen(function*() {
      const { emulator, options } = yield* signedIn({ nonce })
      const credential = yield* AuthorizationCodeCredential.make({ ...options, nonce: "n-someone-else" })
      invalidIdToken(yield* Effect.flip(credential.getToken(emulator.defaults.scope)), /nonce/)
      assert.isTrue(Option.isNone(yield* credential.account))
      assert.isUndefined(credential.unsafeCachedToken(emulator.defaults.scope))
      assert.lengthOf(yield* Effect.flatMap(TokenCache.TokenCache, (cache) => cache.listAccounts), 0)
      const again = (yield* Effect.flip(credential.getToken(emulator.defaults.scope))) as AuthenticationError
      assert.strictEqual(again.reason, "ReauthenticationRequired")
      assert.deepStrictEqual(yield* E.countTokenRequests, { authorization_code: 1 })
    }).pipe(E.withCredentialDeps))

  it.effect("a tampered signature (an endpoint that alters the ID token), with the context's validator", () =>
    Effect.gen(function*() {
      const { emulator, options } = yield* signedIn()
      const real = yield* TokenEndpoint.make(E.fastHttp)
      const tampering = TokenEndpoint.TokenEndpoint.of({
        ...real,
        redeemCode: (request) =>
          Effect.map(real.redeemCode(request), (response) => {
            const [h, p, s] = Redacted.value(response.idToken!).split(".") as [string, string, string]
            const flipped = Buffer.from(s, "base64url")
            flipped[10] = flipped[10]! ^ 1
            return { ...response, idToken: Redacted.make(`${h}.${p}.${flipped.toString("base64url")}`) }
          })
      })
      const credential = yield* AuthorizationCodeCredential.makeWithoutTokenEndpoint({
        ...options,
        validateIdToken: true
      }).pipe(
        Effect.provideService(TokenEndpoint.TokenEndpoint, tampering),
        Effect.provide(IdTokenValidator.layer())
      )
      invalidIdToken(yield* Effect.flip(credential.getToken(emulator.defaults.scope)), /signature is invalid/)
    }).pipe(E.withCredentialDeps))

  it.effect("the emulator's own token refused for another audience and for another tenant's issuer", () =>
    Effect.gen(function*() {
      const { emulator, idToken } = yield* realIdToken
      const validator = yield* IdTokenValidator.make()
      const base = {
        idToken,
        authority: emulator.authority,
        tenantId: emulator.defaults.tenantId,
        clientId: emulator.defaults.clientId
      }
      yield* validator.validate(base)
      invalidIdToken(yield* Effect.flip(validator.validate({ ...base, clientId: certClientId })), /audience/)
      invalidIdToken(
        yield* Effect.flip(validator.validate({ ...base, tenantId: emulator.defaults.otherTenantId })),
        /issuer/
      )
      // The multi-tenant alias: the {tenantid} template filled in with the token's tid.
      yield* validator.validate({ ...base, tenantId: "organizations" })
    }).pipe(E.withCredentialDeps))

  it.effect("expired beyond the 5-minute skew, and not yet valid (the emulator's clock an hour ahead)", () =>
    Effect.gen(function*() {
      const { emulator, idToken } = yield* realIdToken
      const validator = yield* IdTokenValidator.make()
      const request = {
        idToken,
        authority: emulator.authority,
        tenantId: emulator.defaults.tenantId,
        clientId: emulator.defaults.clientId
      }
      const exp = E.jwtPayload(Redacted.value(idToken)).exp as number
      yield* TestClock.setTime((exp + 299) * 1000)
      yield* validator.validate(request)
      yield* TestClock.setTime((exp + 301) * 1000)
      invalidIdToken(yield* Effect.flip(validator.validate(request)), /expired/)

      const { options } = yield* signedIn()
      // A new code, signed in on a clock an hour ahead of ours.
      yield* Effect.orDie(emulator.advanceTime(3_600_000))
      const { code } = yield* Effect.orDie(emulator.signIn())
      const credential = yield* AuthorizationCodeCredential.make({
        ...options,
        authorizationCode: Redacted.make(code),
        validateIdToken: true
      })
      invalidIdToken(yield* Effect.flip(credential.getToken(emulator.defaults.scope)), /not valid yet|future/)
    }).pipe(E.withCredentialDeps))

  it.effect("a certificate credential: the emulator verifies its assertion for the code and the refresh", () =>
    Effect.gen(function*() {
      const { emulator, options } = yield* signedIn({ clientId: certClientId, redirectUri: certRedirectUri, nonce })
      const credential = yield* AuthorizationCodeCredential.make({
        ...options,
        clientSecret: undefined,
        clientCertificate: { certificatePath: Path.join(certs, "client.pem"), sendCertificateChain: true },
        nonce
      })
      yield* credential.getToken(`api://${emulator.defaults.clientId}/access_as_user`)
      yield* credential.renew(`api://${emulator.defaults.clientId}/access_as_user`)
      assert.deepStrictEqual(yield* E.countTokenRequests, { authorization_code: 1, refresh_token: 1 })
    }).pipe(E.withCredentialDeps))

  it.effect("a certificate the app did not register: Entra's invalid_client, the code not spent", () =>
    Effect.gen(function*() {
      const { emulator, options } = yield* signedIn({ clientId: certClientId, redirectUri: certRedirectUri })
      const credential = yield* AuthorizationCodeCredential.make({
        ...options,
        clientSecret: undefined,
        clientCertificate: { certificatePath: Path.join(certs, "unregistered.pem") }
      })
      const error = (yield* Effect.flip(credential.getToken(emulator.defaults.scope))) as AuthenticationError
      assert.strictEqual(error.errorResponse.error, "invalid_client", error.message)
      const pem = Fs.readFileSync(Path.join(certs, "unregistered.pem"), "utf8")
      E.assertNoSecret(error, [pem.slice(pem.indexOf("PRIVATE KEY-----") + 20, pem.indexOf("PRIVATE KEY-----") + 60)])
    }).pipe(E.withCredentialDeps))
})
