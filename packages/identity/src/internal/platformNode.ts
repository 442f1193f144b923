import type * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import type * as Undici from "@effect/platform-node/Undici"
import * as Effect from "effect/Effect"
import { describeCause, PlatformNodeMissingError } from "./platformNodeError.js"

/**
 * The parts of `@effect/platform-node` that `NodeHttp` uses.
 *
 * @internal
 */
export interface PlatformNode {
  readonly NodeHttpClient: typeof NodeHttpClient
  readonly Undici: typeof Undici
}

const isNotFound = (cause: unknown): boolean => {
  const code = typeof cause === "object" && cause !== null ? (cause as { readonly code?: unknown }).code : undefined
  return (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") &&
    describeCause(cause).includes("@effect/platform-node")
}

// The CommonJS build turns these `import()`s into `require()`s (scripts/build-dist.mjs), so each build loads the
// copy of platform-node that matches its own `effect`; a bundle (the Promise facade) bundles them lazily.
const importPlatformNode = async (): Promise<PlatformNode> => {
  const [client, undici] = await Promise.all([
    import("@effect/platform-node/NodeHttpClient"),
    import("@effect/platform-node/Undici")
  ])
  return { NodeHttpClient: client, Undici: undici }
}

/**
 * Loads `@effect/platform-node` with `importModules` (default: the package itself), once per process: later calls
 * answer synchronously. A missing package fails with a {@link PlatformNodeMissingError} naming it.
 *
 * @internal
 */
export const makeLoader = (
  importModules: () => Promise<PlatformNode> = importPlatformNode
): Effect.Effect<PlatformNode, PlatformNodeMissingError> => {
  let loaded: PlatformNode | undefined
  const load = Effect.tryPromise({
    try: importModules,
    catch: (cause) => new PlatformNodeMissingError({ reason: isNotFound(cause) ? "NotInstalled" : "LoadFailed", cause })
  }).pipe(Effect.tap((modules) => {
    loaded = modules
  }))
  return Effect.suspend(() => loaded === undefined ? load : Effect.succeed(loaded))
}

/**
 * The process's `@effect/platform-node`, loaded on first use (so that importing this package does not need it).
 *
 * @internal
 */
export const loadPlatformNode: Effect.Effect<PlatformNode, PlatformNodeMissingError> = makeLoader()
