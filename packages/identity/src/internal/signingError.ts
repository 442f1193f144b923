import * as Data from "effect/Data"
import type { Reason } from "../AuthenticatedHttpClient.js"

const inspectSymbol = Symbol.for("nodejs.util.inspect.custom")

/**
 * The signed client refused to send a request: no token was fetched and nothing was sent.
 *
 * `url` is the origin and path only: a query string can carry secrets (SAS signatures, codes).
 *
 * @since 0.1.0
 * @category errors
 */
export class AuthenticatedHttpClientError extends Data.TaggedError("AuthenticatedHttpClientError")<{
  readonly reason: Reason
  readonly method: string
  readonly url: string
  readonly description: string
}> {
  override get message(): string {
    return `${this.description} (${this.method} ${this.url})`
  }

  override toJSON(): unknown {
    return {
      _tag: this._tag,
      name: this.name,
      message: this.message,
      reason: this.reason,
      method: this.method,
      url: this.url
    }
  }

  [inspectSymbol](): string {
    return `${this.name}: ${this.message}`
  }
}
