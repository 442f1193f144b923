/**
 * The token-signing key and the JWTs made with it: RS256, `kid` in the header, verifiable against the JWKS that
 * `/{tenant}/discovery/v2.0/keys` publishes.
 *
 * @since 0.1.0
 */
import * as x509 from "@peculiar/x509"
import * as Effect from "effect/Effect"
import * as Crypto from "node:crypto"

/**
 * A published JSON Web Key (Entra's shape: `kty`, `use`, `kid`, `x5t`, `n`, `e`, `x5c`, `issuer`).
 *
 * @since 0.1.0
 * @category models
 */
export interface Jwk {
  readonly kty: string
  readonly use: "sig"
  readonly kid: string
  readonly x5t: string
  readonly n: string
  readonly e: string
  /** The self-signed certificate of the key (base64 DER), as Entra publishes. */
  readonly x5c: ReadonlyArray<string>
  readonly alg: "RS256"
  readonly issuer: string
}

/**
 * @since 0.1.0
 * @category models
 */
export interface SigningKey {
  readonly kid: string
  readonly privateKey: Crypto.KeyObject
  readonly publicKey: Crypto.KeyObject
  /** The public JWK; `issuer` is the `{tenantid}` template, as Entra's common keys. */
  readonly jwk: (authority: string) => Jwk
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString("base64url")

const rsa = {
  name: "RSASSA-PKCS1-v1_5",
  hash: "SHA-256",
  publicExponent: new Uint8Array([1, 0, 1]),
  modulusLength: 2048
}

/**
 * Generates an RSA 2048 key and a self-signed certificate for it. `kid` and `x5t` are the certificate's SHA-1
 * thumbprint (base64url), as Entra's keys.
 *
 * @since 0.1.0
 * @category constructors
 */
export const generate: Effect.Effect<SigningKey> = Effect.promise(async () => {
  x509.cryptoProvider.set(Crypto.webcrypto as unknown as globalThis.Crypto)
  const keys = (await Crypto.webcrypto.subtle.generateKey(rsa, true, ["sign", "verify"])) as CryptoKeyPair
  // Real time: the certificate is only published, never checked against the emulator clock.
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: Crypto.randomBytes(12).toString("hex").replace(/^[89a-f]/, "1"),
    name: "CN=effect-entra emulator token signing",
    notBefore: new Date(Date.now() - 3600 * 1000),
    notAfter: new Date(Date.now() + 365 * 24 * 3600 * 1000),
    signingAlgorithm: rsa,
    keys
  })
  const der = Buffer.from(cert.rawData)
  const kid = b64url(Crypto.createHash("sha1").update(der).digest())
  const privateKey = Crypto.KeyObject.from(keys.privateKey as Crypto.webcrypto.CryptoKey)
  const publicKey = Crypto.KeyObject.from(keys.publicKey as Crypto.webcrypto.CryptoKey)
  const { e, n } = publicKey.export({ format: "jwk" }) as { n: string; e: string }
  return {
    kid,
    privateKey,
    publicKey,
    jwk: (authority) => ({
      kty: "RSA",
      use: "sig",
      kid,
      x5t: kid,
      n,
      e,
      x5c: [der.toString("base64")],
      alg: "RS256",
      issuer: `${authority}/{tenantid}/v2.0`
    })
  }
})

/**
 * Signs a JWT with RS256.
 *
 * @since 0.1.0
 * @category signing
 */
export const sign = (key: SigningKey, claims: Record<string, unknown>): string => {
  const header = b64url(JSON.stringify({ typ: "JWT", alg: "RS256", kid: key.kid }))
  const payload = b64url(JSON.stringify(claims))
  const signature = Crypto.sign("sha256", Buffer.from(`${header}.${payload}`), key.privateKey)
  return `${header}.${payload}.${b64url(signature)}`
}

/**
 * The result of checking a JWT's shape and signature (claims are checked by the caller).
 *
 * @since 0.1.0
 * @category models
 */
export type Verified =
  | { readonly _tag: "Valid"; readonly claims: Record<string, unknown> }
  | { readonly _tag: "Invalid"; readonly reason: string }

/**
 * Checks the structure, `alg`, `kid` and RS256 signature of a JWT.
 *
 * @since 0.1.0
 * @category signing
 */
export const verify = (key: SigningKey, token: string): Verified => {
  const parts = token.split(".")
  if (parts.length !== 3) return { _tag: "Invalid", reason: "the token is not a JWT" }
  const [h, p, s] = parts as [string, string, string]
  try {
    const header = JSON.parse(Buffer.from(h, "base64url").toString("utf8")) as { alg?: unknown; kid?: unknown }
    if (header.alg !== "RS256") return { _tag: "Invalid", reason: "unsupported alg" }
    if (header.kid !== key.kid) return { _tag: "Invalid", reason: "unknown signing key" }
    const ok = Crypto.verify("sha256", Buffer.from(`${h}.${p}`), key.publicKey, Buffer.from(s, "base64url"))
    if (!ok) return { _tag: "Invalid", reason: "the signature is invalid" }
    const claims = JSON.parse(Buffer.from(p, "base64url").toString("utf8")) as unknown
    if (typeof claims !== "object" || claims === null) return { _tag: "Invalid", reason: "malformed claims" }
    return { _tag: "Valid", claims: claims as Record<string, unknown> }
  } catch {
    return { _tag: "Invalid", reason: "malformed token" }
  }
}
