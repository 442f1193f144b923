import { it } from "@effect/vitest"
import { Effect } from "effect"

it.effect("smoke", () => Effect.sync(() => undefined))
