/**
 * Does /forgot-password take the same time for an address with an account and one without?
 * Interleaves requests for both (in-process, app.inject) and prints the latency distribution of
 * each. Run: `npx tsx bench/forgot-password-timing.ts [requests-per-side] [database-url]`
 * (default 2000, a fresh SQLite file). The outbox sender is slowed down so that it does not
 * compete with the measured requests.
 *
 * Latest run (2 shared cores, 2000 requests a side, p50 / p90):
 *   SQLite      known 0.217 / 0.744 ms   unknown 0.221 / 0.760 ms
 *   PostgreSQL  known 4.028 / 10.39 ms   unknown 4.054 / 10.85 ms
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config/index.js'

const perSide = Number(process.argv[2] ?? 2000)
const dir = mkdtempSync(join(tmpdir(), 'authd-bench-'))
const databaseUrl = process.argv[3] ?? `sqlite:${join(dir, 'bench.db')}`

const app = await buildApp(loadConfig({
  DATABASE_URL: databaseUrl,
  LOG_LEVEL: 'silent',
  RATE_LIMITS: 'off',
  OUTBOX_POLL_MS: '3600000',
  ARGON2_MEMORY_KIB: '1024',
  ARGON2_TIME_COST: '1'
}))
const known = `known-${Date.now()}@example.com`
const signup = await app.inject({ method: 'POST', url: '/api/v1/auth/signup', payload: { email: known, username: `bench_${Date.now()}`, password: 'a long bench passphrase 1' } })
if (signup.statusCode !== 201) throw new Error(`signup failed: ${signup.body}`)

async function timeOne (email: string): Promise<number> {
  const start = process.hrtime.bigint()
  const response = await app.inject({ method: 'POST', url: '/api/v1/auth/forgot-password', payload: { email } })
  const elapsed = Number(process.hrtime.bigint() - start) / 1e6
  if (response.statusCode !== 200) throw new Error(`unexpected ${response.statusCode}`)
  return elapsed
}

// Warm-up, then strictly alternating requests so both sides see the same conditions.
for (let i = 0; i < 200; i++) await timeOne(i % 2 ? known : `warm-${i}@example.com`)
const samples = { known: [] as number[], unknown: [] as number[] }
for (let i = 0; i < perSide; i++) {
  samples.known.push(await timeOne(known))
  samples.unknown.push(await timeOne(`nobody-${i}@example.com`))
}

function quantile (values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
}
for (const [side, values] of Object.entries(samples)) {
  const mean = values.reduce((a, b) => a + b, 0) / values.length
  console.log(`${side.padEnd(8)} n=${values.length} mean=${mean.toFixed(3)}ms p50=${quantile(values, 0.5).toFixed(3)}ms p90=${quantile(values, 0.9).toFixed(3)}ms p99=${quantile(values, 0.99).toFixed(3)}ms`)
}
await app.close()
rmSync(dir, { recursive: true, force: true })
