/**
 * A service of your own that calls a protected API with the signed `HttpClient`: it never sees a token, only
 * `AuthenticatedHttpClient` in its layer's requirements.
 */
import * as AuthenticatedHttpClient from "@effect-entra/identity/AuthenticatedHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"

/** Who the API says the caller is (the body of `GET /_resource/me`). */
export class Profile extends Schema.Class<Profile>("Profile")({
  oid: Schema.String,
  name: Schema.String,
  preferred_username: Schema.String,
  tid: Schema.String
}) {}

/**
 * Why the profile could not be read:
 * - `SignInRequired`: the credential cannot get a token without the user (expired or revoked sign-in);
 * - `Unauthorized`: the API refused the token (401/403) even after answering a claims challenge;
 * - `Unavailable`: no answer, or a 5xx;
 * - `InvalidResponse`: an answer that is not a profile.
 */
export class ProfileError extends Data.TaggedError("ProfileError")<{
  readonly reason: "SignInRequired" | "Unauthorized" | "Unavailable" | "InvalidResponse"
  readonly status?: number | undefined
  readonly cause?: unknown
}> {
  override get message(): string {
    return `cannot read the profile: ${this.reason}${this.status === undefined ? "" : ` (HTTP ${this.status})`}`
  }
}

export interface Service {
  readonly me: Effect.Effect<Profile, ProfileError>
}

export class ProfileService extends Context.Tag("@effect-entra/examples/ProfileService")<ProfileService, Service>() {}

export interface Options {
  /** The API's base URL, e.g. `https://api.contoso.example`. */
  readonly baseUrl: string
}

/** Built from the signed client: URL prefix and status filter go on top of it, where the host checks see them. */
export const make = (
  options: Options
): Effect.Effect<Service, never, AuthenticatedHttpClient.AuthenticatedHttpClient> =>
  Effect.gen(function*() {
    const api = (yield* AuthenticatedHttpClient.AuthenticatedHttpClient).pipe(
      HttpClient.mapRequest(HttpClientRequest.prependUrl(options.baseUrl)),
      HttpClient.mapRequest(HttpClientRequest.acceptJson),
      HttpClient.filterStatusOk
    )

    const me = api.get("/_resource/me").pipe(
      Effect.flatMap(HttpClientResponse.schemaBodyJson(Profile)),
      Effect.catchTags({
        AuthenticationError: (cause) =>
          new ProfileError({
            reason: cause.isInteractionRequired ? "SignInRequired" : "Unavailable",
            status: cause.statusCode,
            cause
          }),
        ResponseError: (cause) => {
          const status = cause.response.status
          const reason = status === 401 || status === 403
            ? "Unauthorized"
            : cause.reason === "StatusCode"
            ? "Unavailable"
            : "InvalidResponse"
          return new ProfileError({ reason, status, cause })
        },
        RequestError: (cause) => new ProfileError({ reason: "Unavailable", cause }),
        ParseError: (cause) => new ProfileError({ reason: "InvalidResponse", cause }),
        // A refused host or invalid option is a bug in this service's wiring, not a runtime condition.
        AuthenticatedHttpClientError: (error) => Effect.die(error),
        InvalidOptionError: (error) => Effect.die(error)
      }),
      Effect.withSpan("ProfileService.me")
    )

    return ProfileService.of({ me })
  })

export const layer = (
  options: Options
): Layer.Layer<ProfileService, never, AuthenticatedHttpClient.AuthenticatedHttpClient> =>
  Layer.effect(ProfileService, make(options))
