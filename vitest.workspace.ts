// The test projects: one per package. The root vitest.config.ts feeds this list into `test.projects`
// (vitest 3.2 deprecates workspace files, so nothing reads this file directly).
export default ["packages/*", "docs/examples"]
