import * as Data from "effect/Data"

/**
 * The cache could not be set up or written. The message names the path and the operating-system reason, never
 * the file's contents or a key.
 *
 * - `InvalidKey`: an encryption key is not 32 bytes in a known encoding.
 * - `WriteFailed`: the folder or file cannot be created or written (the operating system's reason).
 * - `LockTimeout`: another process held the lock for too long.
 * - `Unsafe`: the folder or file is a symbolic link, belongs to another user, or others may write to it.
 * - `KeyMismatch`: the file is encrypted and this process cannot decrypt it (no key, or another key), so it must
 *   not replace it.
 *
 * @since 0.1.0
 * @category errors
 */
export class FileTokenCacheError extends Data.TaggedError("FileTokenCacheError")<{
  readonly reason: "InvalidKey" | "WriteFailed" | "LockTimeout" | "Unsafe" | "KeyMismatch"
  readonly path: string
  readonly detail: string
  readonly cause?: unknown
}> {
  override get message(): string {
    switch (this.reason) {
      case "InvalidKey":
        return `token cache key: ${this.detail}`
      case "LockTimeout":
        return `token cache ${this.path}: ${this.detail}`
      case "Unsafe":
        return `refusing the token cache at ${this.path}: ${this.detail}`
      case "WriteFailed":
      case "KeyMismatch":
        return `cannot write the token cache at ${this.path}: ${this.detail}`
    }
  }
}

interface SystemErrorLike {
  readonly _tag: "SystemError"
  readonly reason: string
  readonly cause?: unknown
}

const asSystemError = (error: unknown): SystemErrorLike | undefined =>
  typeof error === "object" && error !== null && (error as { readonly _tag?: unknown })._tag === "SystemError"
    ? error as SystemErrorLike
    : undefined

/** The operating-system reason of a platform error, e.g. `PermissionDenied (EACCES)`. */
export const reasonOf = (error: unknown): string => {
  const system = asSystemError(error)
  if (system !== undefined) {
    const code = (system.cause as NodeJS.ErrnoException | undefined)?.code
    return code !== undefined ? `${system.reason} (${code})` : system.reason
  }
  if (error instanceof Error) return error.message
  return String(error)
}

export const isAlreadyExists = (error: unknown): boolean => asSystemError(error)?.reason === "AlreadyExists"

export const isNotFound = (error: unknown): boolean => asSystemError(error)?.reason === "NotFound"

/** Nothing there: the path, or one of its parents, does not exist or is not a folder. */
export const isMissingPath = (error: unknown): boolean =>
  isNotFound(error) || (asSystemError(error)?.cause as NodeJS.ErrnoException | undefined)?.code === "ENOTDIR"

/** `0644`. */
export const octal = (mode: number): string => (mode & 0o7777).toString(8).padStart(4, "0")
