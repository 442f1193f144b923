import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, FastCheck as fc, Redacted } from "effect"
import * as Authority from "../src/Authority.js"
import * as TokenEndpoint from "../src/TokenEndpoint.js"
import * as ScriptedEntra from "./fixtures/ScriptedEntra.js"

const label = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,20}[a-z0-9])?$/)
const dnsName = fc.array(label, { minLength: 1, maxLength: 4 }).map((labels) => labels.join("."))
// A URL reads a host whose last label is numeric as an IPv4 address: a host name ends with a letter label.
const hostName = fc.tuple(dnsName, fc.stringMatching(/^[a-z][a-z0-9]{0,10}$/)).map(([a, b]) => `${a}.${b}`)

describe("Authority.validateTenantId", () => {
  it.prop("GUIDs, DNS names and common/organizations/consumers are tenant ids", {
    tenant: fc.oneof(fc.uuid(), dnsName, fc.constantFrom("common", "organizations", "consumers"))
  }, ({ tenant }) => {
    assert.isTrue(Either.isRight(Authority.validateTenantId(tenant)))
  })

  it.prop("dot segments, empty labels, edge hyphens and other characters are refused", {
    tenant: fc.oneof(
      fc.constantFrom(".", "..", "...", "a..b", ".a", "a.", "-a", "a-", "a.-b", "%2e%2e", "a/b", "a b", "a%2fb"),
      fc.tuple(dnsName, fc.constantFrom("/", "\\", "?", "#", "%", " ", "@", ":", "\u202e", "\n"), dnsName)
        .map(([a, c, b]) => `${a}${c}${b}`),
      fc.string().filter((s) => /[^0-9a-zA-Z.-]/.test(s) || s === "")
    )
  }, ({ tenant }) => {
    const result = Authority.validateTenantId(tenant)
    assert.isTrue(Either.isLeft(result))
    if (Either.isLeft(result)) assert.notMatch(result.left.message, /[\u0000-\u001f\u202e]/)
  })

  it.prop("a valid tenant is one path segment of the token URL, on the authority's host", {
    tenant: fc.oneof(fc.uuid(), dnsName)
  }, ({ tenant }) => {
    const url = new URL(Authority.tokenEndpoint("https://login.example", tenant))
    assert.strictEqual(url.host, "login.example")
    assert.strictEqual(url.pathname, `/${tenant}/oauth2/v2.0/token`)
  })
})

describe("Authority.normalizeAuthority", () => {
  const refused = [
    "https:/evil.com",
    "https:evil.com",
    "https:\\\\evil.com",
    "https://evil.com\\@login.example",
    "http://login.example",
    "javascript:alert(1)",
    "https://user:pw@login.example",
    "https://login.example/?x=1",
    "https://",
    "login example"
  ]
  for (const authority of refused) {
    it(`refuses ${JSON.stringify(authority)}`, () => {
      assert.isTrue(Either.isLeft(Authority.normalizeAuthority(authority)))
    })
  }

  it("keeps a bare host, a host with a port and a base path", () => {
    assert.deepStrictEqual(Authority.normalizeAuthority("login.example"), Either.right("https://login.example"))
    assert.deepStrictEqual(Authority.normalizeAuthority("127.0.0.1:8443"), Either.right("https://127.0.0.1:8443"))
    assert.deepStrictEqual(
      Authority.normalizeAuthority("https://h.example/base/"),
      Either.right("https://h.example/base")
    )
  })

  it.prop("an accepted authority keeps the host it was given", {
    host: hostName,
    port: fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
    scheme: fc.boolean()
  }, ({ host, port, scheme }) => {
    const input = `${scheme ? "https://" : ""}${host}${port === undefined ? "" : `:${port}`}`
    const result = Authority.normalizeAuthority(input)
    assert(Either.isRight(result))
    assert.strictEqual(new URL(result.right).hostname, new URL(`https://${host}`).hostname)
  })

  it.prop("whatever the input, an accepted authority is https and has a host", { input: fc.string() }, ({ input }) => {
    const result = Authority.normalizeAuthority(input)
    if (Either.isRight(result)) {
      const url = new URL(result.right)
      assert.strictEqual(url.protocol, "https:")
      assert.notStrictEqual(url.hostname, "")
      assert.isFalse(input.includes("\\"))
    }
  })
})

describe("TokenEndpoint refuses a bad tenant before any request", () => {
  for (const tenantId of [".", "..", "a/../b"]) {
    it.effect(`tenant ${JSON.stringify(tenantId)}: InvalidRequest, nothing sent`, () =>
      Effect.gen(function*() {
        const entra = ScriptedEntra.make()
        const endpoint = yield* TokenEndpoint.make().pipe(Effect.provide(entra.layer))
        const error = yield* Effect.flip(endpoint.redeemRefreshToken({
          authority: "https://login.example",
          tenantId,
          clientId: "client-1",
          scopes: ["api://demo/.default"],
          refreshToken: Redacted.make("rt")
        }))
        assert.strictEqual(error.reason, "InvalidRequest")
        assert.strictEqual(entra.requests.length, 0)
      }))
  }
})
