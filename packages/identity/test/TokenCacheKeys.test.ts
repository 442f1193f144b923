import { assert, describe, it } from "@effect/vitest"
import * as Redacted from "effect/Redacted"
import * as TokenCache from "../src/TokenCache.js"

const parts = {
  authority: "https://Login.Example",
  clientId: "Client-1",
  homeAccountId: "oid-alice.home-tenant",
  tenantId: "Home-Tenant",
  cae: true,
  scopes: TokenCache.canonicalScopes(["api://B/Read", "api://a/write"])
}

const entry: TokenCache.AccessTokenEntry = {
  token: Redacted.make("at"),
  tokenType: "Bearer",
  issuedOn: 0,
  expiresOn: 3_600_000,
  scopes: parts.scopes.split(" "),
  tenantId: parts.tenantId,
  homeAccountId: parts.homeAccountId,
  cae: parts.cae
}

describe("TokenCache keys", () => {
  it("accountKeyOfToken gives back the account key an access-token key starts with", () => {
    assert.strictEqual(TokenCache.accountKeyOfToken(TokenCache.accessTokenKey(parts)), TokenCache.accountKey(parts))
    // A `|` in the scopes does not matter: only the first four fields are the account's.
    const odd = { ...parts, scopes: "api://x/a|b" }
    assert.strictEqual(TokenCache.accountKeyOfToken(TokenCache.accessTokenKey(odd)), TokenCache.accountKey(odd))
  })

  it("accessTokenKeyOfEntry rebuilds the key a token was stored under from its account key and the entry", () => {
    const key = TokenCache.accessTokenKey(parts)
    assert.strictEqual(TokenCache.accessTokenKeyOfEntry(TokenCache.accountKeyOfToken(key), entry), key)
    assert.notStrictEqual(
      TokenCache.accessTokenKeyOfEntry(TokenCache.accountKey(parts), { ...entry, cae: false }),
      key
    )
  })

  it("a key that is not an access-token key is its own account key", () => {
    assert.strictEqual(TokenCache.accountKeyOfToken("account|a|b"), "account|a|b")
  })
})
