import type { FastifyBaseLogger } from 'fastify'
import type { Config } from '../config/index.js'
import type { Db } from '../database.js'
import { type Clock, toDate } from '../lib/clock.js'
import type { TokenSigner } from './jwt.js'
import { KEY_MAINTENANCE_INTERVAL_MS, retiredKeyGraceMs } from './key-timeline.js'
import { deleteSigningKeysRetiredBefore, listSigningKeys } from './signing-keys.repository.js'

export { KEY_MAINTENANCE_INTERVAL_MS }

export interface KeyMaintenanceResult { rotated: string | undefined, pruned: number }

/**
 * One pass of key upkeep, run on a timer by every instance (and by `keys prune`):
 * 1. reload, so an instance stops signing with a key another instance retired;
 * 2. rotate when the newest key (pending ones included) is older than SIGNING_KEY_ROTATION_DAYS:
 *    the new key is published now and signs only after the lead time of `key-timeline.ts`;
 * 3. delete retired keys once every token they signed has expired (see `retiredKeyGraceMs`).
 */
export async function maintainSigningKeys (deps: { db: Db, config: Config, clock: Clock, signer: TokenSigner }): Promise<KeyMaintenanceResult> {
  const { db, config, clock, signer } = deps
  if (signer.algorithm === 'HS256') return { rotated: undefined, pruned: 0 }
  await signer.reload()
  let rotated: string | undefined
  if (config.signingKeyRotationDays > 0) {
    const newest = (await listSigningKeys(db)).find((row) => row.alg === signer.algorithm && row.retired_at === null)
    const ageMs = newest ? clock.now().getTime() - toDate(newest.created_at).getTime() : Infinity
    // Two instances due in the same pass may retire each other's new key; with no active key
    // left, the next pass finds the rotation due again and converges on one.
    if (ageMs >= config.signingKeyRotationDays * 86_400_000) rotated = await signer.rotate()
  }
  const pruned = await pruneRetiredKeys({ db, config, clock })
  if (pruned > 0) await signer.reload()
  return { rotated, pruned }
}

/** Deletes keys retired long enough ago that no token they signed can still be valid. */
export async function pruneRetiredKeys (deps: { db: Db, config: Config, clock: Clock }): Promise<number> {
  const graceMs = retiredKeyGraceMs(deps.config.tokens.accessTtlSeconds)
  const before = new Date(deps.clock.now().getTime() - graceMs).toISOString()
  const count = (await listSigningKeys(deps.db)).filter((row) => row.retired_at !== null && toDate(row.retired_at).toISOString() < before).length
  if (count > 0) await deleteSigningKeysRetiredBefore(deps.db, before)
  return count
}

/** Starts the periodic upkeep; stopped by the returned function (called from onClose). */
export function scheduleKeyMaintenance (deps: { db: Db, config: Config, clock: Clock, signer: TokenSigner, log: FastifyBaseLogger }): () => void {
  let running = false
  const timer = setInterval(() => {
    if (running) return
    running = true
    maintainSigningKeys(deps).then((result) => {
      if (result.rotated) deps.log.info({ kid: result.rotated }, 'signing key rotated')
      if (result.pruned > 0) deps.log.info({ count: result.pruned }, 'retired signing keys deleted')
    }, (error: unknown) => {
      deps.log.warn({ err: error }, 'signing key maintenance failed')
    }).finally(() => { running = false })
  }, KEY_MAINTENANCE_INTERVAL_MS)
  timer.unref()
  return () => clearInterval(timer)
}
