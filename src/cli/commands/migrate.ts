import { migrateDown, migrateToLatest } from '../../db/migrate.js'
import { noArgs } from '../args.js'
import { type CommandOutput, defineCommand, type GroupSpec } from '../command.js'

function report (results: Awaited<ReturnType<typeof migrateToLatest>>): CommandOutput {
  const migrations = results.map((r) => ({ name: r.migrationName, direction: r.direction, status: r.status }))
  return {
    json: { migrations },
    text: migrations.length > 0 ? migrations.map((m) => `${m.direction} ${m.name}: ${m.status}`).join('\n') : 'Already up to date'
  }
}

/** `migrate [up]` / `migrate down`. Safe beside running servers: Kysely's migrator takes a lock. */
export const migrateGroup: GroupSpec = {
  summary: 'the database schema',
  defaultCommand: 'up',
  commands: {
    up: defineCommand({
      synopsis: '',
      summary: 'migrate to the latest schema (what the server does at start-up); `migrate` alone does this',
      managesSchema: true,
      parse: (input) => noArgs(input, 'migrate up'),
      run: async (ctx) => report(await migrateToLatest(ctx.db))
    }),
    down: defineCommand({
      synopsis: '',
      summary: 'undo the latest migration (one step)',
      managesSchema: true,
      parse: (input) => noArgs(input, 'migrate down'),
      run: async (ctx) => report(await migrateDown(ctx.db))
    })
  }
}
