/**
 * Client certificates and assertions: the `client_assertion` each token request carries is decoded and verified
 * (signature with the certificate's public key, every header and claim), fresh per request; the options are
 * checked before any request; no secret reaches an error or a log.
 */
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Context, Effect, Layer, Logger, Option, Redacted, TestClock } from "effect"
import * as Crypto from "node:crypto"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { inspect } from "node:util"
import type { AuthenticationError, InvalidOptionError } from "../src/AuthenticationError.js"
import * as AuthorizationCodeCredential from "../src/AuthorizationCodeCredential.js"
import * as ClientCredential from "../src/ClientCredential.js"
import { redemptionKey } from "../src/internal/redemptionBinding.js"
import * as TokenCache from "../src/TokenCache.js"
import * as ScriptedEntra from "./fixtures/ScriptedEntra.js"

const certs = Path.join(import.meta.dirname, "fixtures", "certs")
const pemPath = Path.join(certs, "client.pem")
const pem = Fs.readFileSync(pemPath, "utf8")
const leaf = new Crypto.X509Certificate(Fs.readFileSync(Path.join(certs, "leaf.crt")))
const ca = new Crypto.X509Certificate(Fs.readFileSync(Path.join(certs, "ca.crt")))
const now = 1_800_000_000_000
const audience = "https://login.example/home-tenant/oauth2/v2.0/token"
const scope = "api://resource/.default"
const jwtBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

const part = (jwt: string, index: number) =>
  JSON.parse(Buffer.from(jwt.split(".")[index]!, "base64url").toString("utf8")) as Record<string, unknown>

const verifies = (jwt: string, algorithm: "RS256" | "PS256") => {
  const [h, p, s] = jwt.split(".") as [string, string, string]
  const key = algorithm === "PS256"
    ? {
      key: leaf.publicKey,
      padding: Crypto.constants.RSA_PKCS1_PSS_PADDING,
      saltLength: Crypto.constants.RSA_PSS_SALTLEN_DIGEST
    }
    : leaf.publicKey
  return Crypto.verify("sha256", Buffer.from(`${h}.${p}`), key, Buffer.from(s, "base64url"))
}

/** A credential on the scripted endpoint; the test reads the forms it sent. */
const setup = (overrides: Partial<AuthorizationCodeCredential.Options>) =>
  Effect.gen(function*() {
    yield* TestClock.setTime(now)
    const entra = ScriptedEntra.make()
    const code = entra.issueCode(ScriptedEntra.alice)
    const credential = yield* ScriptedEntra.credential(entra, code, overrides)
    return { entra, credential }
  }).pipe(Effect.provide(TokenCache.layerMemory))

const assertions = (entra: ScriptedEntra.ScriptedEntra) => entra.requests.map((r) => r.form.client_assertion!)

describe("clientCertificate", () => {
  it.scoped("signs an RS256 client_assertion the certificate's public key verifies, with every header and claim", () =>
    Effect.gen(function*() {
      const { credential, entra } = yield* setup({ clientCertificate: { certificatePath: pemPath } })
      yield* credential.getToken(scope)
      const form = entra.requests[0]!.form
      assert.strictEqual(form.client_assertion_type, jwtBearer)
      assert.isUndefined(form.client_secret)
      const jwt = form.client_assertion!
      assert.isTrue(verifies(jwt, "RS256"), "signature")
      assert.deepStrictEqual(part(jwt, 0), {
        alg: "RS256",
        typ: "JWT",
        "x5t#S256": Crypto.createHash("sha256").update(leaf.raw).digest("base64url"),
        x5t: Crypto.createHash("sha1").update(leaf.raw).digest("base64url")
      })
      const claims = part(jwt, 1)
      assert.match(String(claims.jti), /^[0-9a-f-]{36}$/)
      assert.deepStrictEqual(claims, {
        aud: audience,
        iss: "client-1",
        sub: "client-1",
        jti: claims.jti,
        nbf: now / 1000,
        iat: now / 1000,
        exp: now / 1000 + 600
      })
    }))

  it.scoped("PS256 with the chain as x5c (leaf first), from PEM text", () =>
    Effect.gen(function*() {
      const { credential, entra } = yield* setup({
        clientCertificate: { certificate: Redacted.make(pem), sendCertificateChain: true, algorithm: "PS256" }
      })
      yield* credential.getToken(scope)
      const jwt = entra.requests[0]!.form.client_assertion!
      assert.isTrue(verifies(jwt, "PS256"))
      assert.isFalse(verifies(jwt, "RS256"))
      const header = part(jwt, 0)
      assert.strictEqual(header.alg, "PS256")
      assert.deepStrictEqual(header.x5c, [leaf.raw.toString("base64"), ca.raw.toString("base64")])
    }))

  it.scoped("every token request, refresh included, carries a fresh assertion (another jti, the new time)", () =>
    Effect.gen(function*() {
      const { credential, entra } = yield* setup({ clientCertificate: { certificatePath: pemPath } })
      yield* credential.getToken(scope)
      yield* TestClock.adjust("90 seconds")
      yield* credential.renew(scope)
      assert.deepStrictEqual(entra.requests.map((r) => r.form.grant_type), ["authorization_code", "refresh_token"])
      const [first, second] = assertions(entra).map((jwt) => part(jwt, 1))
      assert.notStrictEqual(first!.jti, second!.jti)
      assert.strictEqual(second!.iat, now / 1000 + 90)
      assert.strictEqual(second!.aud, audience)
    }))

  it.scoped("an encrypted key opens with its password", () =>
    Effect.gen(function*() {
      const { credential, entra } = yield* setup({
        clientCertificate: {
          certificatePath: Path.join(certs, "client-encrypted.pem"),
          password: Redacted.make("correct-horse")
        }
      })
      yield* credential.getToken(scope)
      assert.isTrue(verifies(entra.requests[0]!.form.client_assertion!, "RS256"))
    }))
})

describe("options are checked before any request", () => {
  const invalid = (overrides: Partial<AuthorizationCodeCredential.Options>, at = now) =>
    Effect.gen(function*() {
      yield* TestClock.setTime(at)
      const entra = ScriptedEntra.make()
      const error = yield* Effect.flip(Effect.scoped(ScriptedEntra.credential(entra, "code-1", overrides)))
      assert.strictEqual(entra.requests.length, 0)
      return error as InvalidOptionError
    }).pipe(Effect.provide(TokenCache.layerMemory))

  const cases: ReadonlyArray<readonly [string, Partial<AuthorizationCodeCredential.Options>, string, RegExp]> = [
    [
      "two credentials",
      {
        clientSecret: Redacted.make("s3cret-value"),
        clientCertificate: { certificatePath: pemPath }
      },
      "clientCertificate",
      /one client credential/
    ],
    [
      "a secret and an assertion",
      {
        clientSecret: Redacted.make("s3cret-value"),
        clientAssertion: Effect.succeed(Redacted.make("a.b.c"))
      },
      "clientAssertion",
      /one client credential/
    ],
    [
      "unreadable PEM",
      { clientCertificate: { certificate: Redacted.make("not a PEM at all") } },
      "clientCertificate",
      /no private key/
    ],
    [
      "a key that is not the certificate's",
      {
        clientCertificate: { certificatePath: Path.join(certs, "mismatched.pem") }
      },
      "clientCertificate",
      /does not match/
    ],
    ["an EC key", { clientCertificate: { certificatePath: Path.join(certs, "ec.pem") } }, "clientCertificate", /RSA/],
    [
      "an encrypted key without its password",
      {
        clientCertificate: { certificatePath: Path.join(certs, "client-encrypted.pem") }
      },
      "clientCertificate",
      /unreadable/
    ],
    [
      "a wrong password",
      {
        clientCertificate: {
          certificatePath: Path.join(certs, "client-encrypted.pem"),
          password: Redacted.make("wrong-password-value")
        }
      },
      "clientCertificate",
      /password is wrong/
    ],
    [
      "a missing file",
      { clientCertificate: { certificatePath: Path.join(certs, "absent.pem") } },
      "clientCertificate",
      /ENOENT/
    ],
    ["a nonce with validation turned off", { nonce: "n-1", validateIdToken: false }, "nonce", /validateIdToken/],
    [
      "an assertion that is not an Effect",
      {
        clientAssertion: (() => "a.b.c") as unknown as ClientCredential.AssertionSource
      },
      "clientAssertion",
      /Effect/
    ]
  ]
  for (const [name, overrides, field, reason] of cases) {
    it.effect(name, () =>
      Effect.gen(function*() {
        const error = yield* invalid(overrides)
        assert.strictEqual(error._tag, "InvalidOptionError")
        assert.strictEqual(error.field, field)
        assert.match(error.reason, reason)
        for (const text of [error.message, inspect(error), JSON.stringify(error)]) {
          for (const secret of ["PRIVATE KEY", "s3cret-value", "wrong-password-value", pem.slice(100, 140)]) {
            assert.notInclude(text, secret)
          }
        }
      }))
  }

  it.effect("an expired certificate, by the Clock", () =>
    Effect.gen(function*() {
      const error = yield* invalid({ clientCertificate: { certificatePath: pemPath } }, Date.parse(leaf.validTo) + 1)
      assert.match(error.reason, /expired/)
    }))
})

/** The credential from `layerConfig`, built in the test's scope. */
const fromConfig = (entra: ScriptedEntra.ScriptedEntra, provider: ConfigProvider.ConfigProvider) =>
  Effect.map(
    Layer.build(
      AuthorizationCodeCredential.layerConfig().pipe(
        Layer.provide(Layer.merge(entra.layer, TokenCache.layerMemory)),
        Layer.provide(Layer.setConfigProvider(provider))
      )
    ),
    Context.get(AuthorizationCodeCredential.AuthorizationCodeCredential)
  )

describe("clientAssertion", () => {
  it.scoped("the Effect is called for every token request and its JWT sent as is", () =>
    Effect.gen(function*() {
      let calls = 0
      const source = Effect.sync(() => Redacted.make(`header.payload-${++calls}.signature`))
      const { credential, entra } = yield* setup({ clientAssertion: source })
      yield* credential.getToken(scope)
      yield* credential.renew(scope)
      assert.strictEqual(calls, 2)
      assert.deepStrictEqual(assertions(entra), ["header.payload-1.signature", "header.payload-2.signature"])
      assert.isTrue(entra.requests.every((r) => r.form.client_assertion_type === jwtBearer))
    }))

  it.scoped("a failing source fails the request before it is sent, without its secret", () =>
    Effect.gen(function*() {
      const source = Effect.fail(new Error("token file unreadable"))
      const { credential, entra } = yield* setup({ clientAssertion: source })
      const error = (yield* Effect.flip(credential.getToken(scope))) as AuthenticationError
      assert.strictEqual(error.reason, "InvalidRequest")
      assert.strictEqual(error.errorResponse.error, "invalid_client")
      assert.strictEqual(entra.requests.length, 0)
    }))

  it.scoped("AZURE_FEDERATED_TOKEN_FILE is read for every request (a rotated token is used)", () =>
    Effect.gen(function*() {
      const file = Path.join(Fs.mkdtempSync(Path.join(Os.tmpdir(), "effect-entra-federated-")), "token")
      Fs.writeFileSync(file, "first.federated.token\n")
      const entra = ScriptedEntra.make()
      const code = entra.issueCode(ScriptedEntra.alice)
      const provider = ConfigProvider.fromMap(
        new Map([
          ["AZURE_TENANT_ID", "home-tenant"],
          ["AZURE_CLIENT_ID", "client-1"],
          ["AZURE_REDIRECT_URI", "http://localhost/callback"],
          ["AZURE_AUTHORITY_HOST", "https://login.example"],
          ["AZURE_AUTHORIZATION_CODE", code],
          ["AZURE_FEDERATED_TOKEN_FILE", file]
        ])
      )
      const credential = yield* fromConfig(entra, provider)
      yield* credential.getToken(scope)
      Fs.writeFileSync(file, "second.federated.token\n")
      yield* credential.renew(scope)
      assert.deepStrictEqual(assertions(entra), ["first.federated.token", "second.federated.token"])
    }))

  it.scoped("AZURE_CLIENT_CERTIFICATE_PATH and AZURE_CLIENT_SEND_CERTIFICATE_CHAIN in layerConfig", () =>
    Effect.gen(function*() {
      const entra = ScriptedEntra.make()
      const code = entra.issueCode(ScriptedEntra.alice)
      const provider = ConfigProvider.fromMap(
        new Map([
          ["AZURE_TENANT_ID", "home-tenant"],
          ["AZURE_CLIENT_ID", "client-1"],
          ["AZURE_REDIRECT_URI", "http://localhost/callback"],
          ["AZURE_AUTHORITY_HOST", "https://login.example"],
          ["AZURE_AUTHORIZATION_CODE", code],
          ["AZURE_CLIENT_CERTIFICATE_PATH", Path.join(certs, "client-encrypted.pem")],
          ["AZURE_CLIENT_CERTIFICATE_PASSWORD", "correct-horse"],
          ["AZURE_CLIENT_SEND_CERTIFICATE_CHAIN", "true"]
        ])
      )
      const credential = yield* fromConfig(entra, provider)
      yield* credential.getToken(scope)
      const jwt = assertions(entra)[0]!
      assert.isTrue(verifies(jwt, "RS256"))
      assert.lengthOf(part(jwt, 0).x5c as Array<string>, 1)
    }))
})

describe("the Promise facade's shape", () => {
  it.scoped("fromPromiseOptions: a PEM string and its password, or clientAssertion called per request", () =>
    Effect.gen(function*() {
      const encrypted = Fs.readFileSync(Path.join(certs, "client-encrypted.pem"), "utf8")
      const certificate = yield* ClientCredential.fromPromiseOptions({
        clientCertificate: { certificate: encrypted, certificatePassword: "correct-horse", algorithm: "PS256" }
      })
      assert.isUndefined(certificate.clientAssertion)
      const withCertificate = yield* setup(certificate)
      yield* withCertificate.credential.getToken(scope)
      assert.isTrue(verifies(assertions(withCertificate.entra)[0]!, "PS256"))

      let calls = 0
      const federated = yield* setup(
        yield* ClientCredential.fromPromiseOptions({
          clientAssertion: () => Promise.resolve(`h.p${++calls}.s`)
        })
      )
      yield* federated.credential.getToken(scope)
      yield* federated.credential.renew(scope)
      assert.deepStrictEqual(assertions(federated.entra), ["h.p1.s", "h.p2.s"])
    }))

  it.effect("fromPromiseOptions: a field of the wrong type is an InvalidOptionError naming it", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [unknown, string]> = [
        [{ clientAssertion: "h.p.s" }, "clientAssertion"],
        [{ clientCertificate: "cert.pem" }, "clientCertificate"],
        [{ clientCertificate: { certificate: Buffer.from("PEM") } }, "clientCertificate.certificate"],
        [
          { clientCertificate: { certificatePath: "a.pem", certificatePassword: 42 } },
          "clientCertificate.certificatePassword"
        ]
      ]
      for (const [options, field] of cases) {
        const error = yield* Effect.flip(
          ClientCredential.fromPromiseOptions(options as ClientCredential.PromiseOptions)
        )
        assert.strictEqual(error.field, field)
      }
    }))
})

describe("secrets", () => {
  it.scoped("an assertion Entra refuses appears in no error rendering and no log", () =>
    Effect.gen(function*() {
      const logs: Array<string> = []
      const logger = Logger.make(({ annotations, message }) => {
        logs.push(inspect({ message, annotations: [...annotations] }, { depth: 10 }))
      })
      const { credential, entra } = yield* setup({ clientCertificate: { certificatePath: pemPath } })
      entra.script.push({
        _tag: "Respond",
        status: 401,
        body: ScriptedEntra.errorBody("invalid_client", 700027, "Client assertion failed signature validation.")
      })
      const error = (yield* Effect.flip(credential.getToken(scope)).pipe(
        Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
        Effect.withLogSpan("test")
      )) as AuthenticationError
      assert.strictEqual(error.errorResponse.error, "invalid_client")
      const jwt = assertions(entra)[0]!
      const signature = jwt.split(".")[2]!
      for (
        const text of [error.message, inspect(error, { depth: 10 }), JSON.stringify(error), error.body ?? "", ...logs]
      ) {
        assert.notInclude(text, signature)
      }
    }))
})

describe("the redemption record", () => {
  it.effect("is bound to the certificate's identity; a secret's key is unchanged", () =>
    Effect.gen(function*() {
      const binding = {
        authority: "https://login.example",
        tenantId: "home-tenant",
        clientId: "client-1",
        redirectUri: "http://localhost/callback",
        clientSecret: undefined,
        codeVerifier: Redacted.make("v".repeat(43))
      }
      const code = Redacted.make("the-code")
      const key = (clientCredentialId?: string) =>
        Effect.sync(() => Option.getOrThrow(redemptionKey({ ...binding, clientCredentialId }, code)))
      const loaded = ClientCredential.fromCertificate({ certificatePath: pemPath }, "client-1")
      assert.isTrue(loaded._tag === "Right")
      const certificateId = loaded._tag === "Right" ? loaded.right.id : ""
      assert.strictEqual(certificateId, `x5t#S256:${Crypto.createHash("sha256").update(leaf.raw).digest("base64url")}`)
      const none = yield* key()
      assert.notStrictEqual(yield* key(certificateId), none)
      assert.notStrictEqual(yield* key("federated"), yield* key(certificateId))
      assert.strictEqual(yield* key(undefined), none)
    }))

  it.effect("has the key WebCrypto's HMAC gave before (records written by an older process are still found)", () =>
    Effect.gen(function*() {
      const verifier = "v".repeat(43)
      const binding = {
        authority: "https://login.example",
        tenantId: "Home-Tenant",
        clientId: "client-1",
        redirectUri: "http://localhost/callback",
        clientSecret: Redacted.make("s3cret"),
        codeVerifier: Redacted.make(verifier)
      }
      const message = JSON.stringify([
        "effect-entra/redemption/v1",
        binding.authority,
        "home-tenant",
        binding.clientId,
        binding.redirectUri,
        "s3cret",
        "the-code"
      ])
      const expected = yield* Effect.promise(async () => {
        const encoder = new TextEncoder()
        const key = await crypto.subtle.importKey(
          "raw",
          encoder.encode(verifier),
          { name: "HMAC", hash: "SHA-256" },
          false,
          ["sign"]
        )
        return Buffer.from(await crypto.subtle.sign("HMAC", key, encoder.encode(message))).toString("base64url")
      })
      assert.deepStrictEqual(redemptionKey(binding, Redacted.make("the-code")), Option.some(expected))
      assert.deepStrictEqual(redemptionKey({ ...binding, codeVerifier: undefined }, Redacted.make("x")), Option.none())
    }))
})
