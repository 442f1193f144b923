import { describe, expect, it } from "@effect/vitest"
import * as Redacted from "effect/Redacted"
import * as TokenOutput from "../src/TokenOutput.js"

const fields: TokenOutput.TokenFields = {
  accessToken: Redacted.make("eyJ.token.sig"),
  expiresOnTimestamp: Date.UTC(2030, 0, 1, 12, 0, 0, 500),
  tokenType: "Bearer",
  tenantId: "8eaef023-2b34-4da1-9baa-8bc8c9d6a490",
  scopes: ["api://x/read", "api://x/write"]
}

const query = (text: string) => {
  const parsed = TokenOutput.parseQuery(text)
  if (TokenOutput.isInvalid(parsed)) throw new Error(parsed.reason)
  return parsed
}

describe("TokenOutput", () => {
  it("text is the bare token, none prints nothing", () => {
    expect(TokenOutput.render(fields, { format: "text" })).toBe("eyJ.token.sig")
    expect(TokenOutput.render(fields, { format: "none" })).toBeUndefined()
    expect(TokenOutput.render(fields, { format: "none", query: query("accessToken") })).toBeUndefined()
  })

  it("json has az's field names, expires_on in epoch seconds, and the 0.1.0 names", () => {
    const json = JSON.parse(TokenOutput.render(fields, { format: "json" })!)
    expect(Object.keys(json)).toEqual([
      "accessToken",
      "expiresOn",
      "expires_on",
      "tenant",
      "tokenType",
      "scopes",
      "token",
      "tenantId"
    ])
    expect(json).toMatchObject({
      accessToken: "eyJ.token.sig",
      expiresOn: "2030-01-01T12:00:00Z",
      expires_on: Date.UTC(2030, 0, 1, 12) / 1000,
      tenant: fields.tenantId,
      tokenType: "Bearer",
      scopes: ["api://x/read", "api://x/write"],
      token: "eyJ.token.sig",
      tenantId: fields.tenantId
    })
  })

  it("an expiry no date can hold is 'invalid' with expires_on null, never a crash", () => {
    const json = TokenOutput.toJson({ ...fields, expiresOnTimestamp: 1e30 })
    expect(json.expiresOn).toBe("invalid")
    expect(json.expires_on).toBeNull()
    expect(TokenOutput.render({ ...fields, expiresOnTimestamp: Number.NaN }, { format: "tsv" })).toBe(
      `eyJ.token.sig\tinvalid\t\t${fields.tenantId}\tBearer\tapi://x/read api://x/write`
    )
  })

  it("tsv is az's fields on one line, tab-separated, scopes joined by spaces", () => {
    expect(TokenOutput.render(fields, { format: "tsv" })).toBe(
      `eyJ.token.sig\t2030-01-01T12:00:00Z\t1893499200\t${fields.tenantId}\tBearer\tapi://x/read api://x/write`
    )
  })

  it("--query: a field is JSON on json output and raw elsewhere; a list is an array or tab-separated", () => {
    expect(TokenOutput.render(fields, { format: "json", query: query("accessToken") })).toBe("\"eyJ.token.sig\"")
    expect(TokenOutput.render(fields, { format: "json", query: query(" expires_on ") })).toBe("1893499200")
    expect(TokenOutput.render(fields, { format: "tsv", query: query("accessToken") })).toBe("eyJ.token.sig")
    expect(TokenOutput.render(fields, { format: "text", query: query("expires_on") })).toBe("1893499200")
    expect(JSON.parse(TokenOutput.render(fields, { format: "json", query: query("[accessToken, expires_on]") })!))
      .toEqual(["eyJ.token.sig", 1893499200])
    expect(JSON.parse(TokenOutput.render(fields, { format: "json", query: query("[tenant]") })!)).toEqual([
      fields.tenantId
    ])
    expect(TokenOutput.render(fields, { format: "tsv", query: query("[tokenType,expires_on]") })).toBe(
      "Bearer\t1893499200"
    )
  })

  it("an unknown field, an empty query or an unknown format is refused with the choices", () => {
    for (const text of ["accesstoken", "", "[]", "[accessToken, nope]", "accessToken.length", "@"]) {
      const parsed = TokenOutput.parseQuery(text)
      expect(TokenOutput.isInvalid(parsed) && parsed.reason).toMatch(/^--query: .* is not a field; use one of/)
    }
    expect(TokenOutput.parseFormat("JSON")).toBe("json")
    const yaml = TokenOutput.parseFormat("yaml")
    expect(TokenOutput.isInvalid(yaml) && yaml.reason).toBe("--output: \"yaml\" is not one of text, json, tsv, none")
  })

  it("optionsFrom: --json is --output json; --json with another --output, or a bad value, is Invalid", () => {
    expect(TokenOutput.optionsFrom({ json: false })).toEqual({ format: "text" })
    expect(TokenOutput.optionsFrom({ json: true })).toEqual({ format: "json" })
    expect(TokenOutput.optionsFrom({ json: true, output: "json" })).toEqual({ format: "json" })
    expect(TokenOutput.optionsFrom({ json: false, output: "tsv", query: "accessToken" })).toEqual({
      format: "tsv",
      query: { fields: ["accessToken"], list: false }
    })
    const contradiction = TokenOutput.optionsFrom({ json: true, output: "none" })
    expect(TokenOutput.isInvalid(contradiction) && contradiction.reason).toBe(
      "--json contradicts --output none (--json means --output json)"
    )
    expect(TokenOutput.isInvalid(TokenOutput.optionsFrom({ json: false, output: "xml" }))).toBe(true)
    expect(TokenOutput.isInvalid(TokenOutput.optionsFrom({ json: false, query: "nope" }))).toBe(true)
  })
})
