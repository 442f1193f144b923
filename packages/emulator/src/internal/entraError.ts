/**
 * The AADSTS error value every endpoint raises.
 *
 * @internal
 */
import * as Data from "effect/Data"

/**
 * An AADSTS failure raised by an endpoint; rendered as a JSON body (token), a redirect (authorize) or a page.
 *
 * @since 0.1.0
 * @category errors
 */
export class EntraError extends Data.TaggedError("EntraError")<{
  readonly status: number
  readonly error: string
  readonly code: number
  readonly text: string
  readonly suberror?: string | undefined
  readonly claims?: string | undefined
}> {
  override get message(): string {
    return `AADSTS${this.code}: ${this.text} (${this.error}, HTTP ${this.status})`
  }
}

/** @internal */
export const make = (code: number, error: string, text: string, status = 400, suberror?: string) =>
  new EntraError({ status, error, code, text, suberror })
