import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    name: "@effect-entra/demo",
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000
  }
})
