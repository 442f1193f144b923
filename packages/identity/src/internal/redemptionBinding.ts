/**
 * The key under which a code's redemption is recorded in a shared cache, so other processes of a fleet can adopt
 * it instead of sending the code again (which Entra would refuse: a code is single-use).
 *
 * Adopting a redemption hands over an account and its refresh token, so the record must only be found by a
 * credential that proves it holds the same sign-in, not merely the same code: a code alone can be stolen or
 * injected (authorization-code injection, RFC 9700 §4.5). The key is an HMAC keyed by the PKCE verifier over
 * everything Entra binds the code to (authority, tenant, client, redirect URI) plus the client credential (the
 * secret, or the identity of a certificate or federated credential). A credential whose verifier, redirect URI,
 * client, tenant or client credential differs computes another key, finds nothing,
 * and sends the code to Entra, which refuses a spent code (AADSTS54005). Without a verifier there is no proof,
 * so there is no key: such a credential never adopts, nor offers, a redemption across processes.
 */
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Crypto from "node:crypto"

/** What the code is bound to. */
export interface Binding {
  readonly authority: string
  readonly tenantId: string
  readonly clientId: string
  readonly redirectUri: string
  readonly clientSecret: Redacted.Redacted<string> | undefined
  /** A certificate's or federated credential's identity (`x5t#S256:...`, `federated`), when it replaces the secret. */
  readonly clientCredentialId?: string | undefined
  readonly codeVerifier: Redacted.Redacted<string> | undefined
}

/**
 * The record key for this code and binding (base64url HMAC-SHA256), or none without a PKCE verifier. Synchronous
 * (Node's HMAC; the same bytes as WebCrypto's): a sign-in pays no promise round trip for it.
 */
export const redemptionKey = (
  binding: Binding,
  code: Redacted.Redacted<string>
): Option.Option<string> => {
  if (binding.codeVerifier === undefined) return Option.none()
  // A JSON array keeps the fields apart: no value can be shifted into its neighbour.
  const message = JSON.stringify([
    "effect-entra/redemption/v1",
    binding.authority,
    binding.tenantId.toLowerCase(),
    binding.clientId,
    binding.redirectUri,
    binding.clientSecret === undefined ? null : Redacted.value(binding.clientSecret),
    // Present only for certificates and assertions, so a secret's records keep their key across an upgrade.
    ...(binding.clientCredentialId === undefined ? [] : [binding.clientCredentialId]),
    Redacted.value(code)
  ])
  return Option.some(
    Crypto.createHmac("sha256", Redacted.value(binding.codeVerifier)).update(message, "utf8").digest("base64url")
  )
}

/** `true` once the code was wiped (it is wiped after redemption: nothing keeps a spent code). */
export const isWiped = (code: Redacted.Redacted<string>): boolean => {
  try {
    Redacted.value(code)
    return false
  } catch {
    return true
  }
}
