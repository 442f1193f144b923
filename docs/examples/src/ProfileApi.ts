/**
 * The HTTP face of the application: `GET /profile` answers with whoever the protected API says the signed-in user
 * is (through `ProfileService`, so through the signed `HttpClient`), `GET /health` says the process is up.
 */
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServer from "@effect/platform/HttpServer"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import type { ProfileError } from "./ProfileService.js"
import { Profile, ProfileService } from "./ProfileService.js"

/** What each `ProfileError` tells this server's caller: the user must sign in again, or the upstream API failed. */
const statusOf = (error: ProfileError): number => {
  switch (error.reason) {
    case "SignInRequired":
      return 401
    case "Unavailable":
      return 503
    case "Unauthorized":
    case "InvalidResponse":
      return 502
  }
}

const profile = Effect.gen(function*() {
  const profiles = yield* ProfileService
  const me = yield* profiles.me
  return yield* HttpServerResponse.schemaJson(Profile)(me)
}).pipe(
  // Only the reason goes out: the cause may quote the upstream response.
  Effect.catchTag(
    "ProfileError",
    (error) => HttpServerResponse.json({ error: error.reason, message: error.message }, { status: statusOf(error) })
  ),
  Effect.withSpan("ProfileApi.profile")
)

export const router = HttpRouter.empty.pipe(
  HttpRouter.get("/health", HttpServerResponse.json({ status: "ok" })),
  HttpRouter.get("/profile", profile)
)

/** Serves {@link router} on whatever `HttpServer` is provided (a Node server in `AppLayer.ServerLive`). */
export const layer: Layer.Layer<never, never, HttpServer.HttpServer | ProfileService> = HttpServer.serve(router)
