/**
 * `pnpm --filter @effect-entra/examples start` (after `pnpm --filter @effect-entra/examples build`): starts the
 * emulator, runs the graph and prints who the API says you are.
 */
import { Emulator } from "@effect-entra/emulator"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { demo } from "./Demo.js"

NodeRuntime.runMain(
  demo().pipe(
    Effect.flatMap(({ afterChallenge, profile }) =>
      Console.log(
        `${profile.name} <${profile.preferred_username}> (tenant ${profile.tid})\n` +
          `after a claims challenge: still ${afterChallenge.preferred_username}`
      )
    ),
    Effect.provide(Emulator.layer())
  )
)
