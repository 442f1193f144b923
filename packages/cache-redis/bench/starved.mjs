// A busy process against a healthy Redis: the event loop is blocked for S ms right after a read is sent. Counts how
// many reads still get Redis's answer (instead of reading as "Redis down" and answering from memory), per S.
// Run: cd /work/main && npx tsc -b packages/cache-redis && node packages/cache-redis/bench/starved.mjs
import { TokenCache } from "@effect-entra/identity"
import { Effect, Exit, Option, Redacted, Scope } from "effect"
import { RedisConnection, RedisTokenCache } from "../dist/index.js"
import { startRedis } from "./redis-server.mjs"

const stalls = (process.env.STALLS ?? "0,50,150,300,600,900,1200,2000").split(",").map(Number)
const tries = Number(process.env.TRIES ?? 10)
const redis = await startRedis()
const block = (ms) => {
  const until = performance.now() + ms
  while (performance.now() < until) {
    // busy
  }
}
const accountKey = TokenCache.accountKey({ authority: "https://login.example", clientId: "app", homeAccountId: "u.t" })
const entry = {
  homeAccountId: "u.t",
  authority: "https://login.example",
  clientId: "app",
  tenantId: "t",
  refreshToken: Redacted.make("rt"),
  version: 1,
  updatedOn: 0
}
const rows = []
for (const stall of stalls) {
  let answered = 0
  for (let i = 0; i < tries; i++) {
    const namespace = `starved-${stall}-${i}:`
    const program = Effect.gen(function*() {
      const writer = yield* RedisTokenCache.make({ url: Redacted.make(redis.url), namespace })
      yield* writer.setAccount(accountKey, entry)
      const base = yield* RedisConnection.make({ url: Redacted.make(redis.url) })
      const client = new Proxy(base.client, {
        get: (target, prop) => {
          const value = Reflect.get(target, prop, target)
          if (typeof value !== "function") return value
          if (prop !== "hmget") return value.bind(target)
          return (...args) => {
            const reply = value.apply(target, args)
            queueMicrotask(() => block(stall))
            return reply
          }
        }
      })
      const reader = yield* RedisTokenCache.makeWithConnection({ ...base, client }, {
        namespace,
        warnInterval: "1 hour"
      })
      return Option.isSome(yield* reader.getAccount(accountKey))
    })
    const scope = Effect.runSync(Scope.make())
    if (await Effect.runPromise(Scope.extend(program, scope).pipe(Effect.ensuring(Scope.close(scope, Exit.void))))) {
      answered++
    }
  }
  rows.push({ "loop blocked (ms)": stall, "reads answered by Redis": `${answered}/${tries}` })
}
console.table(rows)
console.log(JSON.stringify({ node: process.version, rows }))
await redis.stop()
process.exit(0)
