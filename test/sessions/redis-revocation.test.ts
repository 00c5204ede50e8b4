import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { buildTestApp } from '../helpers/build-test-app.js'
import { bearer, signUp } from '../helpers/factories.js'
import { createTestDatabaseUrl } from '../helpers/test-db.js'

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

/**
 * Two instances on one database and one Redis, as behind a load balancer. They listen on real
 * sockets: a revocation message and the next request then reach an instance the way they do
 * in production, through its event loop.
 */
async function twoInstances (t: Parameters<typeof buildTestApp>[0], redisUrl: string): Promise<[FastifyInstance, FastifyInstance]> {
  const databaseUrl = await createTestDatabaseUrl(t)
  // A key prefix of our own: other suites share this Redis.
  const env = { DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, REDIS_KEY_PREFIX: `test-${randomBytes(6).toString('hex')}:` }
  const a = await buildTestApp(t, env)
  const b = await buildTestApp(t, env)
  await a.listen({ host: '127.0.0.1', port: 0 })
  await b.listen({ host: '127.0.0.1', port: 0 })
  return [a, b]
}

function urlOf (app: FastifyInstance, path: string): string {
  const address = app.server.address()
  if (!address || typeof address === 'string') throw new Error('not listening')
  return `http://127.0.0.1:${address.port}${path}`
}

async function me (app: FastifyInstance, token: string): Promise<number> {
  const response = await fetch(urlOf(app, '/api/v1/auth/me'), { headers: bearer(token) })
  await response.arrayBuffer()
  return response.status
}

async function post (app: FastifyInstance, path: string, token: string): Promise<number> {
  const response = await fetch(urlOf(app, path), { method: 'POST', headers: bearer(token) })
  await response.arrayBuffer()
  return response.status
}

async function waitForReadiness (app: FastifyInstance, status: number): Promise<void> {
  // Polls a condition, not a clock: the loop ends as soon as the instance reports the state.
  for (let attempt = 0; attempt < 200; attempt++) {
    if ((await app.inject({ method: 'GET', url: '/readyz' })).statusCode === status) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`instance never reported readiness ${status}`)
}

test('logout on one instance is refused on the other instance\'s very next request', async (t) => {
  const [a, b] = await twoInstances(t, REDIS_URL)
  const user = await signUp(a)
  // Warm both caches: B now holds "this session is live" in memory.
  assert.equal(await me(a, user.accessToken), 200)
  assert.equal(await me(b, user.accessToken), 200)
  assert.equal(await me(b, user.accessToken), 200)

  assert.equal(await post(a, '/api/v1/auth/logout', user.accessToken), 204)
  assert.equal(await me(b, user.accessToken), 401)
  assert.equal(await me(a, user.accessToken), 401)
})

test('logout-all on one instance revokes every session of the user on the other instance', async (t) => {
  const [a, b] = await twoInstances(t, REDIS_URL)
  const first = await signUp(a)
  const second = await a.inject({ method: 'POST', url: '/api/v1/auth/signin', payload: { email: first.email, password: first.password } })
  const secondToken = second.json().access_token as string
  const bystander = await signUp(a)
  for (const token of [first.accessToken, secondToken, bystander.accessToken]) assert.equal(await me(b, token), 200)

  assert.equal(await post(a, '/api/v1/auth/logout-all', first.accessToken), 204)
  assert.equal(await me(b, first.accessToken), 401)
  assert.equal(await me(b, secondToken), 401)
  assert.equal(await me(b, bystander.accessToken), 200)
})

async function freePort (): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  server.close()
  if (!address || typeof address === 'string') throw new Error('no port')
  return address.port
}

async function startRedis (port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'inherit'] })
  let output = ''
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}`)))
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      if (output.includes('Ready to accept connections')) resolve()
    })
  })
  child.stdout?.resume()
  return child
}

async function stopRedis (child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  child.kill('SIGKILL')
  await once(child, 'exit')
}

test('while Redis is down an instance trusts no cached session, and uses the channel again once back', async (t) => {
  const port = await freePort()
  let redis = await startRedis(port)
  t.after(() => stopRedis(redis))
  const [a, b] = await twoInstances(t, `redis://127.0.0.1:${port}`)

  const user = await signUp(a)
  assert.equal(await me(b, user.accessToken), 200)

  await stopRedis(redis)
  await waitForReadiness(b, 503)
  // The broadcast cannot happen now, yet B must not answer from its cache.
  assert.equal(await post(a, '/api/v1/auth/logout', user.accessToken), 204)
  assert.equal(await me(b, user.accessToken), 401)

  const other = await signUp(a)
  assert.equal(await me(b, other.accessToken), 200)

  redis = await startRedis(port)
  await waitForReadiness(a, 200)
  await waitForReadiness(b, 200)
  assert.equal(await me(b, other.accessToken), 200)
  assert.equal(await post(a, '/api/v1/auth/logout', other.accessToken), 204)
  assert.equal(await me(b, other.accessToken), 401)
})
