/**
 * The Promise facade's client credentials against the emulator over TLS: a certificate (a path or PEM text,
 * RS256 or PS256) and an assertion function, which the emulator verifies against the app's registered
 * certificate; an unregistered certificate refused by Entra; and the sign-in's ID token validated by default (a
 * nonce that is not the sign-in's is refused, nothing is kept).
 */
import type { RunningEmulator } from "@effect-entra/emulator"
import { startEmulator } from "@effect-entra/emulator"
import { afterAll, assert, beforeAll, beforeEach, describe, it } from "@effect/vitest"
import * as Crypto from "node:crypto"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { inspect } from "node:util"
import type { AuthorizationCodeCredentialOptions } from "../../src/promise.js"
import { AuthenticationError, AuthorizationCodeCredential } from "../../src/promise.js"
import * as E from "./fixtures/Emulated.js"

const certs = Path.join(import.meta.dirname, "..", "fixtures", "certs")
const pemPath = Path.join(certs, "client.pem")
const clientId = "6e1c2d3a-4b5c-4d6e-8f70-112233445566"
const redirectUri = "http://localhost:8400/callback"

let emulator: RunningEmulator

beforeAll(async () => {
  emulator = await startEmulator({
    config: {
      apps: [{
        clientId,
        type: "web",
        redirectUris: [redirectUri],
        certificates: [Fs.readFileSync(Path.join(certs, "leaf.crt"), "utf8")]
      }]
    }
  })
})
afterAll(() => emulator.close())
beforeEach(() => emulator.reset())

const apiScope = () => `api://${emulator.defaults.clientId}/access_as_user`

const make = async (options: AuthorizationCodeCredentialOptions, signIn: { readonly nonce?: string } = {}) => {
  const { code } = await emulator.signIn({ clientId, redirectUri, ...signIn })
  return new AuthorizationCodeCredential(emulator.defaults.tenantId, clientId, code, redirectUri, {
    authority: emulator.authority,
    ca: emulator.caPem,
    retryOptions: { maxRetries: 0 },
    requestTimeoutInMs: 5_000,
    ...options
  })
}

const tokenRequests = () => emulator.requests({ endpoint: "token" })

const rejection = (promise: Promise<unknown>) => promise.then(() => undefined, (error: unknown) => error)

/** A client assertion for the app, signed with the registered certificate's key, as a federation service would. */
const signedAssertion = (audience: string) => {
  const pem = Fs.readFileSync(pemPath, "utf8")
  const leaf = new Crypto.X509Certificate(pem)
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url")
  const now = Math.floor(Date.now() / 1000)
  const input = `${
    b64({ alg: "RS256", typ: "JWT", "x5t#S256": Crypto.createHash("sha256").update(leaf.raw).digest("base64url") })
  }.${
    b64({ aud: audience, iss: clientId, sub: clientId, jti: Crypto.randomUUID(), nbf: now, iat: now, exp: now + 300 })
  }`
  return `${input}.${Crypto.sign("sha256", Buffer.from(input), Crypto.createPrivateKey(pem)).toString("base64url")}`
}

describe("the Promise facade's client credentials against the emulator", () => {
  it("clientCertificate (a path, with the chain) and a nonce: the code and a refresh, each with an assertion", async () => {
    const nonce = "n-facade-0S6_WzA2Mj"
    const credential = await make({
      clientCertificate: { certificatePath: pemPath, sendCertificateChain: true },
      nonce
    }, { nonce })
    await credential.getToken(apiScope())
    await credential.getToken("https://graph.microsoft.com/User.Read")
    const requests = await tokenRequests()
    assert.deepStrictEqual(E.grantCounts(requests), { authorization_code: 1, refresh_token: 1 })
    assert.isTrue(requests.every((r) => r.hasClientAssertion && !r.hasClientSecret))
    const account = await credential.getAccount()
    assert.strictEqual(account?.tenantId, emulator.defaults.tenantId)
    assert.strictEqual(account?.username, emulator.defaults.users[0]!.username)
    await credential.close()
  })

  it("clientCertificate as PEM text, signed with PS256", async () => {
    const credential = await make({
      clientCertificate: { certificate: Fs.readFileSync(pemPath, "utf8"), algorithm: "PS256" }
    })
    assert.strictEqual((await credential.getToken(apiScope())).tokenType, "Bearer")
    await credential.close()
  })

  it("clientAssertion: the function's JWT is sent and verified by Entra, a new one per request", async () => {
    const audiences: Array<string> = []
    const audience = `${emulator.authority}/${emulator.defaults.tenantId}/oauth2/v2.0/token`
    const credential = await make({
      clientAssertion: () => {
        audiences.push(audience)
        return Promise.resolve(signedAssertion(audience))
      }
    })
    await credential.getToken(apiScope())
    await credential.getToken("https://graph.microsoft.com/User.Read")
    assert.lengthOf(audiences, 2)
    assert.deepStrictEqual(E.grantCounts(await tokenRequests()), { authorization_code: 1, refresh_token: 1 })
    await credential.close()
  })

  it("a certificate the app did not register: Entra's invalid_client, no key material in the error", async () => {
    const credential = await make({ clientCertificate: { certificatePath: Path.join(certs, "unregistered.pem") } })
    const error = await rejection(credential.getToken(apiScope()))
    assert.instanceOf(error, AuthenticationError)
    assert.strictEqual((error as AuthenticationError).errorResponse.error, "invalid_client")
    assert.notInclude(inspect(error, { depth: 10 }), "PRIVATE KEY")
    await credential.close()
  })

  it("a nonce that is not the sign-in's: InvalidIdToken, no account, the spent code not sent again", async () => {
    const credential = await make({
      clientCertificate: { certificatePath: pemPath },
      nonce: "n-someone-else"
    }, { nonce: "n-the-sign-in" })
    const error = await rejection(credential.getToken(apiScope()))
    assert.strictEqual((error as AuthenticationError).reason, "InvalidIdToken")
    assert.isUndefined(await credential.getAccount())
    const again = await rejection(credential.getToken(apiScope()))
    assert.strictEqual((again as AuthenticationError).reason, "ReauthenticationRequired")
    assert.deepStrictEqual(E.grantCounts(await tokenRequests()), { authorization_code: 1 })
    await credential.close()
  })
})
