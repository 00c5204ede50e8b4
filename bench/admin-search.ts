/**
 * Times the admin user list at scale: seeds N users (default 1,000,000) into a fresh SQLite
 * file and a fresh PostgreSQL schema, then drives GET /api/v1/users through the HTTP layer
 * (`app.inject`: routing, auth, validation, serialisation; no socket) and prints a table.
 *
 *   npm run bench:admin                         # SQLite only
 *   BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test npm run bench:admin
 *   npm run bench:admin -- --users 100000 --runs 10 [--skip-sqlite] [--keep] [--postgres-schema S]
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { sql } from 'kysely'
import pg from 'pg'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config/index.js'
import { createDb } from '../src/db/create-db.js'
import { migrateToLatest } from '../src/db/migrate.js'
import { seededUser, seedUsers } from './seed-users.js'

const { values: args } = parseArgs({
  options: {
    users: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '15' },
    keep: { type: 'boolean', default: false },
    'skip-sqlite': { type: 'boolean', default: false },
    // Measure again on a schema seeded and kept (--keep) by an earlier run.
    'postgres-schema': { type: 'string' }
  }
})
const USERS = Number(args.users)
const RUNS = Number(args.runs)
const ADMIN_EMAIL = 'bench-admin@example.com'
const ADMIN_PASSWORD = 'bench admin passphrase 2024'

function queries (total: number): Array<[string, string]> {
  const mid = Math.floor(total / 2)
  return [
    ['first page (created_at asc)', ''],
    ['first page, sort=email desc', '?sort=email&order=desc'],
    ['first page, sort=name', '?sort=name'],
    ['first page, sort=username desc', '?sort=username&order=desc'],
    ['middle page (offset N/2)', `?offset=${mid}`],
    ['deep page (offset N-20)', `?offset=${Math.max(0, total - 20)}`],
    ['deep page, sort=email, offset N-20', `?sort=email&offset=${Math.max(0, total - 20)}`],
    ['is_active=false (2%)', '?is_active=false'],
    ['is_active=false, deep page', `?is_active=false&offset=${Math.max(0, Math.floor(total / 50) - 20)}`],
    ['search one user (username)', `?search=${encodeURIComponent(seededUser(Math.floor(total * 0.7)).username)}`],
    ['search one user (email)', `?search=${encodeURIComponent(seededUser(Math.floor(total * 0.3)).email)}`],
    ['search rare (no match)', '?search=zzqx-nobody'],
    ['search last name (~2%)', '?search=tanaka'],
    ['search last name, deep page', `?search=tanaka&offset=${Math.max(0, Math.floor(total / 50) - 20)}`],
    ['search 2 chars (scan)', '?search=q9'],
    ['search domain (20%)', '?search=corp.example']
  ]
}

function stats (times: number[]): { median: number, p95: number } {
  const sorted = [...times].sort((a, b) => a - b)
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
  return { median: at(0.5), p95: at(0.95) }
}

async function prepare (label: string, databaseUrl: string): Promise<void> {
  const handle = createDb(databaseUrl)
  try {
    await migrateToLatest(handle.db)
    const started = performance.now()
    await seedUsers(handle.db, USERS, {
      onProgress: (done) => { if (done % 100_000 === 0 || done === USERS) process.stderr.write(`  ${label}: ${done} users seeded\n`) }
    })
    process.stderr.write(`  ${label}: seeded in ${((performance.now() - started) / 1000).toFixed(1)} s\n`)
    // Fresh statistics, as a production database has (and PostgreSQL's visibility map).
    // user_counts too: a million counter updates leave dead rows that autovacuum would clear.
    if (handle.dialect === 'postgres') await sql`vacuum analyze users, user_counts`.execute(handle.db)
    else await sql`analyze`.execute(handle.db)
  } finally {
    await handle.close()
  }
}

async function measure (label: string, databaseUrl: string): Promise<Array<{ db: string, query: string, total: number, median: number, p95: number }>> {
  const config = loadConfig({ DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn', ADMIN_EMAIL, ADMIN_PASSWORD, RATE_LIMITS: 'off' })
  const app = await buildApp(config)
  try {
    const signin = await app.inject({ method: 'POST', url: '/api/v1/auth/signin', payload: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD } })
    if (signin.statusCode !== 200) throw new Error(`sign-in failed: ${signin.statusCode}`)
    const headers = { authorization: `Bearer ${signin.json().access_token as string}` }
    const total = USERS + 1
    const results = []
    for (const [name, query] of queries(total)) {
      const times: number[] = []
      let count = 0
      for (let i = 0; i < RUNS + 2; i++) {
        const started = performance.now()
        const response = await app.inject({ method: 'GET', url: `/api/v1/users${query}`, headers })
        const elapsed = performance.now() - started
        if (response.statusCode !== 200) throw new Error(`${name}: ${response.statusCode} ${response.body}`)
        count = response.json().total
        if (i >= 2) times.push(elapsed) // two warm-up runs
      }
      results.push({ db: label, query: name, total: count, ...stats(times) })
    }
    return results
  } finally {
    await app.close()
  }
}

async function main (): Promise<void> {
  const rows = []
  const dir = mkdtempSync(join(tmpdir(), 'authd-bench-'))
  if (!args['skip-sqlite']) {
    const sqliteUrl = `sqlite:${join(dir, 'bench.db')}`
    process.stderr.write(`SQLite: seeding ${USERS} users\n`)
    await prepare('sqlite', sqliteUrl)
    rows.push(...await measure('sqlite', sqliteUrl))
  }
  if (!args.keep) rmSync(dir, { recursive: true, force: true })

  const postgresBase = process.env.BENCH_POSTGRES_URL
  if (postgresBase) {
    const reused = args['postgres-schema']
    const schema = reused ?? `bench_${Date.now().toString(36)}`
    const admin = new pg.Client({ connectionString: postgresBase })
    await admin.connect()
    if (!reused) await admin.query(`create schema ${schema}`)
    try {
      const url = new URL(postgresBase)
      url.searchParams.set('options', `-c search_path=${schema}`)
      if (!reused) {
        process.stderr.write(`PostgreSQL: seeding ${USERS} users in schema ${schema}\n`)
        await prepare('postgres', url.toString())
      }
      rows.push(...await measure('postgres', url.toString()))
    } finally {
      if (!args.keep && !reused) await admin.query(`drop schema ${schema} cascade`)
      await admin.end()
    }
  } else {
    process.stderr.write('BENCH_POSTGRES_URL unset: PostgreSQL skipped\n')
  }

  console.log(`\nGET /api/v1/users with ${USERS.toLocaleString('en')} seeded users (+1 admin), ${RUNS} runs each, ms through app.inject\n`)
  console.log('| database | query | total | median ms | p95 ms |')
  console.log('|---|---|---:|---:|---:|')
  for (const r of rows) console.log(`| ${r.db} | ${r.query} | ${r.total} | ${r.median.toFixed(1)} | ${r.p95.toFixed(1)} |`)
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
