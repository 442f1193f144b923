/**
 * The emulator's own error (start-up and control calls).
 *
 * @internal
 */
import * as Data from "effect/Data"

/**
 * The emulator failed to start, or a control call was invalid. The message says why; it never holds a secret.
 *
 * @since 0.1.0
 * @category errors
 */
export class EmulatorError extends Data.TaggedError("EmulatorError")<{
  readonly reason: string
  readonly cause?: unknown
}> {
  override get message(): string {
    return this.reason
  }
}
