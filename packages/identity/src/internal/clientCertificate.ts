/**
 * A client certificate loaded from PEM, and the `client_assertion` JWT it signs (RFC 7523 §2.2, Entra's
 * certificate credentials: `x5t#S256` names the certificate, `aud` is the token endpoint).
 *
 * @internal
 */
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import * as Crypto from "node:crypto"
import * as Fs from "node:fs"
import { InvalidOptionError } from "../AuthenticationError.js"

/** @internal */
export type SigningAlgorithm = "RS256" | "PS256"

/** @internal */
export interface CertificateInput {
  readonly certificate?: Redacted.Redacted<string> | undefined
  readonly certificatePath?: string | undefined
  readonly password?: Redacted.Redacted<string> | undefined
  readonly sendCertificateChain?: boolean | undefined
  readonly algorithm?: SigningAlgorithm | undefined
}

/** @internal */
export interface LoadedCertificate {
  readonly privateKey: Crypto.KeyObject
  /** base64url SHA-256 of the leaf certificate's DER: the `x5t#S256` header and the certificate's identity. */
  readonly thumbprintSha256: string
  /** base64url SHA-1 of the DER: `x5t`, which older Entra deployments still look for. */
  readonly thumbprintSha1: string
  /** Standard base64 DER, leaf first (RFC 7515 §4.1.6), when the chain is sent. */
  readonly chain: ReadonlyArray<string> | undefined
  readonly algorithm: SigningAlgorithm
  readonly notAfter: number
}

const fail = (reason: string) => Either.left(new InvalidOptionError({ field: "clientCertificate", reason }))

const certificateBlocks = (pem: string): ReadonlyArray<string> =>
  pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? []

const keyBlock = (pem: string): string | undefined =>
  /-----BEGIN (?:RSA |ENCRYPTED )?PRIVATE KEY-----[\s\S]*?-----END (?:RSA |ENCRYPTED )?PRIVATE KEY-----/.exec(pem)?.[0]

const readPem = (input: CertificateInput): Either.Either<string, InvalidOptionError> => {
  if (input.certificate !== undefined) {
    const value = Redacted.isRedacted(input.certificate) ? Redacted.value(input.certificate) : undefined
    return typeof value === "string" ? Either.right(value) : fail("certificate must be a Redacted PEM string")
  }
  if (typeof input.certificatePath !== "string" || input.certificatePath === "") {
    return fail("give the certificate (PEM text) or certificatePath")
  }
  try {
    return Either.right(Fs.readFileSync(input.certificatePath, "utf8"))
  } catch (error) {
    // The code (ENOENT, EACCES) says enough; the path is the caller's own.
    const code = (error as { readonly code?: unknown }).code
    return fail(`cannot read ${input.certificatePath}${typeof code === "string" ? ` (${code})` : ""}`)
  }
}

const parseKey = (pem: string, password: Redacted.Redacted<string> | undefined) => {
  const block = keyBlock(pem)
  if (block === undefined) return fail("the PEM holds no private key")
  try {
    const passphrase = password === undefined ? undefined : Redacted.value(password)
    const key = Crypto.createPrivateKey(passphrase === undefined ? block : { key: block, passphrase })
    return key.asymmetricKeyType === "rsa" ? Either.right(key) : fail("RS256 and PS256 need an RSA private key")
  } catch {
    // Never the library's text: it could quote the key's bytes.
    return fail(
      password === undefined ?
        "the private key is unreadable (encrypted? give its password)" :
        "the private key is unreadable, or the password is wrong"
    )
  }
}

const parseCertificates = (pem: string) => {
  try {
    return Either.right(certificateBlocks(pem).map((block) => new Crypto.X509Certificate(block)))
  } catch {
    return fail("a certificate in the PEM is unreadable")
  }
}

const b64url = (data: Buffer) => data.toString("base64url")

/**
 * Loads and checks the certificate: readable PEM, a private key matching one of its certificates, not expired at
 * `now` (epoch ms) when given.
 *
 * @internal
 */
export const loadCertificate = (
  input: CertificateInput,
  now: number | undefined
): Either.Either<LoadedCertificate, InvalidOptionError> =>
  Either.gen(function*() {
    if (typeof input !== "object" || input === null) return yield* fail("must be an object")
    if (input.certificate !== undefined && input.certificatePath !== undefined) {
      return yield* fail("give the certificate or certificatePath, not both")
    }
    const algorithm = input.algorithm ?? "RS256"
    if (algorithm !== "RS256" && algorithm !== "PS256") return yield* fail("algorithm must be RS256 or PS256")
    if (input.password !== undefined && !Redacted.isRedacted(input.password)) {
      return yield* fail("password must be a Redacted string")
    }
    const pem = yield* readPem(input)
    const privateKey = yield* parseKey(pem, input.password)
    const certificates = yield* parseCertificates(pem)
    if (certificates.length === 0) return yield* fail("the PEM holds no certificate")
    const leaf = certificates.find((certificate) => certificate.checkPrivateKey(privateKey))
    if (leaf === undefined) return yield* fail("the private key does not match the certificate")
    const notAfter = Date.parse(leaf.validTo)
    // Only expiry: a certificate fresh from a CA is often "not yet valid" by a skewed clock, and Entra decides.
    if (now !== undefined && notAfter <= now) return yield* fail(`the certificate expired on ${leaf.validTo}`)
    const rest = certificates.filter((certificate) => certificate !== leaf)
    return {
      privateKey,
      thumbprintSha256: b64url(Crypto.createHash("sha256").update(leaf.raw).digest()),
      thumbprintSha1: b64url(Crypto.createHash("sha1").update(leaf.raw).digest()),
      chain: input.sendCertificateChain === true ? [leaf, ...rest].map((c) => c.raw.toString("base64")) : undefined,
      algorithm,
      notAfter
    }
  })

/** An assertion lives this long: enough for one request and its retries, short if it leaks. */
export const assertionLifetimeSeconds = 600

/**
 * Signs a `client_assertion` for one token request: `iss` = `sub` = the client, `aud` = the token endpoint, a
 * fresh `jti`.
 *
 * @internal
 */
export const signAssertion = (
  certificate: LoadedCertificate,
  claims: { readonly clientId: string; readonly audience: string; readonly nowMs: number; readonly jti: string }
): string => {
  const iat = Math.floor(claims.nowMs / 1000)
  const header = {
    alg: certificate.algorithm,
    typ: "JWT",
    "x5t#S256": certificate.thumbprintSha256,
    x5t: certificate.thumbprintSha1,
    ...(certificate.chain === undefined ? {} : { x5c: certificate.chain })
  }
  const payload = {
    aud: claims.audience,
    iss: claims.clientId,
    sub: claims.clientId,
    jti: claims.jti,
    nbf: iat,
    iat,
    exp: iat + assertionLifetimeSeconds
  }
  const input = `${b64url(Buffer.from(JSON.stringify(header)))}.${b64url(Buffer.from(JSON.stringify(payload)))}`
  const key = certificate.algorithm === "PS256"
    ? {
      key: certificate.privateKey,
      padding: Crypto.constants.RSA_PKCS1_PSS_PADDING,
      saltLength: Crypto.constants.RSA_PSS_SALTLEN_DIGEST
    }
    : certificate.privateKey
  return `${input}.${b64url(Crypto.sign("sha256", Buffer.from(input), key))}`
}
