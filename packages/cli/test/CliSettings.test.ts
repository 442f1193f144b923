import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Duration, Effect, Either, FastCheck, Option, Redacted } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as CliOptions from "../src/CliOptions.js"
import * as CliSettings from "../src/CliSettings.js"
import { tempDir } from "./fixtures/cli.js"

const flags = (overrides: Partial<CliSettings.Flags> = {}): CliSettings.Flags => ({
  authority: Option.none(),
  tenant: Option.none(),
  clientId: Option.none(),
  cacheDir: Option.none(),
  emulator: false,
  ...overrides
})

const withEnv = (env: Record<string, string>) =>
  Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))

const resolve = (f: CliSettings.Flags, env: Record<string, string> = {}) =>
  CliSettings.resolve(f, { checkEmulatorReachable: false }).pipe(withEnv(env))

const withConfigFile = (contents: object) => {
  const cacheDir = tempDir()
  Fs.writeFileSync(Path.join(cacheDir, "config.json"), JSON.stringify(contents))
  return cacheDir
}

describe("CliSettings", () => {
  it.effect("flags win over the environment, which wins over the config file, which wins over defaults", () =>
    Effect.gen(function*() {
      const cacheDir = withConfigFile({
        authority: "https://login.microsoftonline.us",
        tenantId: "config-tenant.example",
        clientId: "config-client"
      })
      const fromFile = yield* resolve(flags({ cacheDir: Option.some(cacheDir) }))
      assert.deepStrictEqual(
        [fromFile.authority, fromFile.tenantId, fromFile.clientId],
        ["https://login.microsoftonline.us", "config-tenant.example", "config-client"]
      )
      assert.deepStrictEqual(fromFile.sources, {
        authority: "config",
        tenantId: "config",
        clientId: "config",
        cacheDir: "flag"
      })

      const env = {
        AZURE_AUTHORITY_HOST: "login.chinacloudapi.cn",
        AZURE_TENANT_ID: "env-tenant.example",
        AZURE_CLIENT_ID: "env-client"
      }
      const fromEnv = yield* resolve(flags({ cacheDir: Option.some(cacheDir) }), env)
      assert.deepStrictEqual(
        [fromEnv.authority, fromEnv.tenantId, fromEnv.clientId],
        ["https://login.chinacloudapi.cn", "env-tenant.example", "env-client"]
      )

      const fromFlags = yield* resolve(
        flags({
          cacheDir: Option.some(cacheDir),
          authority: Option.some("https://login.microsoftonline.com/"),
          tenant: Option.some("flag-tenant.example"),
          clientId: Option.some("flag-client")
        }),
        env
      )
      assert.deepStrictEqual(
        [fromFlags.authority, fromFlags.tenantId, fromFlags.clientId],
        ["https://login.microsoftonline.com", "flag-tenant.example", "flag-client"]
      )
      assert.deepStrictEqual(Object.values(fromFlags.sources).slice(0, 3), ["flag", "flag", "flag"])

      const defaults = yield* resolve(flags({ cacheDir: Option.some(tempDir()), clientId: Option.some("c") }))
      assert.strictEqual(defaults.authority, "https://login.microsoftonline.com")
      assert.strictEqual(defaults.tenantId, "organizations")
      assert.strictEqual(defaults.redirectUri, "http://127.0.0.1/callback")
      assert.deepStrictEqual(defaults.loginScopes, ["https://graph.microsoft.com/User.Read"])
    }))

  it.effect("the client secret comes from AZURE_CLIENT_SECRET before the config file, and stays redacted", () =>
    Effect.gen(function*() {
      const cacheDir = withConfigFile({ clientId: "c", clientSecret: "from-file" })
      const fromFile = yield* resolve(flags({ cacheDir: Option.some(cacheDir) }))
      assert.strictEqual(Redacted.value(fromFile.clientSecret!), "from-file")
      const fromEnv = yield* resolve(flags({ cacheDir: Option.some(cacheDir) }), { AZURE_CLIENT_SECRET: "from-env" })
      assert.strictEqual(Redacted.value(fromEnv.clientSecret!), "from-env")
      assert.notInclude(JSON.stringify(fromEnv), "from-env")
      const none = yield* resolve(flags({ cacheDir: Option.some(tempDir()), clientId: Option.some("c") }))
      assert.isUndefined(none.clientSecret)
    }))

  it.effect("the cache folder: --cache-dir, else EFFECT_ENTRA_CACHE_DIR, else $XDG_STATE_HOME/effect-entra, else ~", () =>
    Effect.gen(function*() {
      const byFlag = yield* CliSettings.resolveCacheDir(Option.some("/tmp/x")).pipe(
        withEnv({ EFFECT_ENTRA_CACHE_DIR: "/tmp/y" })
      )
      assert.deepStrictEqual(byFlag, { cacheDir: "/tmp/x", source: "flag" })
      const byEnv = yield* CliSettings.resolveCacheDir(Option.none()).pipe(
        withEnv({ EFFECT_ENTRA_CACHE_DIR: "/tmp/y", XDG_STATE_HOME: "/tmp/state" })
      )
      assert.deepStrictEqual(byEnv, { cacheDir: "/tmp/y", source: "env" })
      const byXdg = yield* CliSettings.resolveCacheDir(Option.none()).pipe(withEnv({ XDG_STATE_HOME: "/tmp/state" }))
      assert.strictEqual(byXdg.cacheDir, "/tmp/state/effect-entra")
      const byHome = yield* CliSettings.resolveCacheDir(Option.none()).pipe(withEnv({}))
      assert.strictEqual(byHome.cacheDir, Path.join(Os.homedir(), ".effect-entra"))
      const tilde = yield* CliSettings.resolveCacheDir(Option.some("~/cache")).pipe(withEnv({}))
      assert.strictEqual(tilde.cacheDir, Path.join(Os.homedir(), "cache"))
    }))

  it.effect("bad values are SettingsErrors naming their source", () =>
    Effect.gen(function*() {
      const cacheDir = tempDir()
      const http = yield* Effect.flip(
        resolve(flags({ cacheDir: Option.some(cacheDir), clientId: Option.some("c") }), {
          AZURE_AUTHORITY_HOST: "http://login.example"
        })
      )
      assert.include(http.message, "invalid authority (from env): the authority must use https")
      const tenant = yield* Effect.flip(
        resolve(flags({ cacheDir: Option.some(cacheDir), clientId: Option.some("c"), tenant: Option.some("a/b") }))
      )
      assert.include(tenant.message, "invalid tenant (from flag)")
      const redirect = yield* Effect.flip(
        resolve(
          flags({ cacheDir: Option.some(withConfigFile({ clientId: "c", redirectUri: "http://example.com/cb" })) })
        )
      )
      assert.include(redirect.message, "the host must be 127.0.0.1 or localhost")
    }))

  it.effect("default scopes: EFFECT_ENTRA_SCOPE, else the config file's \"scopes\" (not read with --emulator)", () =>
    Effect.gen(function*() {
      const cacheDir = withConfigFile({ clientId: "c", scopes: ["api://config/read"] })
      const byFlags = flags({ cacheDir: Option.some(cacheDir) })
      assert.deepStrictEqual(yield* CliSettings.resolveDefaultScopes(byFlags).pipe(withEnv({})), {
        scopes: ["api://config/read"],
        source: "config"
      })
      assert.deepStrictEqual(
        yield* CliSettings.resolveDefaultScopes(byFlags).pipe(
          withEnv({ EFFECT_ENTRA_SCOPE: "api://env/a api://env/b" })
        ),
        { scopes: ["api://env/a api://env/b"], source: "env" }
      )
      const emulatorFlags = flags({ cacheDir: Option.some(cacheDir), emulator: true })
      assert.isUndefined(yield* CliSettings.resolveDefaultScopes(emulatorFlags).pipe(withEnv({})))
      assert.isUndefined(
        yield* CliSettings.resolveDefaultScopes(flags({ cacheDir: Option.some(tempDir()) })).pipe(withEnv({}))
      )
      // login asks for the same scopes; without any, its built-in default.
      const settings = yield* resolve(byFlags)
      assert.deepStrictEqual(settings.loginScopes, ["api://config/read"])
      assert.deepStrictEqual(settings.defaultScopes, { scopes: ["api://config/read"], source: "config" })
      const bare = yield* resolve(flags({ cacheDir: Option.some(tempDir()), clientId: Option.some("c") }))
      assert.isUndefined(bare.defaultScopes)
      assert.deepStrictEqual(bare.loginScopes, CliSettings.defaults.loginScopes)
    }))

  it.effect("a config redirect URI keeps its path and loses any port", () =>
    Effect.gen(function*() {
      const cacheDir = withConfigFile({ clientId: "c", redirectUri: "http://localhost:8400/auth/done" })
      const settings = yield* resolve(flags({ cacheDir: Option.some(cacheDir) }))
      assert.strictEqual(settings.redirectUri, "http://localhost/auth/done")
    }))

  it("durations: 90s, 5m, 1h, 1500ms, 300, '5 minutes'; nothing else", () => {
    const ms = (text: string) => Either.map(CliOptions.parseDuration(text), Duration.toMillis)
    assert.deepStrictEqual(ms("90s"), Either.right(90_000))
    assert.deepStrictEqual(ms("5m"), Either.right(300_000))
    assert.deepStrictEqual(ms("1h"), Either.right(3_600_000))
    assert.deepStrictEqual(ms("1500ms"), Either.right(1500))
    assert.deepStrictEqual(ms("300"), Either.right(300_000))
    assert.deepStrictEqual(ms("5 minutes"), Either.right(300_000))
    for (const bad of ["", "soon", "0s", "-5m", "5 parsecs"]) assert.isTrue(Either.isLeft(ms(bad)), bad)
  })

  it.prop("every whole number of seconds parses to itself", [FastCheck.integer({ min: 1, max: 10_000_000 })], ([n]) => {
    assert.deepStrictEqual(Either.map(CliOptions.parseDuration(`${n}s`), Duration.toMillis), Either.right(n * 1000))
  })
})
