/**
 * One process of a fleet does a piece of work (a redemption, a renewal) while the others wait for its result in
 * the shared cache.
 *
 * @internal
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as TokenCache from "../TokenCache.js"

const leaseTtl = Duration.seconds(30)
const leaseRounds = 5

/**
 * Runs `work` under the cache's lease on `leaseKey`; when another process held it, reads what that process
 * produced (`recheck`) instead.
 *
 * @internal
 */
export const leased = <A, E>(
  cache: TokenCache.Service,
  leaseKey: string,
  recheck: Effect.Effect<Option.Option<A>>,
  work: Effect.Effect<A, E>
): Effect.Effect<A, E> =>
  Effect.gen(function*() {
    // Checked again under the lease: another process may have finished between our read and our lease.
    const underLease = Effect.flatMap(
      recheck,
      (produced): Effect.Effect<A, E> => Option.isSome(produced) ? Effect.succeed(produced.value) : work
    )
    for (let round = 0; round < leaseRounds; round++) {
      const result = yield* cache.withLease(leaseKey, leaseTtl, underLease)
      if (Option.isSome(result)) return result.value
      const produced = yield* recheck
      if (Option.isSome(produced)) return produced.value
    }
    // The fleet could not settle (a holder keeps failing): do the work here rather than fail the caller.
    return yield* work
  })
