/**
 * Start-up against a database that cannot be used: one line naming the variable, quickly,
 * never a hang or a dumped driver object. Readiness with a wrong Redis database.
 * @see issue 15, items 2 and 20
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { buildTestApp, waitUntilReady } from '../helpers/build-test-app.js'
import { freePort, startService } from '../helpers/processes.js'
import { usePostgres } from '../helpers/test-db.js'

// Independent of the test database: run once, in the SQLite pass.
const skip = usePostgres ? 'runs in the SQLite pass' : false

test('start-up against a PostgreSQL address that accepts TCP but never answers fails within DATABASE_CONNECT_TIMEOUT_MS, in one line', { skip }, async (t) => {
  const sockets: Socket[] = []
  const silent = createServer((socket) => { sockets.push(socket) })
  const port = await freePort()
  await new Promise<void>((resolve) => silent.listen(port, '127.0.0.1', resolve))
  t.after(() => { for (const socket of sockets) socket.destroy(); silent.close() })

  const service = await startService(t, {
    DATABASE_URL: `postgres://authd:s3cret-pw@127.0.0.1:${port}/authd`,
    DATABASE_CONNECT_TIMEOUT_MS: '1000'
  }, { waitReady: false })
  const code = await Promise.race([service.exited, new Promise((resolve) => setTimeout(() => resolve('still running after 30 s'), 30_000))])
  assert.equal(code, 1)
  assert.ok(sockets.length >= 1, 'the service did try to connect')
  const stderr = service.stderr()
  assert.equal(stderr.trim().split('\n').length, 1, stderr)
  assert.match(stderr, new RegExp(`^Failed to start: DATABASE_URL: cannot connect to PostgreSQL at 127\\.0\\.0\\.1:${port}/authd: no answer within 1000 ms \\(DATABASE_CONNECT_TIMEOUT_MS\\)\\n$`))
  assert.doesNotMatch(stderr + service.stdout(), /s3cret-pw/)
})

test('start-up with a refused PostgreSQL port fails in one line naming DATABASE_URL', { skip }, async (t) => {
  const port = await freePort()
  const service = await startService(t, { DATABASE_URL: `postgres://authd@127.0.0.1:${port}/authd` }, { waitReady: false })
  assert.equal(await service.exited, 1)
  assert.match(service.stderr(), new RegExp(`^Failed to start: DATABASE_URL: cannot connect to PostgreSQL at 127\\.0\\.0\\.1:${port}/authd: .*ECONNREFUSED.*\\n$`))
})

test('start-up with an SQLite path that cannot be opened names the variable and the path', { skip }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'authd-startup-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  // A regular file where a folder should be: neither mkdir nor open can succeed.
  writeFileSync(join(dir, 'file'), 'not a folder')
  const path = join(dir, 'file', 'auth.db')
  const service = await startService(t, { DATABASE_URL: `sqlite:${path}` }, { waitReady: false })
  assert.equal(await service.exited, 1)
  const stderr = service.stderr()
  assert.equal(stderr.trim().split('\n').length, 1, stderr)
  assert.ok(stderr.startsWith(`Failed to start: DATABASE_URL: cannot open sqlite file ${path}: `), stderr)
})

test('/readyz is 503 when REDIS_URL names a database the server does not have', { skip: usePostgres ? 'runs in the SQLite pass' : !process.env.TEST_REDIS_URL ? 'TEST_REDIS_URL unset' : false }, async (t) => {
  const base = new URL(process.env.TEST_REDIS_URL!)
  base.pathname = '/99'
  const wrong = await buildTestApp(t, { REDIS_URL: base.toString(), REDIS_KEY_PREFIX: `authd-test-${Date.now()}:` })
  // It connects (and would answer PING) but SELECT 99 failed: not ready.
  await new Promise((resolve) => setTimeout(resolve, 300))
  const response = await wrong.inject({ method: 'GET', url: '/readyz' })
  assert.equal(response.statusCode, 503)
  assert.equal(response.json().checks.redis, 'unavailable')

  base.pathname = '/0'
  const right = await buildTestApp(t, { REDIS_URL: base.toString(), REDIS_KEY_PREFIX: `authd-test-${Date.now()}:` })
  await waitUntilReady(right)
  assert.equal((await right.inject({ method: 'GET', url: '/readyz' })).json().checks.redis, 'ok')
})
