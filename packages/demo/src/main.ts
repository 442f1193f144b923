/**
 * `pnpm start`: runs the demo and exits non-zero, with one readable line, if anything fails.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { main } from "./DemoProgram.js"

NodeRuntime.runMain(
  main.pipe(
    Effect.tapError((error) =>
      Console.error(`\nThe demo failed: ${error instanceof Error ? error.message : String(error)}`)
    )
  ),
  { disableErrorReporting: true }
)
