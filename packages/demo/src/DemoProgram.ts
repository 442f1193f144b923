/**
 * The main job: sign a user in on the bundled Entra emulator and walk the credential through its three steps
 * (RedeemCode → CacheLookup → RefreshToken) and a claims challenge, printing a readable report.
 *
 * @since 0.1.0
 */
import { Emulator } from "@effect-entra/emulator"
import type { AccessToken } from "@effect-entra/identity/AccessToken"
import * as AuthorizationCodeCredential from "@effect-entra/identity/AuthorizationCodeCredential"
import * as AuthorizationRequest from "@effect-entra/identity/AuthorizationRequest"
import * as NodeHttp from "@effect-entra/identity/NodeHttp"
import * as TokenCache from "@effect-entra/identity/TokenCache"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Config from "effect/Config"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as OffsetClock from "./OffsetClock.js"
import * as Report from "./Report.js"
import * as TokenClaims from "./TokenClaims.js"

/** How far the demo moves the clock: past the credential's 5-minute renewal window of a 1-hour token. */
const jump = Duration.toMillis("56 minutes")

const explainRealEntra = Effect.gen(function*() {
  const tenant = yield* Config.option(Config.string("AZURE_TENANT_ID"))
  const client = yield* Config.option(Config.string("AZURE_CLIENT_ID"))
  if (Option.isNone(tenant) && Option.isNone(client)) return
  yield* Report.note(
    [
      "AZURE_* variables are set, but this demo always runs on the bundled emulator: it signs a user in",
      "headlessly, which real Entra does not allow. To use real Entra ID instead:",
      "  • from a terminal: `effect-entra login` then `effect-entra token --scope <scope>` (packages/cli), or",
      "  • in your program: AuthorizationCodeCredential.layerConfig() reads AZURE_TENANT_ID, AZURE_CLIENT_ID,",
      "    AZURE_REDIRECT_URI, AZURE_AUTHORIZATION_CODE, AZURE_CLIENT_SECRET, AZURE_CODE_VERIFIER and",
      "    AZURE_AUTHORITY_HOST (see docs/getting-started.md).",
      ""
    ].join("\n")
  )
})

const nanos = (duration: Duration.Duration): bigint => Option.getOrElse(Duration.toNanos(duration), () => 0n)

const bearer = (token: Redacted.Redacted<string>) => HttpClientRequest.bearerToken(Redacted.value(token))

interface Walk {
  readonly emulator: Emulator["Type"]
  readonly credential: AuthorizationCodeCredential.AuthorizationCodeCredential["Type"]
  readonly http: HttpClient.HttpClient
  readonly clock: OffsetClock.OffsetClock
}

const grants = ({ emulator }: Walk, grantType: string) =>
  Effect.map(emulator.requests({ endpoint: "token", grantType }), (entries) => entries.length)

const expiresIn = ({ clock }: Walk, expiresOnTimestamp: number) =>
  Report.duration(expiresOnTimestamp - clock.unsafeCurrentTimeMillis())

// 3. RedeemCode: the first getToken redeems the code.
const redeemStep = Effect.fnUntraced(function*(walk: Walk) {
  const { credential, emulator } = walk
  const [redeemTime, first] = yield* Effect.timed(credential.getToken(emulator.defaults.scope))
  const claims = yield* TokenClaims.decode(Redacted.value(first.token))
  const account = yield* credential.account
  yield* Report.step(
    3,
    "RedeemCode",
    `authorization_code grant → ${Report.green("200")} in ${Report.elapsed(nanos(redeemTime))}`,
    `account   ${
      Option.match(account, {
        onNone: () => "?",
        onSome: (a) => `${a.username ?? a.homeAccountId} (${a.homeAccountId})`
      })
    }`,
    `claims    name=${claims.name} · preferred_username=${claims.preferred_username} · tid=${claims.tid}`,
    `          aud=${claims.aud} · scp=${claims.scp} · ver=${claims.ver}`,
    `token     ${Report.dim(`<redacted, ${Redacted.value(first.token).length} characters>`)} · expires in ${
      expiresIn(walk, first.expiresOnTimestamp)
    }`
  )
  return first
})

// 4. CacheLookup: the same token, a thousand times, without a request.
const lookupStep = Effect.fnUntraced(function*(walk: Walk, first: AccessToken) {
  const timings: Array<bigint> = []
  let same = true
  for (let i = 0; i < 1000; i++) {
    const [time, again] = yield* Effect.timed(walk.credential.getToken(walk.emulator.defaults.scope))
    timings.push(nanos(time))
    same &&= Redacted.value(again.token) === Redacted.value(first.token)
  }
  timings.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  yield* Report.step(
    4,
    "CacheLookup",
    `${same ? "the same token" : Report.yellow("a different token")} from the cache, 1,000 times: ` +
      `median ${Report.elapsed(timings[500])} per call (the Effect API, each call timed, the hit counter included; ` +
      "no span: Effect's default tracer records none)",
    Report.dim(
      `token requests to Entra so far: ${
        (yield* grants(walk, "authorization_code")) + (yield* grants(walk, "refresh_token"))
      }`
    )
  )
})

// 5. RefreshToken: move both clocks into the renewal window.
const refreshStep = Effect.fnUntraced(function*(walk: Walk, first: AccessToken) {
  walk.clock.advance(jump)
  yield* walk.emulator.advanceTime(jump)
  const [refreshTime, renewed] = yield* Effect.timed(walk.credential.getToken(walk.emulator.defaults.scope))
  yield* Report.step(
    5,
    "RefreshToken",
    `clock moved ${Report.duration(jump)} ahead: the token has ${
      expiresIn(walk, first.expiresOnTimestamp)
    } left, inside the 5-minute window`,
    `refresh_token grant → ${Report.green("a new token")} in ${Report.elapsed(nanos(refreshTime))} · expires in ${
      expiresIn(walk, renewed.expiresOnTimestamp)
    }`,
    Report.dim(
      `code redemptions: ${yield* grants(walk, "authorization_code")} · refreshes: ${yield* grants(
        walk,
        "refresh_token"
      )}`
    )
  )
  return renewed
})

const callResource = ({ emulator, http }: Walk, token: Redacted.Redacted<string>) =>
  http.execute(HttpClientRequest.get(`${emulator.authority}/_resource/me`).pipe(bearer(token))).pipe(
    Effect.flatMap((response) =>
      Effect.map(response.json, (body) => ({
        status: response.status,
        body: body as { readonly name?: string },
        challenge: response.headers["www-authenticate"]
      }))
    ),
    Effect.scoped
  )

// 6. A claims challenge (continuous access evaluation) from the emulator's protected resource.
const claimsStep = Effect.fnUntraced(function*(walk: Walk, current: AccessToken) {
  const { clock, credential, emulator } = walk
  const before = yield* callResource(walk, current.token)
  yield* emulator.challengeResource({
    access_token: { nbf: { essential: true, value: String(Math.floor(clock.unsafeCurrentTimeMillis() / 1000)) } }
  })
  const challenged = yield* callResource(walk, current.token)
  const encoded = /claims="([^"]+)"/.exec(challenged.challenge ?? "")?.[1]
  if (encoded === undefined) return yield* Effect.fail(new Error("The resource did not send a claims challenge"))
  const claimsRequest = Buffer.from(encoded, "base64").toString("utf8")
  const fresh = yield* credential.getToken(emulator.defaults.scope, { claims: claimsRequest })
  const after = yield* callResource(walk, fresh.token)
  const later = yield* credential.getToken(emulator.defaults.scope)
  const replaced = Redacted.value(later.token) === Redacted.value(fresh.token)
  yield* Report.step(
    6,
    "Claims",
    `GET /_resource/me with the token → ${Report.green(String(before.status))} (${before.body.name})`,
    `the resource revokes earlier tokens (CAE) → ${Report.yellow(String(challenged.status))} insufficient_claims`,
    `getToken(scope, { claims }) → a fresh token from Entra, bypassing the cache`,
    `retry → ${Report.green(String(after.status))} (${after.body.name})`,
    Report.dim(
      `later getToken(scope) calls ${replaced ? "get the new token from the cache" : "still get the old token"}`
    )
  )
})

// 1–2. The emulator, and a user signed in headlessly with PKCE.
const signInStep = Effect.fnUntraced(function*(emulator: Emulator["Type"]) {
  const defaults = emulator.defaults
  const user = defaults.users[0]
  yield* Report.step(
    1,
    "Emulator",
    `${emulator.authority}  (HTTPS, CA generated at start)`,
    Report.dim(`tenant ${defaults.tenantId} · app ${defaults.clientId}`)
  )
  // PKCE (RFC 7636): the verifier stays here, only its S256 hash goes to /authorize.
  const pkce = AuthorizationRequest.makePkce()
  const signIn = yield* emulator.signIn({
    username: user.username,
    redirectUri: defaults.redirectUri,
    codeChallenge: pkce.codeChallenge,
    codeChallengeMethod: pkce.codeChallengeMethod
  })
  yield* Report.step(
    2,
    "Sign-in",
    `${user.username} signed in headlessly (prompt=none, PKCE S256)`,
    Report.dim(`authorization code received at ${defaults.redirectUri}`)
  )
  return { code: signIn.code, codeVerifier: pkce.codeVerifier }
})

/**
 * The whole walk-through. Needs only the emulator; everything else is built inside and closed on the way out.
 *
 * @since 0.1.0
 * @category programs
 */
export const program: Effect.Effect<void, unknown, Emulator> = Effect.gen(function*() {
  yield* Report.title("effect-entra · the authorization-code flow against the bundled Entra ID emulator")
  yield* explainRealEntra
  const emulator = yield* Emulator
  const defaults = emulator.defaults
  const { code, codeVerifier } = yield* signInStep(emulator)
  const clock = OffsetClock.make()
  const credentialLayer = AuthorizationCodeCredential.layer({
    tenantId: defaults.tenantId,
    clientId: defaults.clientId,
    redirectUri: defaults.redirectUri,
    authority: emulator.authority,
    authorizationCode: Redacted.make(code),
    clientSecret: Redacted.make(defaults.clientSecret),
    codeVerifier
  }).pipe(Layer.provide(TokenCache.layerMemory))

  yield* Effect.gen(function*() {
    const walk: Walk = {
      emulator,
      credential: yield* AuthorizationCodeCredential.AuthorizationCodeCredential,
      http: yield* HttpClient.HttpClient,
      clock
    }
    const first = yield* redeemStep(walk)
    yield* lookupStep(walk, first)
    const renewed = yield* refreshStep(walk, first)
    yield* claimsStep(walk, renewed)
  }).pipe(
    Effect.provide(credentialLayer),
    Effect.provide(NodeHttp.layer({ ca: emulator.caPem })),
    Effect.withClock(clock)
  )
  yield* Report.step(7, "Shutdown", "credential, HTTP pool and emulator closed")
})

/**
 * The program with its emulator.
 *
 * @since 0.1.0
 * @category programs
 */
export const main: Effect.Effect<void, unknown> = program.pipe(Effect.provide(Emulator.layer()))
