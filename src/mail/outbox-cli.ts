import { ConfigError, loadConfig } from '../config/index.js'
import { createDb } from '../db/create-db.js'
import { migrateToLatest } from '../db/migrate.js'
import { runOutboxCommand } from './outbox-commands.js'

/** `npm run outbox -- list | show <id> | stats | retry <id>` against DATABASE_URL. */
async function main (): Promise<number> {
  const config = loadConfig()
  const { db, close } = createDb(config.databaseUrl)
  try {
    // Safe on a live database (Kysely locks) and makes the command work before the first start.
    await migrateToLatest(db)
    return await runOutboxCommand(db, process.argv.slice(2), (text) => process.stdout.write(text))
  } finally {
    await close()
  }
}

main().then((code) => { process.exitCode = code }, (error: unknown) => {
  process.stderr.write(`${error instanceof ConfigError ? 'Configuration error' : 'outbox command failed'}: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exitCode = error instanceof ConfigError ? 2 : 1
})
