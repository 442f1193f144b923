/**
 * A throw-away TLS identity: a self-signed CA and a server certificate for 127.0.0.1, ::1 and localhost, made in
 * pure JS (ECDSA P-256 via WebCrypto, X.509 via `@peculiar/x509`) so no `openssl` binary is needed.
 *
 * MSAL and `@azure/identity` refuse non-https authorities, so the emulator always speaks TLS; callers trust
 * `caPem` (or the file written from it) instead of turning verification off.
 *
 * @since 0.1.0
 */
import * as x509 from "@peculiar/x509"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import { webcrypto } from "node:crypto"

/**
 * PEM strings for the server (and the CA that signed it).
 *
 * @since 0.1.0
 * @category models
 */
export interface TlsIdentity {
  readonly cert: string
  readonly key: string
  readonly ca: string
}

/**
 * @since 0.1.0
 * @category errors
 */
export class CertificateError extends Data.TaggedError("CertificateError")<{ readonly cause: unknown }> {
  override get message(): string {
    return `cannot generate the emulator's TLS certificate: ${String((this.cause as Error)?.message ?? this.cause)}`
  }
}

const algorithm = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" }
const day = 24 * 3600 * 1000

const serial = () => Buffer.from(webcrypto.getRandomValues(new Uint8Array(12))).toString("hex").replace(/^[89a-f]/, "1")

/**
 * Generates a CA and a server certificate valid from one hour ago for 30 days (wall-clock time: TLS peers check
 * certificates against the real clock, not the emulator's).
 *
 * @since 0.1.0
 * @category constructors
 */
export const generate: Effect.Effect<TlsIdentity, CertificateError> = Effect.tryPromise({
  try: async () => {
    x509.cryptoProvider.set(webcrypto as unknown as Crypto)
    const subtle = webcrypto.subtle
    // Real time, not the Effect clock: TLS clients check validity against their own clocks.
    const notBefore = new Date(Date.now() - 3600 * 1000)
    const notAfter = new Date(Date.now() + 30 * day)
    const caKeys = await subtle.generateKey(algorithm, true, ["sign", "verify"])
    const ca = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: serial(),
      name: "CN=effect-entra emulator CA, O=effect-entra",
      notBefore,
      notAfter,
      signingAlgorithm: algorithm,
      keys: caKeys as CryptoKeyPair,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey as CryptoKey)
      ]
    })
    const serverKeys = await subtle.generateKey(algorithm, true, ["sign", "verify"])
    const server = await x509.X509CertificateGenerator.create({
      serialNumber: serial(),
      subject: "CN=localhost",
      issuer: ca.subject,
      notBefore,
      notAfter,
      signingAlgorithm: algorithm,
      publicKey: serverKeys.publicKey as CryptoKey,
      signingKey: caKeys.privateKey as CryptoKey,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension([
          { type: "ip", value: "127.0.0.1" },
          { type: "ip", value: "::1" },
          { type: "dns", value: "localhost" }
        ]),
        await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey as CryptoKey)
      ]
    })
    const pkcs8 = await subtle.exportKey("pkcs8", serverKeys.privateKey as CryptoKey)
    return {
      cert: server.toString("pem"),
      key: x509.PemConverter.encode(pkcs8, "PRIVATE KEY"),
      ca: ca.toString("pem")
    }
  },
  catch: (cause) => new CertificateError({ cause })
})
