import * as Data from "effect/Data"

/**
 * `NodeHttp` could not load `@effect/platform-node`, an optional peer dependency of `@effect-entra/identity`: the
 * Effect API's other modules work without it, `NodeHttp` does not. The message says what to install.
 *
 * @since 0.1.0
 * @category errors
 */
export class PlatformNodeMissingError extends Data.TaggedError("PlatformNodeMissingError")<{
  /** `NotInstalled`: the package cannot be found; `LoadFailed`: it was found but threw while loading. */
  readonly reason: "NotInstalled" | "LoadFailed"
  readonly cause: unknown
}> {
  override get message(): string {
    return this.reason === "NotInstalled"
      ? "NodeHttp needs @effect/platform-node, an optional peer dependency of @effect-entra/identity: install it " +
        "beside effect and @effect/platform (npm i @effect/platform-node@^0.108), or provide another HttpClient"
      : `NodeHttp could not load @effect/platform-node: ${describeCause(this.cause)}`
  }
}

/** @internal */
export const describeCause = (cause: unknown): string =>
  cause instanceof Error ? cause.message : typeof cause === "string" ? cause : "a non-Error value was thrown"
