/**
 * Sign-in timing for enumeration: median latency of POST /signin for an unknown email versus
 * a known email with a wrong password (and a deactivated account with a wrong password), at
 * the real argon2id parameters. Not a test: timings belong here, not in the suite.
 *
 *   npm run bench:timing                 # 200 samples per case
 *   npm run bench:timing -- 500          # more samples
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config/index.js'
import { createDb } from '../src/db/create-db.js'

const samples = Number(process.argv[2] ?? 200)
const dir = mkdtempSync(join(tmpdir(), 'authd-bench-'))
const databaseUrl = `sqlite:${join(dir, 'auth.db')}`
// Production argon2 parameters (the config defaults); rate limits off so every attempt is timed.
const config = loadConfig({ DATABASE_URL: databaseUrl, LOG_LEVEL: 'silent', RATE_LIMITS: 'off' })
const app = await buildApp(config)
const password = 'a long and unusual passphrase 42'

async function signup (email: string, username: string): Promise<void> {
  const response = await app.inject({ method: 'POST', url: '/api/v1/auth/signup', payload: { email, username, password } })
  if (response.statusCode !== 201) throw new Error(`signup failed: ${response.statusCode}`)
}
await signup('known@example.com', 'known_user')
await signup('inactive@example.com', 'inactive_user')
const direct = createDb(databaseUrl)
await direct.db.updateTable('users').set({ is_active: 0 }).where('email', '=', 'inactive@example.com').execute()
await direct.close()

async function time (email: string): Promise<number> {
  const start = performance.now()
  const response = await app.inject({ method: 'POST', url: '/api/v1/auth/signin', payload: { email, password: 'not the password' } })
  const elapsed = performance.now() - start
  if (response.statusCode !== 401) throw new Error(`expected 401, got ${response.statusCode}`)
  return elapsed
}

const cases = {
  'unknown email': () => time(`nobody-${Math.random().toString(36).slice(2)}@example.com`),
  'known email, wrong password': () => time('known@example.com'),
  'inactive account, wrong password': () => time('inactive@example.com')
}
const results: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((name) => [name, []]))

// Warm-up (JIT, the dummy hash, SQLite page cache), then interleave the cases so drift in
// machine load spreads over all of them alike.
for (let i = 0; i < 10; i++) for (const run of Object.values(cases)) await run()
for (let i = 0; i < samples; i++) {
  for (const [name, run] of Object.entries(cases)) results[name]!.push(await run())
}

function quantile (values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
}

console.log(`sign-in latency, ${samples} samples per case, argon2id m=${config.password.argon2.memoryKib} KiB t=${config.password.argon2.timeCost} p=${config.password.argon2.parallelism}`)
for (const [name, values] of Object.entries(results)) {
  console.log(`${name.padEnd(34)} median ${quantile(values, 0.5).toFixed(2)} ms   p10 ${quantile(values, 0.1).toFixed(2)} ms   p90 ${quantile(values, 0.9).toFixed(2)} ms`)
}
const unknown = quantile(results['unknown email']!, 0.5)
const known = quantile(results['known email, wrong password']!, 0.5)
const inactive = quantile(results['inactive account, wrong password']!, 0.5)
console.log(`ratio unknown / known median: ${(unknown / known).toFixed(3)}`)
console.log(`ratio inactive / known median: ${(inactive / known).toFixed(3)}`)

await app.close()
rmSync(dir, { recursive: true, force: true })
