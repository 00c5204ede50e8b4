import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { test } from 'node:test'
import { buildTestApp } from '../helpers/build-test-app.js'
import { uniqueEmail } from '../helpers/factories.js'
import { createTestDatabaseUrl } from '../helpers/test-db.js'

/** A local port with nothing listening: bound, then released. */
async function closedPort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

test('when Redis is unreachable, each instance keeps limiting on its own counters', async (t) => {
  const app = await buildTestApp(t, { RATE_LIMITS: 'on', RATE_LIMIT_SIGNIN_PER_IP: '2/60', REDIS_URL: `redis://127.0.0.1:${await closedPort()}` })
  const signin = () => app.inject({ method: 'POST', url: '/api/v1/auth/signin', payload: { email: uniqueEmail(), password: 'wrong password' } })
  assert.equal((await signin()).statusCode, 401)
  assert.equal((await signin()).statusCode, 401)
  assert.equal((await signin()).statusCode, 429)
})

test('RATE_LIMITS=off logs a warning at start-up', async (t) => {
  const url = await createTestDatabaseUrl(t)
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    env: { PATH: process.env.PATH ?? '', DATABASE_URL: url, PORT: '0', RATE_LIMITS: 'off', LOG_LEVEL: 'info', ARGON2_MEMORY_KIB: '1024', ARGON2_TIME_COST: '1' },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  t.after(() => { if (child.exitCode === null) child.kill('SIGTERM') })
  const warning = await new Promise<Record<string, unknown>>((resolve, reject) => {
    let buffer = ''
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString()
      for (const line of buffer.split('\n')) {
        if (line.includes('RATE_LIMITS=off')) resolve(JSON.parse(line) as Record<string, unknown>)
        if (line.includes('Server listening')) reject(new Error('listening without the warning'))
      }
    })
    child.on('exit', (code) => reject(new Error(`server exited with ${code}`)))
  })
  assert.equal(warning.level, 40, 'logged at warn level')
  assert.match(String(warning.msg), /not rate limited/)
})
