import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    name: "@effect-entra/cli",
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/globalSetup.ts"],
    testTimeout: 30_000
  }
})
