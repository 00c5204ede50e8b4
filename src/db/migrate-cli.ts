import { ConfigError, loadConfig } from '../config/index.js'
import { createDb } from './create-db.js'
import { migrateDown, migrateToLatest } from './migrate.js'

/** `npm run migrate` (to latest) or `npm run migrate -- down` (one step back). */
async function main (): Promise<void> {
  const config = loadConfig()
  const { db, close } = createDb(config.databaseUrl)
  try {
    const results = process.argv[2] === 'down' ? await migrateDown(db) : await migrateToLatest(db)
    for (const r of results) process.stdout.write(`${r.direction} ${r.migrationName}: ${r.status}\n`)
    if (results.length === 0) process.stdout.write('Already up to date\n')
  } finally {
    await close()
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof ConfigError ? 'Configuration error' : 'Migration failed'}: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(error instanceof ConfigError ? 2 : 1)
})
