/**
 * `pnpm --filter @effect-entra/examples serve` (after `pnpm --filter @effect-entra/examples build`): starts the
 * emulator, signs a user in and serves `GET /profile` and `GET /health` on loopback until interrupted (Ctrl-C).
 * `PORT` picks the port (default: any free one); the address is logged.
 */
import { Emulator } from "@effect-entra/emulator"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as HttpServer from "@effect/platform/HttpServer"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { DemoServerLive } from "./Demo.js"

Layer.unwrapEffect(
  Effect.map(Config.integer("PORT").pipe(Config.withDefault(0)), (port) => DemoServerLive({ listen: { port } }))
).pipe(
  HttpServer.withLogAddress,
  Layer.provide(Emulator.layer()),
  Layer.launch,
  NodeRuntime.runMain
)
