// The benchmark suite: `npm run bench` (builds first). Starts the built service as its own
// process on a fresh database, the ceilings in processes of their own, and drives each with
// autocannon from this process: warm-up, then a fixed duration. Prints one table and writes
// bench/results/<time>.json (and latest.json). See bench/README.md.
//
//   npm run bench                        SQLite (fresh file)
//   npm run bench -- --postgres [URL]    PostgreSQL (fresh schema in URL's database)
//   npm run bench -- --redis [URL]       with Redis (shared revocation channel), as several instances run
//   options: --duration S (10)  --warmup S (3)  --connections N (10)  --users N (1000000)
//            --only me,signin,...  --profile (server writes a .cpuprofile into bench/results/)
//            --no-ceilings (the service's scenarios alone: CPU per request, profiles)
//   scenarios: me, me_cookie, mixed, refresh, signin, signup, token, mfa_verify, passkey_signin, admin_search
import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, availableParallelism, tmpdir, totalmem } from 'node:os'
import { join, resolve } from 'node:path'
import { createServer } from 'node:net'
import autocannon from 'autocannon'
import pg from 'pg'
import { loadConfig } from '../src/config/index.js'
import { createDb } from '../src/db/create-db.js'
import { seedUsers } from './seed-users.js'
import { measureProcess, memoryMib } from './process-stats.js'
import { renderChart } from './chart.js'
import { passkeySigninBodies, poolSize, registerPasskeys, seedTotpSignins, totpVerifyBody } from './second-factor.js'
import { meHalfPeakP99Ms, peakRssMib, ratioTargets, signinEventLoopP99Ms, targetFor } from './targets.js'

// ---------------------------------------------------------------- options

interface Options {
  postgres: string | undefined
  redis: string | undefined
  duration: number
  warmup: number
  connections: number
  users: number
  only: Set<string> | undefined
  profile: boolean
  /** False with --no-ceilings: the service alone (for CPU per request and profiles). */
  ceilings: boolean
}

function parseOptions (argv: string[]): Options {
  const options: Options = { postgres: undefined, redis: undefined, duration: 10, warmup: 3, connections: 10, users: 1_000_000, only: undefined, profile: false, ceilings: true }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    const next = (): string => {
      const value = argv[++i]
      if (value === undefined) throw new Error(`${arg} needs a value`)
      return value
    }
    if (arg === '--postgres') {
      options.postgres = argv[i + 1]?.startsWith('postgres') ? argv[++i] : 'postgres://postgres@127.0.0.1:5432/test'
    } else if (arg === '--redis') {
      options.redis = argv[i + 1]?.startsWith('redis') ? argv[++i] : 'redis://127.0.0.1:6379'
    } else if (arg === '--duration') options.duration = Number(next())
    else if (arg === '--warmup') options.warmup = Number(next())
    else if (arg === '--connections') options.connections = Number(next())
    else if (arg === '--users') options.users = Number(next())
    else if (arg === '--only') options.only = new Set(next().split(','))
    else if (arg === '--profile') options.profile = true
    else if (arg === '--no-ceilings') options.ceilings = false
    else throw new Error(`unknown option ${arg}`)
  }
  return options
}

const options = parseOptions(process.argv.slice(2))
const wanted = (name: string): boolean => !options.only || options.only.has(name)
const root = resolve(import.meta.dirname, '..')
const resultsDir = join(root, 'bench', 'results')
mkdirSync(resultsDir, { recursive: true })

// ---------------------------------------------------------------- processes

async function freePort (): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  server.close()
  if (!address || typeof address === 'string') throw new Error('no free port')
  return address.port
}

async function waitForHttp (url: string, child: ChildProcess): Promise<void> {
  for (let attempt = 0; attempt < 300; attempt++) {
    if (child.exitCode !== null) throw new Error(`${url}: process exited with ${child.exitCode}`)
    try {
      const response = await fetch(url)
      await response.arrayBuffer()
      if (response.status < 500) return
    } catch {}
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`${url} did not come up`)
}

async function stop (child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  child.kill('SIGINT')
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
  await once(child, 'exit')
  clearTimeout(timer)
}

// ---------------------------------------------------------------- load

interface Load {
  rps: number
  p50: number
  p99: number
  non2xx: number
  errors: number
  cpuPercent: number
  peakRssMib: number
}

type Request = autocannon.Request

async function drive (pid: number, url: string, requests: Request[], extra: Partial<autocannon.Options> = {}, prepare?: () => Promise<void>): Promise<Load> {
  const base = { url, connections: options.connections, requests, ...extra }
  await prepare?.()
  await autocannon({ ...base, duration: options.warmup })
  await prepare?.()
  const { result, cpuPercent, peakRssMib } = await measureProcess(pid, () => autocannon({ ...base, duration: options.duration }))
  return {
    rps: result['2xx'] / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    cpuPercent,
    peakRssMib
  }
}

// ---------------------------------------------------------------- results

interface Row {
  scenario: string
  load?: Load
  /** Ratio to its ceiling (the mean of the ceiling's runs), with the target ratio (if any). */
  ratio?: { to: string, value?: number, target?: number }
  note?: string
}

const rows: Row[] = []
const checks: { name: string, value: number, unit: string, target: string, met: boolean }[] = []
/** Figures without a target, printed under the checks. */
const facts: string[] = []
const target = (scenario: string): number | undefined => targetFor(scenario, options.postgres !== undefined)
/** Each ceiling is measured before and after the service's scenarios: the machine is shared. */
const ceilingRuns: Record<string, number[]> = {}
const ceilings: Record<string, number> = {}

function recordCeiling (name: string, value: number): void {
  (ceilingRuns[name] ??= []).push(value)
  ceilings[name] = ceilingRuns[name].reduce((a, b) => a + b, 0) / ceilingRuns[name].length
}

function computeRatios (): void {
  for (const row of rows) {
    const ceiling = row.ratio ? ceilings[row.ratio.to] : undefined
    if (row.ratio && row.load && ceiling) row.ratio.value = row.load.rps / ceiling
  }
}

function fmt (value: number | undefined, digits = 1): string {
  return value === undefined || Number.isNaN(value) ? '' : value.toFixed(digits)
}

function printTable (): string {
  const header = ['scenario', 'req/s', 'ratio', 'target', 'p50 ms', 'p99 ms', 'cpu %', 'cpu µs/req', 'peak RSS MiB', 'non-2xx']
  const lines = rows.map((row) => [
    row.scenario,
    fmt(row.load?.rps, 0),
    row.ratio?.value !== undefined ? `${(row.ratio.value * 100).toFixed(1)} % of ${row.ratio.to}` : '',
    row.ratio?.target !== undefined && row.ratio.value !== undefined ? `≥ ${(row.ratio.target * 100).toFixed(0)} %${row.ratio.value >= row.ratio.target ? ' ✓' : ' ✗'}` : '',
    fmt(row.load?.p50, 2),
    fmt(row.load?.p99, 2),
    fmt(row.load?.cpuPercent, 0),
    // Server CPU time per request: steadier than req/s when other processes share the cores.
    row.load ? fmt((row.load.cpuPercent * 10_000) / row.load.rps, 0) : '',
    fmt(row.load?.peakRssMib, 0),
    row.load ? String(row.load.non2xx + row.load.errors) : (row.note ?? '')
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)))
  const render = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`
  const table = [render(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...lines.map(render)]
  const checkLines = checks.map((c) => `- ${c.name}: ${fmt(c.value, 2)} ${c.unit} (target ${c.target}) ${c.met ? '✓' : '✗'}`)
  return [...table, '', ...checkLines, ...facts.map((f) => `- ${f}`)].join('\n')
}

// ---------------------------------------------------------------- the run

const argon2Env = { ARGON2_MEMORY_KIB: '19456', ARGON2_TIME_COST: '2', ARGON2_PARALLELISM: '1' }
const threadPool = String(Math.max(4, availableParallelism()))
const tsxNode = [process.execPath, '--import', 'tsx']
const startedAt = new Date()
const runTag = startedAt.getTime().toString(36)
const dataEncryptionKey = randomBytes(32)

async function ceilingsRun (when: string, needed: ReadonlySet<string>): Promise<void> {
  if (needed.has('ceiling_get') || needed.has('ceiling_post')) await httpCeilingsRun(when, needed)
  if (needed.has('ceiling_hash')) await hashCeilingRun(when)
}

async function httpCeilingsRun (when: string, needed: ReadonlySet<string>): Promise<void> {
  const port = await freePort()
  const child = spawn(tsxNode[0]!, [...tsxNode.slice(1), join(root, 'bench', 'ceiling-server.ts'), String(port)], { stdio: ['ignore', 'ignore', 'inherit'] })
  try {
    const url = `http://127.0.0.1:${port}`
    await waitForHttp(`${url}/static`, child)
    if (needed.has('ceiling_get')) {
      const get = await drive(child.pid!, url, [{ method: 'GET', path: '/static' }])
      recordCeiling('ceiling_get', get.rps)
      rows.push({ scenario: `ceiling_get (${when})`, load: get })
    }
    if (needed.has('ceiling_post')) {
      const body = JSON.stringify({ refresh_token: `0190c0de-0000-7000-8000-000000000000.${'x'.repeat(43)}` })
      const post = await drive(child.pid!, url, [{ method: 'POST', path: '/echo', headers: { 'content-type': 'application/json' }, body }])
      recordCeiling('ceiling_post', post.rps)
      rows.push({ scenario: `ceiling_post (${when})`, load: post })
    }
  } finally {
    await stop(child)
  }
}

async function hashCeilingRun (when: string): Promise<void> {
  const hash = spawn(tsxNode[0]!, [...tsxNode.slice(1), join(root, 'bench', 'hash-ceiling.ts'), String(options.warmup), String(options.duration),
    argon2Env.ARGON2_MEMORY_KIB, argon2Env.ARGON2_TIME_COST, argon2Env.ARGON2_PARALLELISM],
  { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, UV_THREADPOOL_SIZE: threadPool } })
  let output = ''
  hash.stdout!.on('data', (chunk: Buffer) => { output += chunk.toString() })
  await once(hash, 'exit')
  const measured = JSON.parse(output) as { hashesPerSecond: number, cpuPercent: number }
  recordCeiling('ceiling_hash', measured.hashesPerSecond)
  rows.push({ scenario: `ceiling_hash (${when})`, load: { rps: measured.hashesPerSecond, p50: NaN, p99: NaN, non2xx: 0, errors: 0, cpuPercent: measured.cpuPercent, peakRssMib: NaN }, note: 'argon2id hashes/s' })
}

interface Account { email: string, password: string, accessToken: string, refreshToken: string }

const password = 'bench passphrase that is long enough'

/** POST a JSON body to the auth API; the parsed answer, or a thrown error for a non-2xx. */
async function postJson (url: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<any> {
  const response = await fetch(`${url}/api/v1/auth${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`)
  return response.json()
}

/** Whether this build serves `path` at all (a 404 `not_found` from the router means no). */
async function served (url: string, path: string): Promise<boolean> {
  const response = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
  const body = await response.text()
  return !(response.status === 404 && body.includes('"not_found"'))
}

/** A pool of single-use refresh tokens: each request takes one and its answer puts the new one back. */
function refreshTokenPool (url: string, email: string, size: number) {
  let pool: string[] = []
  return {
    async fill (): Promise<void> {
      pool = []
      for (let i = 0; i < size; i++) pool.push((await postJson(url, '/signin', { email, password })).refresh_token)
    },
    request: {
      method: 'POST',
      path: '/api/v1/auth/refresh',
      headers: { 'content-type': 'application/json' },
      setupRequest: (req) => ({ ...req, body: `{"refresh_token":"${pool.shift()}"}` }),
      onResponse: (status, body) => {
        if (status !== 200) return
        const match = /"refresh_token":"([^"]+)"/.exec(body)
        if (match) pool.push(match[1]!)
      }
    } satisfies Request
  }
}

let mixedCpu: { rps: number, cpuMs: number } | undefined

/**
 * The mixed workload: of every 50 requests on a connection, 45 GET /me, 4 POST /refresh and
 * 1 POST /signin (90 / 8 / 2 %), interleaved. Reported as requests per second and as server
 * CPU-ms per request; no ceiling, since no bare server does this mix.
 */
async function mixed (pid: number, url: string, accounts: Account[], signinAccount: Account): Promise<void> {
  const main = accounts[0]!
  const tokens = refreshTokenPool(url, main.email, options.connections * 2)
  const requests: Request[] = []
  for (let i = 0; i < 50; i++) {
    if (i === 25) {
      // An account of its own: past MAX_SESSIONS_PER_USER its sign-ins end its oldest sessions,
      // which must not be the ones whose tokens the mix's GET /me requests carry.
      requests.push({ method: 'POST', path: '/api/v1/auth/signin', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: signinAccount.email, password }) })
    } else if (i % 12 === 6) {
      requests.push(tokens.request)
    } else {
      requests.push({ method: 'GET', path: '/api/v1/auth/me', headers: { authorization: `Bearer ${accounts[i % accounts.length]!.accessToken}` } })
    }
  }
  const counts = { me: requests.filter((r) => r.method === 'GET').length, refresh: requests.filter((r) => r.path === '/api/v1/auth/refresh').length }
  if (counts.me !== 45 || counts.refresh !== 4) throw new Error(`mixed: ${counts.me} me and ${counts.refresh} refresh in 50`)
  const load = await drive(pid, url, requests, {}, tokens.fill)
  rows.push({ scenario: 'mixed 90/8/2', load })
  mixedCpu = { rps: load.rps, cpuMs: (load.cpuPercent * 10) / load.rps }
}

/**
 * A scenario that spends single-use credentials: before each phase (warm-up, then the timed
 * run) `make(n)` builds the bodies, untimed, as many as the rate seen so far says the phase
 * needs; each request takes one.
 */
async function spendingScenario (pid: number, url: string, path: string, make: (count: number) => Promise<Array<() => string>>): Promise<Load> {
  let pool: Array<() => string> = []
  let taken = 0
  let seenRate: number | undefined
  let phaseStart = 0
  const prepare = async (): Promise<void> => {
    if (phaseStart !== 0) seenRate = taken / ((Date.now() - phaseStart) / 1000)
    pool = await make(poolSize(seenRate, seenRate === undefined ? options.warmup : options.duration))
    taken = 0
    phaseStart = Date.now()
  }
  const request: Request = {
    method: 'POST',
    path,
    headers: { 'content-type': 'application/json' },
    setupRequest: (req) => {
      taken++
      return { ...req, body: pool.pop()?.() ?? '{}' }
    },
    onResponse: (status, body) => {
      if (status >= 300 && firstRefusal === undefined) firstRefusal = `${status} ${body.slice(0, 200)}`
    }
  }
  let firstRefusal: string | undefined
  const load = await drive(pid, url, [request], {}, prepare)
  if (load.non2xx > 0) console.error(`${path}: ${load.non2xx} answers were not 2xx, the first: ${firstRefusal ?? '?'} (a pool that ran dry answers 422)`)
  return load
}

/**
 * POST /mfa/verify with TOTP codes, the password step excluded: the accounts and their
 * mfa_tokens are written to the database before each phase (`second-factor.ts`), so only
 * the verification is timed.
 */
async function mfaVerify (pid: number, url: string, databaseUrl: string): Promise<void> {
  if (!await served(url, '/api/v1/auth/mfa/verify')) {
    rows.push({ scenario: 'mfa_verify', note: 'skipped: POST /api/v1/auth/mfa/verify answers 404 (two-step verification not in this build)' })
    return
  }
  const handle = createDb(databaseUrl)
  let phase = 0
  try {
    const load = await spendingScenario(pid, url, '/api/v1/auth/mfa/verify', async (count) => {
      const signins = await seedTotpSignins(handle.db, count, dataEncryptionKey, `${runTag}_${phase++}`)
      return signins.map((signin) => () => totpVerifyBody(signin))
    })
    rows.push({ scenario: 'mfa_verify', load, ratio: { to: 'ceiling_post', target: target('mfa_verify') } })
  } finally {
    await handle.close()
  }
}

/** POST /passkeys/signin with a software authenticator; the challenges are fetched and signed before each phase. */
async function passkeySignin (pid: number, url: string, accounts: Account[]): Promise<void> {
  if (!await served(url, '/api/v1/auth/passkeys/signin')) {
    rows.push({ scenario: 'passkey_signin', note: 'skipped: POST /api/v1/auth/passkeys/signin answers 404 (passkeys not in this build)' })
    return
  }
  const authenticator = await registerPasskeys(url, url.replace('127.0.0.1', 'localhost'), accounts.map((account) => account.accessToken))
  const load = await spendingScenario(pid, url, '/api/v1/auth/passkeys/signin', async (count) => {
    const bodies = await passkeySigninBodies(url, authenticator, count)
    return bodies.map((body) => () => body)
  })
  rows.push({ scenario: 'passkey_signin', load, ratio: { to: 'ceiling_post', target: target('passkey_signin') } })
}

/**
 * The Node.js flags `npm start` runs the service with (package.json's start script, the one
 * place they are set): the bench measures the service as deployed. BENCH_NODE_FLAGS, when
 * set, replaces them (for comparing settings).
 */
function startScriptNodeFlags (): string[] {
  if (process.env.BENCH_NODE_FLAGS !== undefined) return process.env.BENCH_NODE_FLAGS.split(/\s+/).filter(Boolean)
  const start = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.start ?? ''
  return /\bnode\s+(.*?)\s*bin\/authd\.cjs/.exec(start)?.[1]?.split(/\s+/).filter((flag) => flag.startsWith('--')) ?? []
}

async function serviceRun (): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'authd-bench-'))
  let databaseUrl = `sqlite:${join(dir, 'auth.db')}`
  let dropSchema: (() => Promise<void>) | undefined
  if (options.postgres) {
    const schema = `bench_${Date.now().toString(36)}`
    const admin = new pg.Client({ connectionString: options.postgres })
    await admin.connect()
    await admin.query(`create schema ${schema}`)
    await admin.end()
    dropSchema = async () => {
      const client = new pg.Client({ connectionString: options.postgres })
      await client.connect()
      await client.query(`drop schema if exists ${schema} cascade`)
      await client.end()
    }
    const url = new URL(options.postgres)
    url.searchParams.set('options', `-c search_path=${schema}`)
    databaseUrl = url.toString()
  }
  const port = await freePort()
  const serviceEnv = {
    ...argon2Env,
    HOST: '127.0.0.1',
    PORT: String(port),
    // WebAuthn refuses an IP address as relying party: passkeys are for `localhost`.
    PUBLIC_URL: `http://localhost:${port}`,
    // As in production: TOTP secrets sealed at rest (the mfa_verify pool is sealed with it too).
    DATA_ENCRYPTION_KEY: dataEncryptionKey.toString('hex'),
    DATABASE_URL: databaseUrl,
    RATE_LIMITS: 'off',
    // One log line per request is production's default; the bench measures the service's
    // work, not the terminal's, and runs at warn (see README).
    LOG_LEVEL: 'warn',
    UV_THREADPOOL_SIZE: threadPool,
    // glibc gives each thread its own malloc arena, and each pool thread's arena keeps the
    // argon2 block (19 MiB) it freed: the pool ends up holding one per thread. One arena keeps
    // only as many blocks as hashes ever ran at once (README: "Memory").
    MALLOC_ARENA_MAX: '1',
    // A prefix of this run's own: the Redis may be shared.
    ...(options.redis ? { REDIS_URL: options.redis, REDIS_KEY_PREFIX: `bench-${Date.now().toString(36)}:` } : {})
  }
  // The service validates its environment the same way: fail here, before starting anything.
  loadConfig(serviceEnv)
  const nodeFlags = [...startScriptNodeFlags(), ...(options.profile ? ['--cpu-prof', `--cpu-prof-dir=${resultsDir}`] : [])]
  const child = spawn(process.execPath, [...nodeFlags, join(root, 'bin', 'authd.cjs')], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { PATH: process.env.PATH, ...serviceEnv }
  })
  const url = `http://127.0.0.1:${port}`
  try {
    await waitForHttp(`${url}/healthz`, child)
    const pid = child.pid!

    const json = (path: string, body: unknown): Promise<any> => postJson(url, path, body)
    const accounts: Account[] = []
    for (let i = 0; i < 20; i++) {
      const body = await json('/signup', { email: `bench-${i}@example.com`, username: `bench_${i}`, password })
      accounts.push({ email: `bench-${i}@example.com`, password, accessToken: body.access_token, refreshToken: body.refresh_token })
    }
    const main = accounts[0]!
    // Signed in by the scenarios that sign in over and over (past the session cap).
    const signinBody = await json('/signup', { email: 'bench-signin@example.com', username: 'bench_signin', password })
    const signinAccount: Account = { email: 'bench-signin@example.com', password, accessToken: signinBody.access_token, refreshToken: signinBody.refresh_token }

    if (wanted('me')) {
      // One prebuilt request per account, cycled by autocannon: no per-request work in the
      // load generator, which shares the cores with the server (the ceiling's request is static too).
      const requests: Request[] = accounts.map((account) => ({ method: 'GET', path: '/api/v1/auth/me', headers: { authorization: `Bearer ${account.accessToken}` } }))
      const me = await drive(pid, url, requests)
      rows.push({ scenario: 'me', load: me, ratio: { to: 'ceiling_get', target: target('me') } })
      // Latency when not saturated: half the peak rate.
      const half = await drive(pid, url, requests, { overallRate: Math.max(1, Math.floor(me.rps / 2)) })
      rows.push({ scenario: 'me @ ½ peak', load: half })
      checks.push({ name: 'me p99 at half its peak rate', value: half.p99, unit: 'ms', target: `< ${meHalfPeakP99Ms} ms`, met: half.p99 < meHalfPeakP99Ms })
    }
    if (wanted('me_cookie')) {
      const requests: Request[] = accounts.map((account) => ({ method: 'GET', path: '/api/v1/auth/me', headers: { cookie: `access_token=${account.accessToken}` } }))
      const load = await drive(pid, url, requests)
      rows.push({ scenario: 'me_cookie', load, ratio: { to: 'ceiling_get', target: target('me_cookie') } })
    }
    if (wanted('mixed')) await mixed(pid, url, accounts, signinAccount)
    if (wanted('refresh')) {
      // Each refresh token is single-use: a pool of live tokens, each request takes one and its
      // response puts the new one back. A fresh pool per run, since a run's last requests are
      // cut off with their tokens.
      const tokens = refreshTokenPool(url, main.email, options.connections * 2)
      const load = await drive(pid, url, [tokens.request], {}, tokens.fill)
      rows.push({ scenario: 'refresh', load, ratio: { to: 'ceiling_post', target: target('refresh') } })
    }
    if (wanted('signin')) {
      const body = JSON.stringify({ email: signinAccount.email, password })
      // Scraping /metrics resets the event-loop delay histogram: read once before, once after.
      const eventLoopP99 = async (): Promise<number> => {
        const text = await (await fetch(`${url}/metrics`)).text()
        return Number(/^nodejs_eventloop_lag_p99_seconds (\S+)/m.exec(text)?.[1] ?? NaN) * 1000
      }
      let delay = NaN
      const load = await drive(pid, url, [{ method: 'POST', path: '/api/v1/auth/signin', headers: { 'content-type': 'application/json' }, body }], {},
        async () => { await eventLoopP99() })
      delay = await eventLoopP99()
      rows.push({ scenario: 'signin', load, ratio: { to: 'ceiling_hash', target: target('signin') } })
      checks.push({ name: 'event-loop delay p99 during signin', value: delay, unit: 'ms', target: `< ${signinEventLoopP99Ms} ms`, met: delay < signinEventLoopP99Ms })
    }
    if (wanted('signup')) {
      let n = 0
      const requests: Request[] = [{
        method: 'POST',
        path: '/api/v1/auth/signup',
        headers: { 'content-type': 'application/json' },
        setupRequest: (req) => {
          n++
          return { ...req, body: `{"email":"load-${n}@example.com","username":"load_${n}","password":"${password}"}` }
        }
      }]
      const load = await drive(pid, url, requests)
      rows.push({ scenario: 'signup', load, ratio: { to: 'ceiling_hash', target: target('signup') } })
    }
    if (wanted('token')) {
      const body = `grant_type=password&username=${encodeURIComponent(signinAccount.email)}&password=${encodeURIComponent(password)}`
      const load = await drive(pid, url, [{ method: 'POST', path: '/api/v1/auth/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body }])
      rows.push({ scenario: 'token', load, ratio: { to: 'ceiling_hash' } })
    }
    if (wanted('mfa_verify')) await mfaVerify(pid, url, databaseUrl)
    if (wanted('passkey_signin')) await passkeySignin(pid, url, accounts)
    if (wanted('admin_search')) await adminSearch(pid, url, databaseUrl, accounts[1]!)

    const memory = memoryMib(pid)
    checks.push({ name: 'server peak RSS over the whole run', value: memory.peak, unit: 'MiB', target: `< ${peakRssMib} MiB`, met: memory.peak < peakRssMib })
    if (mixedCpu !== undefined) {
      // What the mix would cost if each request cost what it costs alone (rows measured above).
      const alone = (scenario: string): number | undefined => {
        const row = rows.find((r) => r.scenario === scenario)
        return row?.load ? (row.load.cpuPercent * 10) / row.load.rps : undefined
      }
      const [me, refresh, signin] = [alone('me'), alone('refresh'), alone('signin')]
      const model = me !== undefined && refresh !== undefined && signin !== undefined ? 0.9 * me + 0.08 * refresh + 0.02 * signin : undefined
      facts.push(`mixed (90 % me, 8 % refresh, 2 % signin): ${fmt(mixedCpu.rps, 0)} req/s, ${fmt(mixedCpu.cpuMs, 3)} CPU-ms a request` +
        (model !== undefined ? ` (the same mix from the scenarios alone: ${fmt(model, 3)} CPU-ms)` : ''))
    }
  } finally {
    await stop(child)
    await dropSchema?.()
    rmSync(dir, { recursive: true, force: true })
  }
}

/** GET /api/v1/users?search=… as a superuser over `options.users` seeded users. */
async function adminSearch (pid: number, url: string, databaseUrl: string, admin: Account): Promise<void> {
  const handle = createDb(databaseUrl)
  try {
    await handle.db.updateTable('users').set({ is_superuser: 1 }).where('email', '=', admin.email).execute()
    // A new session, so no cached copy of the user from before the promotion is involved.
    const signin = await fetch(`${url}/api/v1/auth/signin`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: admin.email, password: admin.password }) })
    const token = ((await signin.json()) as { access_token: string }).access_token
    const probe = await fetch(`${url}/api/v1/users?search=bench&limit=20`, { headers: { authorization: `Bearer ${token}` } })
    await probe.arrayBuffer()
    if (probe.status === 404) {
      rows.push({ scenario: 'admin_search', note: 'skipped: GET /api/v1/users answers 404 (admin API not in this build)' })
      console.error('admin_search skipped: GET /api/v1/users answers 404 (the admin user API is not in this build)')
      return
    }
    const seedStart = Date.now()
    await seedUsers(handle.db, options.users)
    console.error(`seeded ${options.users} users in ${((Date.now() - seedStart) / 1000).toFixed(0)} s`)
    let n = 0
    const load = await drive(pid, url, [{
      method: 'GET',
      path: '/api/v1/users',
      headers: { authorization: `Bearer ${token}` },
      setupRequest: (req) => ({ ...req, path: `/api/v1/users?search=seed-${(n++ * 7919) % options.users}@&limit=20` })
    }], { connections: 1 })
    rows.push({ scenario: `admin_search (${options.users} users)`, load })
    checks.push({ name: 'admin_search p99 latency, one client', value: load.p99, unit: 'ms', target: '< 50 ms', met: load.p99 < 50 })
  } finally {
    await handle.close()
  }
}

// Only the ceilings that a wanted scenario is a share of (all of them for a full run).
const neededCeilings = new Set(options.ceilings
  ? Object.entries(ratioTargets).filter(([scenario]) => wanted(scenario)).map(([, target]) => target.ceiling)
  : [])
const needsCeilings = neededCeilings.size > 0
if (needsCeilings) await ceilingsRun('before', neededCeilings)
await serviceRun()
if (needsCeilings) await ceilingsRun('after', neededCeilings)
computeRatios()

const machine = `${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${options.postgres ? 'PostgreSQL' : 'SQLite'}${options.redis ? ' + Redis' : ''}`
const table = printTable()
const settings = `node flags: ${startScriptNodeFlags().join(' ') || '(none)'}, ${options.connections} connections, ${options.warmup} s warm-up + ${options.duration} s measured per scenario, RATE_LIMITS=off, LOG_LEVEL=warn, UV_THREADPOOL_SIZE=${threadPool}, MALLOC_ARENA_MAX=1, argon2id m=${argon2Env.ARGON2_MEMORY_KIB} KiB t=${argon2Env.ARGON2_TIME_COST} p=${argon2Env.ARGON2_PARALLELISM}`
console.log(`\n${machine}\n${settings}\n\n${table}\n`)
const report = { startedAt: startedAt.toISOString(), machine, settings, options: { ...options, only: options.only ? [...options.only] : undefined }, ceilings, rows, checks, table }
const file = join(resultsDir, `${startedAt.toISOString().replace(/[:.]/g, '-')}.json`)
writeFileSync(file, JSON.stringify(report, null, 2))
writeFileSync(join(resultsDir, 'latest.json'), JSON.stringify(report, null, 2))
const chart = renderChart([{ name: startedAt.toISOString().slice(0, 16).replace('T', ' '), reports: [report] }])
writeFileSync(file.replace(/\.json$/, '.svg'), chart)
writeFileSync(join(resultsDir, 'latest.svg'), chart)
console.log(`results: ${file} (chart: ${file.replace(/\.json$/, '.svg')})`)
