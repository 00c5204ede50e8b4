import { ConfigError, loadConfig } from '../config/index.js'
import { createDb } from '../db/create-db.js'
import { migrateToLatest } from '../db/migrate.js'
import { systemClock, toDate, toIso } from '../lib/clock.js'
import { createTokenSigner } from './jwt.js'
import { pruneRetiredKeys } from './key-rotation.js'
import { listSigningKeys } from './signing-keys.repository.js'

const USAGE = 'usage: npm run keys -- list | rotate | prune'

/**
 * `npm run keys -- rotate`: a new signing key is published at once and takes over on every
 * instance after the publication lead time (tokens/key-timeline.ts); the old one keeps
 * verifying until its tokens have expired.
 * `list` prints key ids and dates only (never key material); `prune` deletes expired retired keys.
 */
async function main (): Promise<void> {
  const command = process.argv[2]
  if (!['list', 'rotate', 'prune'].includes(command ?? '')) {
    process.stderr.write(`${USAGE}\n`)
    process.exit(64)
  }
  const config = loadConfig()
  const { db, close } = createDb(config.databaseUrl)
  try {
    await migrateToLatest(db)
    const signer = await createTokenSigner({ db, config, clock: systemClock })
    if (command === 'rotate') {
      const kid = await signer.rotate()
      const row = (await listSigningKeys(db)).find((key) => key.kid === kid)
      process.stdout.write(`rotated: new signing key ${kid} published now, signs from ${toIso(row?.activates_at ?? row?.created_at ?? new Date())}\n`)
    } else if (command === 'prune') {
      const count = await pruneRetiredKeys({ db, config, clock: systemClock })
      process.stdout.write(`pruned: ${count} retired key(s)\n`)
    } else {
      const now = Date.now()
      for (const row of await listSigningKeys(db)) {
        const activatesAt = row.activates_at ?? row.created_at
        const state = toDate(activatesAt).getTime() > now
          ? `pending, signs from ${toIso(activatesAt)}`
          : row.retired_at === null
            ? 'active'
            : toDate(row.retired_at).getTime() > now ? `active until ${toIso(row.retired_at)}` : `retired ${toIso(row.retired_at)}`
        process.stdout.write(`${row.kid} ${row.alg} created ${toIso(row.created_at)} ${state}\n`)
      }
    }
  } finally {
    await close()
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof ConfigError ? 'Configuration error' : 'Failed'}: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(error instanceof ConfigError ? 2 : 1)
})
