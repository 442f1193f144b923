import type * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import type * as Undici from "@effect/platform-node/Undici"
import * as HttpClient from "@effect/platform/HttpClient"
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

// Loaded the way this module's own `@effect/platform` was: from the CommonJS build, `import()` would bring in the
// ESM copies of `effect` and `@effect/platform` beside the CommonJS ones this code already uses. A bundle (the
// Promise facade) has a copy of its own, not the one in `require.cache`, so it takes the `import()` it bundles.
const loadedByRequire = (): boolean => {
  if (typeof require !== "function") return false
  try {
    const cached = require.cache[require.resolve("@effect/platform/HttpClient")]
    return (cached?.exports as typeof HttpClient | undefined)?.HttpClient === HttpClient.HttpClient
  } catch {
    return false
  }
}

// Named through a variable so that a bundler leaves these `require`s alone: a bundle takes the `import()` path,
// which it bundles lazily (a bundled `require` of them would pull all of `effect` in, unshaken).
const commonJsSpecifiers = {
  NodeHttpClient: "@effect/platform-node/NodeHttpClient",
  Undici: "@effect/platform-node/Undici"
} as const

const importPlatformNode = async (): Promise<PlatformNode> => {
  if (loadedByRequire()) {
    return {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- the CommonJS copy, see above
      NodeHttpClient: require(commonJsSpecifiers.NodeHttpClient) as typeof NodeHttpClient,
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- the CommonJS copy, see above
      Undici: require(commonJsSpecifiers.Undici) as typeof Undici
    }
  }
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
