// Runs the test suite on SQLite, then again on PostgreSQL when TEST_DATABASE_URL is set.
// Under CI=true a missing TEST_DATABASE_URL is a failure, never a silent skip.
import { spawnSync } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

function findTests (dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return findTests(path)
    return name.endsWith('.test.ts') ? [path] : []
  })
}

const filter = process.argv.slice(2)
const files = findTests('test').filter((f) => filter.length === 0 || filter.some((x) => f.includes(x))).sort()
const ci = process.env.CI === 'true'
if (ci && !process.env.TEST_DATABASE_URL) {
  console.error('CI=true but TEST_DATABASE_URL is not set: the PostgreSQL run cannot be skipped in CI')
  process.exit(1)
}

const runs = [{ name: 'sqlite', env: { TEST_DB: 'sqlite' } }]
if (process.env.TEST_DATABASE_URL) runs.push({ name: 'postgres', env: { TEST_DB: 'postgres' } })
else console.log('TEST_DATABASE_URL unset: PostgreSQL run skipped (set it to run the suite on PostgreSQL too)')

// Test files each create a schema named authd_test_<run>_*; this run's are dropped here, when
// none of its tests runs. Only this run's: another run may be using the same server.
const run = process.env.AUTHD_TEST_RUN ?? `${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`
async function dropTestSchemas () {
  const { default: pg } = await import('pg')
  const client = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL })
  await client.connect()
  const { rows } = await client.query('select nspname from pg_namespace where starts_with(nspname, $1)', [`authd_test_${run}_`])
  for (const { nspname } of rows) await client.query(`drop schema if exists "${nspname}" cascade`)
  await client.end()
}

// The CLI tests run the built CLI (dist/), as operators do: build it from the current sources.
const build = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' })
if (build.status !== 0) process.exit(build.status ?? 1)

let failed = false
for (const suite of runs) {
  if (suite.name === 'postgres') await dropTestSchemas()
  console.log(`\n=== test suite on ${suite.name} (${files.length} files) ===`)
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...files], {
    stdio: 'inherit',
    env: { ...process.env, ...suite.env, AUTHD_TEST_RUN: run }
  })
  if (result.status !== 0) failed = true
  if (suite.name === 'postgres') await dropTestSchemas()
}
process.exit(failed ? 1 : 0)
