import { assert, describe, it } from "@effect/vitest"
import { Either, FastCheck, Redacted } from "effect"
import { inspect } from "node:util"
import * as AuthorizationRequest from "../src/AuthorizationRequest.js"

describe("AuthorizationRequest", () => {
  it("computes the RFC 7636 Appendix B S256 challenge", () => {
    assert.strictEqual(
      AuthorizationRequest.codeChallengeS256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
      "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    )
  })

  it("makes fresh verifiers of 43 to 128 unreserved characters whose challenge matches", () => {
    const seen = new Set<string>()
    for (const bytes of [0, 32, 64, 96, 1000]) {
      const pkce = AuthorizationRequest.makePkce(bytes)
      const verifier = Redacted.value(pkce.codeVerifier)
      assert.isTrue(verifier.length >= 43 && verifier.length <= 128, `length ${verifier.length}`)
      assert.match(verifier, /^[A-Za-z0-9\-._~]+$/)
      assert.strictEqual(pkce.codeChallenge, AuthorizationRequest.codeChallengeS256(verifier))
      assert.strictEqual(pkce.codeChallengeMethod, "S256")
      seen.add(verifier)
    }
    assert.strictEqual(seen.size, 5)
    assert.notInclude(inspect(AuthorizationRequest.makePkce()), "codeVerifier: '")
  })

  it("state and nonce are random, URL-safe and distinct", () => {
    const a = AuthorizationRequest.randomValue()
    const b = AuthorizationRequest.randomValue()
    assert.notStrictEqual(a, b)
    assert.match(a, /^[A-Za-z0-9_-]{22}$/)
  })

  it("builds the authorize URL with PKCE S256, state, nonce and the optional parameters", () => {
    const url = AuthorizationRequest.authorizeUrl({
      authority: "https://login.example/",
      tenantId: "contoso.example",
      clientId: "client",
      redirectUri: "http://127.0.0.1:5000",
      scopes: ["openid", "offline_access", "api://x/y"],
      state: "st",
      nonce: "no",
      codeChallenge: "ch",
      prompt: "select_account",
      loginHint: "alice@contoso.example",
      responseMode: "query",
      claims: `{"access_token":{"acrs":{"essential":true,"value":"c1"}}}`
    })
    assert.strictEqual(url.origin + url.pathname, "https://login.example/contoso.example/oauth2/v2.0/authorize")
    const p = url.searchParams
    assert.deepStrictEqual(
      {
        client_id: p.get("client_id"),
        response_type: p.get("response_type"),
        redirect_uri: p.get("redirect_uri"),
        scope: p.get("scope"),
        state: p.get("state"),
        nonce: p.get("nonce"),
        code_challenge: p.get("code_challenge"),
        code_challenge_method: p.get("code_challenge_method"),
        prompt: p.get("prompt"),
        login_hint: p.get("login_hint"),
        response_mode: p.get("response_mode"),
        client_info: p.get("client_info"),
        claims: p.get("claims")
      },
      {
        client_id: "client",
        response_type: "code",
        redirect_uri: "http://127.0.0.1:5000",
        scope: "openid offline_access api://x/y",
        state: "st",
        nonce: "no",
        code_challenge: "ch",
        code_challenge_method: "S256",
        prompt: "select_account",
        login_hint: "alice@contoso.example",
        response_mode: "query",
        client_info: "1",
        claims: `{"access_token":{"acrs":{"essential":true,"value":"c1"}}}`
      }
    )
    const minimal = AuthorizationRequest.authorizeUrl({
      authority: "https://login.example",
      tenantId: "common",
      clientId: "c",
      redirectUri: "http://localhost",
      scopes: ["openid"],
      state: "s",
      nonce: "n",
      codeChallenge: "c"
    })
    assert.isFalse(minimal.searchParams.has("prompt"))
    assert.isFalse(minimal.searchParams.has("login_hint"))
    assert.isFalse(minimal.searchParams.has("claims"))
  })

  it("parses a success redirect and keeps the code redacted", () => {
    const result = AuthorizationRequest.parseRedirect("/?code=0.ABC&client_info=eyJ1&state=s1&session_state=x", "s1")
    assert.isTrue(Either.isRight(result))
    if (Either.isRight(result)) {
      assert.strictEqual(Redacted.value(result.right.code), "0.ABC")
      assert.strictEqual(result.right.clientInfo, "eyJ1")
      assert.strictEqual(result.right.state, "s1")
      assert.notInclude(inspect(result.right), "0.ABC")
    }
  })

  it("rejects a wrong or missing state before anything else, even on an error redirect", () => {
    for (const url of ["/?code=c&state=other", "/?code=c", "/?error=access_denied&state=evil", "/?error=x"]) {
      const result = AuthorizationRequest.parseRedirect(url, "right")
      assert.isTrue(Either.isLeft(result))
      if (Either.isLeft(result)) assert.strictEqual(result.left.reason, "StateMismatch")
    }
  })

  it("reports error redirects with error and description, and a missing code", () => {
    const denied = AuthorizationRequest.parseRedirect(
      "http://127.0.0.1:1/?error=access_denied&error_description=AADSTS65004%3a+User+declined+to+consent.%0d%0aTrace+ID%3a+1&state=s",
      "s"
    )
    assert.isTrue(Either.isLeft(denied))
    if (Either.isLeft(denied)) {
      assert.strictEqual(denied.left.reason, "ErrorResponse")
      assert.strictEqual(denied.left.error, "access_denied")
      assert.strictEqual(denied.left.message, "sign-in failed: access_denied (AADSTS65004: User declined to consent.)")
    }
    const missing = AuthorizationRequest.parseRedirect("/?state=s", "s")
    assert.isTrue(Either.isLeft(missing) && missing.left.reason === "MissingCode")
  })

  it.prop("never accepts a state other than the expected one", [FastCheck.string(), FastCheck.string()], ([a, b]) => {
    const url = `/?code=c&state=${encodeURIComponent(a)}`
    const result = AuthorizationRequest.parseRedirect(url, b)
    return Either.isRight(result) === (a === b)
  })
  it("an address that does not parse is a StateMismatch, never a throw", () => {
    const parsed = AuthorizationRequest.parseRedirect("http://[/?code=c&state=s", "s")
    assert.isTrue(Either.isLeft(parsed) && parsed.left.reason === "StateMismatch")
  })
})
