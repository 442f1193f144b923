/**
 * The fault matrix of docs/reliability.md: every fault the emulator can inject, at each step (the code's
 * redemption, a refresh for a token not cached yet, a proactive renewal of a token that is due but valid), with
 * the outcome the caller sees and what the next call does. Real TLS, the live clock.
 */
import { Emulator, type FaultSpec } from "@effect-entra/emulator"
import { assert, describe, layer } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import type { AuthenticationError, InvalidOptionError } from "../../src/AuthenticationError.js"
import * as AuthorizationCodeCredential from "../../src/AuthorizationCodeCredential.js"
import * as TokenCache from "../../src/TokenCache.js"
import * as E from "./fixtures/Emulated.js"

/** A fault without its endpoint (always the token endpoint here); distributive over the union of kinds. */
type Fault = FaultSpec extends infer F ? F extends unknown ? Omit<F, "endpoint"> : never : never

/** What the call sees: a token (`renewed`: a new one; `cached`: the one held), or an error of this reason. */
type Outcome =
  | { readonly token: "new" | "cached" }
  | { readonly error: AuthenticationError["reason"]; readonly code?: number | undefined }

/** And what the next call (with the fault gone) sees. */
interface Cell {
  readonly now: Outcome
  readonly next: "token" | "ReauthenticationRequired" | "same error"
}

interface Row {
  readonly name: string
  readonly fault: Fault
  readonly redeem: Cell
  readonly refresh: Cell
  readonly proactive: Cell
}

const renewed: Cell = { now: { token: "new" }, next: "token" }
const spent = (error: AuthenticationError["reason"], code?: number): Cell => ({
  now: { error, code },
  next: "ReauthenticationRequired"
})
const http = { baseDelay: "10 millis", maxDelay: "50 millis", requestTimeout: "500 millis" } as const

export const rows: ReadonlyArray<Row> = [
  {
    name: "429 with Retry-After: 1",
    fault: { kind: "status", status: 429, retryAfter: 1 },
    redeem: renewed,
    refresh: renewed,
    proactive: renewed
  },
  {
    name: "429 without Retry-After",
    fault: { kind: "status", status: 429 },
    redeem: renewed,
    refresh: renewed,
    proactive: renewed
  },
  { name: "500", fault: { kind: "status", status: 500 }, redeem: renewed, refresh: renewed, proactive: renewed },
  { name: "503", fault: { kind: "status", status: 503 }, redeem: renewed, refresh: renewed, proactive: renewed },
  { name: "HTML 502 page", fault: { kind: "html" }, redeem: renewed, refresh: renewed, proactive: renewed },
  { name: "dropped connection", fault: { kind: "drop" }, redeem: renewed, refresh: renewed, proactive: renewed },
  {
    name: "truncated JSON (the request was handled)",
    fault: { kind: "truncate" },
    redeem: spent("InvalidResponse"),
    refresh: renewed,
    proactive: renewed
  },
  {
    name: "malformed 200 (not JSON)",
    fault: { kind: "malformed" },
    redeem: spent("InvalidResponse"),
    refresh: renewed,
    proactive: renewed
  },
  {
    name: "200 without access_token",
    fault: { kind: "malformed", variant: "no-token" },
    redeem: spent("InvalidResponse"),
    refresh: renewed,
    proactive: renewed
  },
  {
    name: "endless body",
    fault: { kind: "endless" },
    redeem: { now: { error: "ResponseTooLarge" }, next: "token" },
    refresh: { now: { error: "ResponseTooLarge" }, next: "token" },
    proactive: { now: { token: "cached" }, next: "token" }
  },
  {
    name: "slow body past the time-out (the request was handled)",
    fault: { kind: "slow", intervalMs: 2000 },
    redeem: spent("ErrorResponse", 54005),
    refresh: renewed,
    proactive: renewed
  },
  {
    name: "odd numbers in a 200 (expires_in: Infinity)",
    fault: { kind: "numbers", variant: "infinity" },
    redeem: spent("InvalidResponse"),
    refresh: renewed,
    proactive: renewed
  },
  {
    name: "a token expired on arrival (expires_on in 1970)",
    fault: { kind: "numbers", variant: "epoch" },
    redeem: spent("InvalidResponse"),
    refresh: renewed,
    proactive: renewed
  }
]

const authError = (error: AuthenticationError | InvalidOptionError): AuthenticationError => {
  assert.strictEqual(error._tag, "AuthenticationError", error.message)
  return error as AuthenticationError
}

const other = "https://graph.microsoft.com/User.Read"

/** Runs the call, checks the outcome against the cell, then checks the next call. */
const check = (
  cell: Cell,
  call: Effect.Effect<{ readonly token: Redacted.Redacted<string> }, AuthenticationError | InvalidOptionError>,
  held: string | undefined
) =>
  Effect.gen(function*() {
    const result = yield* Effect.either(call)
    if ("token" in cell.now) {
      assert.strictEqual(result._tag, "Right", result._tag === "Left" ? result.left.message : "")
      if (result._tag === "Right") {
        const token = Redacted.value(result.right.token)
        if (cell.now.token === "cached") assert.strictEqual(token, held)
        else assert.notStrictEqual(token, held)
      }
    } else {
      assert.strictEqual(result._tag, "Left", "the call should fail")
      if (result._tag === "Left") {
        const error = authError(result.left)
        assert.strictEqual(error.reason, cell.now.error, error.message)
        if (cell.now.code !== undefined) assert.strictEqual(error.aadstsCode, cell.now.code)
      }
    }
    const next = yield* Effect.either(call)
    if (cell.next === "token") assert.strictEqual(next._tag, "Right", next._tag === "Left" ? next.left.message : "")
    else {
      assert.strictEqual(next._tag, "Left")
      if (next._tag === "Left") {
        const error = authError(next.left)
        if (cell.next === "ReauthenticationRequired") assert.strictEqual(error.reason, "ReauthenticationRequired")
      }
    }
  })

layer(E.EmulatorLive, { excludeTestServices: true })("fault matrix: redemption and refresh", (it) => {
  for (const row of rows) {
    describe(row.name, () => {
      it.effect("during the redemption", () =>
        E.withCredentialDeps(Effect.gen(function*() {
          const { credential, emulator } = yield* E.setup({ http })
          yield* emulator.injectFault({ endpoint: "token", grantType: "authorization_code", ...row.fault } as FaultSpec)
          yield* check(row.redeem, credential.getToken(emulator.defaults.scope), undefined)
        })))

      it.effect("during a refresh (no cached token for the scope)", () =>
        E.withCredentialDeps(Effect.gen(function*() {
          const { credential, emulator } = yield* E.setup({ http })
          yield* credential.getToken(emulator.defaults.scope)
          yield* emulator.injectFault({ endpoint: "token", grantType: "refresh_token", ...row.fault } as FaultSpec)
          yield* check(row.refresh, credential.getToken(other), undefined)
        })))
    })
  }

  describe("faults only the protocol makes", () => {
    it.effect("an expired code (AADSTS70000 family): invalid_grant, then ReauthenticationRequired", () =>
      E.withCredentialDeps(Effect.gen(function*() {
        const { credential, emulator } = yield* E.setup({ http })
        yield* Effect.orDie(emulator.advanceTime(11 * 60 * 1000))
        yield* check(spent("ErrorResponse"), credential.getToken(emulator.defaults.scope), undefined)
      })))

    it.effect("a reused code: AADSTS54005, then ReauthenticationRequired", () =>
      E.withCredentialDeps(Effect.gen(function*() {
        const { code, credential, emulator } = yield* E.setup({ http })
        yield* credential.getToken(emulator.defaults.scope)
        // Another credential (its own cache) with the same code: Entra refuses a spent code.
        const second = yield* AuthorizationCodeCredential.make({
          ...E.appOptions(emulator),
          authorizationCode: Redacted.make(code),
          http
        }).pipe(Effect.provide(TokenCache.layerMemory), Effect.orDie)
        yield* check(spent("ErrorResponse", 54005), second.getToken(emulator.defaults.scope), undefined)
      })))

    it.effect("a revoked refresh token during a refresh: invalid_grant (sign in again), and again next time", () =>
      E.withCredentialDeps(Effect.gen(function*() {
        const { credential, emulator } = yield* E.setup({ http })
        yield* credential.getToken(emulator.defaults.scope)
        yield* Effect.orDie(emulator.revokeRefreshTokens())
        yield* check({ now: { error: "ErrorResponse" }, next: "same error" }, credential.getToken(other), undefined)
        const error = authError(yield* Effect.flip(credential.getToken(other)))
        assert.isTrue(error.isInteractionRequired)
      })))

    it.effect("an unknown tenant: AADSTS90002 at once, before and after redemption", () =>
      E.withCredentialDeps(Effect.gen(function*() {
        const unknown = "00000000-0000-4000-8000-0000000000ff"
        const { credential, emulator } = yield* E.setup({ http, additionallyAllowedTenants: ["*"] })
        yield* credential.getToken(emulator.defaults.scope)
        const error = authError(yield* Effect.flip(credential.getToken(other, { tenantId: unknown })))
        assert.strictEqual(error.aadstsCode, 90002)
        assert.strictEqual(error.attempts, 1)
      })))
  })
})

// Tokens live 3 s here, so they are due for renewal after 1.5 s (half-life); at 1.6 s one is due and still valid
// for 1.4 s, a margin that a loaded machine does not eat.
layer(Emulator.layer({ config: { accessTokenLifetime: 3 } }), { excludeTestServices: true })(
  "fault matrix: proactive renewal",
  (it) => {
    const due = Effect.sleep("1600 millis")
    for (const row of rows) {
      it.effect(`${row.name}: during a proactive renewal`, () =>
        E.withCredentialDeps(Effect.gen(function*() {
          const { credential, emulator } = yield* E.setup({ http, refreshRetryDelay: "100 millis" })
          const held = Redacted.value((yield* credential.getToken(emulator.defaults.scope)).token)
          yield* due
          yield* emulator.injectFault({ endpoint: "token", grantType: "refresh_token", ...row.fault } as FaultSpec)
          yield* check(row.proactive, credential.getToken(emulator.defaults.scope), held)
        })))
    }

    it.effect("a revoked refresh token during a proactive renewal: the cached token until it expires", () =>
      E.withCredentialDeps(Effect.gen(function*() {
        const { credential, emulator } = yield* E.setup({ http, refreshRetryDelay: "100 millis" })
        const held = Redacted.value((yield* credential.getToken(emulator.defaults.scope)).token)
        yield* due
        yield* Effect.orDie(emulator.revokeRefreshTokens())
        const token = yield* credential.getToken(emulator.defaults.scope)
        assert.strictEqual(Redacted.value(token.token), held)
        yield* Effect.sleep("1500 millis")
        const error = authError(yield* Effect.flip(credential.getToken(emulator.defaults.scope)))
        assert.isTrue(error.isInteractionRequired)
      })))
  }
)
