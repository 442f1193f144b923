/**
 * The first request of the device authorization grant (RFC 8628 §3.1, §3.2): `POST /{tenant}/oauth2/v2.0/devicecode`
 * with the client id and the scopes; the answer is decoded and checked before it is shown to anyone.
 *
 * @internal
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { AuthenticationError } from "../AuthenticationError.js"
import { readBounded } from "./boundedBody.js"
import { asDeviceCodeError } from "./deviceCodeErrors.js"
import { allowListed, excerpt } from "./errorBody.js"
import type { ResolvedHttpOptions } from "./httpOptions.js"
import { innerCause, interpretOutcome } from "./tokenAnswer.js"
import type { Outcome } from "./tokenRetry.js"

/** Entra's answer: RFC 8628's fields plus `message`, the sentence to show the user. */
const DeviceAuthorizationBody = Schema.Struct({
  device_code: Schema.Redacted(Schema.String),
  user_code: Schema.String,
  verification_uri: Schema.String,
  expires_in: Schema.Union(Schema.Number, Schema.NumberFromString),
  interval: Schema.optional(Schema.Union(Schema.Number, Schema.NumberFromString)),
  message: Schema.optional(Schema.String)
})

const decodeBody = Schema.decodeUnknownEither(DeviceAuthorizationBody, { errors: "all" })

/** Bounds on the answer: Entra gives 900 s and 5 s. */
export const deviceCodeBounds = {
  maxExpiresInSeconds: 24 * 3600,
  maxIntervalSeconds: 3600,
  /** RFC 8628 §3.2: without `interval`, clients wait 5 s. */
  defaultIntervalSeconds: 5,
  maxUserCodeLength: 64
} as const

/** The checked answer; `requestedOn` (epoch ms) is when the request was sent: the code's lifetime counts from it. */
export interface DeviceAuthorization {
  readonly deviceCode: Redacted.Redacted<string>
  readonly userCode: string
  readonly verificationUri: string
  readonly message: string
  readonly expiresIn: number
  readonly interval: number
  readonly requestedOn: number
}

const isWhole = (value: number, min: number, max: number) => Number.isInteger(value) && value >= min && value <= max

const isWebUrl = (text: string) => {
  try {
    const url = new URL(text)
    return url.protocol === "https:" || url.protocol === "http:"
  } catch {
    return false
  }
}

/** The answer's fields, checked; a failure names fields, never values (the device code is a secret). */
const check = (
  body: typeof DeviceAuthorizationBody.Type,
  requestedOn: number
): Either.Either<DeviceAuthorization, string> => {
  const interval = body.interval ?? deviceCodeBounds.defaultIntervalSeconds
  if (Redacted.value(body.device_code).trim() === "") return Either.left("device_code is empty")
  const userCode = body.user_code.trim()
  if (userCode === "" || userCode.length > deviceCodeBounds.maxUserCodeLength) {
    return Either.left("user_code is empty or too long")
  }
  if (!isWebUrl(body.verification_uri)) return Either.left("verification_uri is not an http(s) URL")
  if (!isWhole(body.expires_in, 1, deviceCodeBounds.maxExpiresInSeconds)) {
    return Either.left(`expires_in is not a whole number of seconds from 1 to ${deviceCodeBounds.maxExpiresInSeconds}`)
  }
  if (!isWhole(interval, 1, deviceCodeBounds.maxIntervalSeconds)) {
    return Either.left(`interval is not a whole number of seconds from 1 to ${deviceCodeBounds.maxIntervalSeconds}`)
  }
  return Either.right({
    deviceCode: body.device_code,
    userCode,
    verificationUri: body.verification_uri,
    // Entra always sends one; RFC 8628 servers need not.
    message: body.message ??
      `To sign in, use a web browser to open the page ${body.verification_uri} and enter the code ${userCode} ` +
        "to authenticate.",
    expiresIn: body.expires_in,
    interval,
    requestedOn
  })
}

const issuePaths = (error: ParseResult.ParseError): string => {
  const paths = ParseResult.ArrayFormatter.formatErrorSync(error).map((issue) =>
    issue.path.length === 0 ? "(body)" : issue.path.join(".")
  )
  return `invalid ${Array.from(new Set(paths)).join(", ")}`
}

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

const invalidAnswer = (detail: string, parsed: unknown, text: string) =>
  new AuthenticationError({
    reason: "InvalidResponse",
    statusCode: 200,
    errorResponse: {
      error: "invalid_response",
      errorDescription: `The device authorization endpoint answered HTTP 200 with an unusable answer: ${detail}`
    },
    attempts: 1,
    body: typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
      ? allowListed(parsed as Record<string, unknown>, []).body
      : excerpt(text, [])
  })

/** The device authorization endpoint of a tenant (the token endpoint's sibling). */
export const deviceCodeEndpoint = (authority: string, tenantId: string): string =>
  `${authority}/${encodeURIComponent(tenantId)}/oauth2/v2.0/devicecode`

/** Asks for a device code: one attempt, bounded by the request time-out and the body cap. */
export const requestDeviceCode = (
  client: HttpClient.HttpClient,
  settings: ResolvedHttpOptions,
  parameters: {
    readonly authority: string
    readonly tenantId: string
    readonly clientId: string
    readonly scopes: ReadonlyArray<string>
  }
): Effect.Effect<DeviceAuthorization, AuthenticationError> =>
  Effect.gen(function*() {
    const requestedOn = yield* Clock.currentTimeMillis
    const request = HttpClientRequest.post(deviceCodeEndpoint(parameters.authority, parameters.tenantId)).pipe(
      HttpClientRequest.acceptJson,
      HttpClientRequest.bodyUrlParams({ client_id: parameters.clientId, scope: parameters.scopes.join(" ") })
    )
    const timeoutMs = Math.min(settings.requestTimeoutMs, settings.deadlineMs)
    const outcome = yield* client.execute(request).pipe(
      Effect.flatMap((response) =>
        Effect.map(readBounded(response, settings.maxResponseBytes), (body): Outcome => ({
          _tag: "Answer",
          status: response.status,
          headers: response.headers,
          body
        }))
      ),
      Effect.timeoutTo({
        duration: Duration.millis(timeoutMs),
        onTimeout: (): Outcome => ({ _tag: "Timeout", timeoutMs, byDeadline: false }),
        onSuccess: (outcome) => outcome
      }),
      Effect.catchAll((error: HttpClientError.HttpClientError) =>
        Effect.succeed<Outcome>({ _tag: "Transport", cause: innerCause(error) })
      )
    )
    if (outcome._tag !== "Answer" || outcome.status !== 200 || outcome.body._tag !== "Text") {
      // Errors read like the token endpoint's: Entra's allow-listed fields, the status, the transport's cause.
      return yield* Effect.flatMap(
        interpretOutcome(outcome, {
          grantType: "device_code",
          attempts: 1,
          requestedOn,
          retryAfterMs: undefined,
          secrets: [],
          deadlineMs: settings.deadlineMs
        }),
        () => Effect.die("a device authorization error answer was read as a token response")
      ).pipe(Effect.mapError((error) => asDeviceCodeError(error, [])))
    }
    const { text } = outcome.body
    const parsed = parseJson(text)
    const decoded = Either.flatMap(Either.mapLeft(decodeBody(parsed), issuePaths), (body) => check(body, requestedOn))
    if (Either.isLeft(decoded)) return yield* invalidAnswer(decoded.left, parsed, text)
    return decoded.right
  })
