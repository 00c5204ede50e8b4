/**
 * SIGTERM to a real process with a burst of requests in flight.
 * @see issue 15, item 4
 */
import assert from 'node:assert/strict'
import { connect, type Socket } from 'node:net'
import { test } from 'node:test'
import { PASSWORD } from '../helpers/factories.js'
import { type ServiceProcess, startService, waitFor } from '../helpers/processes.js'
import { createTestDatabaseUrl } from '../helpers/test-db.js'

const AUTH = '/api/v1/auth'

interface Exchange {
  socket: Socket
  status?: number
  headers: Record<string, string>
  body?: any
  error?: string
  closed: boolean
  closedAt?: number
}

/** One raw connection; parses the first response (headers + content-length body). */
function open (port: number): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    const exchange: Exchange = { socket, headers: {}, closed: false }
    let received = ''
    socket.setEncoding('latin1')
    socket.on('data', (data: string) => {
      received += data
      const end = received.indexOf('\r\n\r\n')
      if (exchange.status !== undefined || end === -1) return
      const [statusLine = '', ...lines] = received.slice(0, end).split('\r\n')
      const headers: Record<string, string> = {}
      for (const line of lines) headers[line.slice(0, line.indexOf(':')).toLowerCase()] = line.slice(line.indexOf(':') + 1).trim()
      const length = Number(headers['content-length'] ?? 0)
      if (received.length - end - 4 < length) return
      exchange.headers = headers
      exchange.body = JSON.parse(received.slice(end + 4, end + 4 + length) || 'null')
      exchange.status = Number(statusLine.split(' ')[1])
    })
    socket.on('error', (error: NodeJS.ErrnoException) => { exchange.error = error.code ?? error.message })
    socket.on('close', () => { exchange.closed = true; exchange.closedAt = Date.now() })
    socket.once('connect', () => resolve(exchange))
    socket.once('error', reject)
  })
}

function signinRequest (email: string, extraHeaders = ''): { head: string, body: string } {
  const body = JSON.stringify({ email, password: PASSWORD })
  return { head: `POST ${AUTH}/signin HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extraHeaders}\r\n`, body }
}

async function signUpOver (service: ServiceProcess): Promise<string> {
  const email = `shutdown-${Date.now()}@example.com`
  const response = await fetch(`${service.url}${AUTH}/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, username: `shutdown_${Date.now()}`, password: PASSWORD })
  })
  assert.equal(response.status, 201)
  return email
}

test('SIGTERM under a burst of 200 requests: accepted ones complete, idle keep-alive sockets close at once, new connections are refused, exit 0', async (t) => {
  const service = await startService(t, {
    DATABASE_URL: await createTestDatabaseUrl(t),
    LOG_LEVEL: 'warn',
    // Enough cost per sign-in for the burst to be in flight when the signal arrives.
    ARGON2_MEMORY_KIB: '4096',
    PASSWORD_HASH_QUEUE_MAX: '1000',
    SHUTDOWN_GRACE_MS: '20000'
  })
  const email = await signUpOver(service)

  // A keep-alive connection that served one request and now sits idle.
  const idle = await open(service.port)
  idle.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n')
  await waitFor('the idle connection got its answer', () => idle.status === 200)

  // A request accepted before the signal whose body is still on its way.
  const slow = await open(service.port)
  const slowRequest = signinRequest(email)
  slow.socket.write(slowRequest.head + slowRequest.body.slice(0, 10))

  const burst = await Promise.all(Array.from({ length: 200 }, () => open(service.port)))
  // Give the (idle) server a moment to accept every connection before the requests go out.
  await new Promise((resolve) => setTimeout(resolve, 300))
  const request = signinRequest(email)
  // 150 requests go out before the signal; 50 connections (already accepted) send theirs
  // once the shutdown has begun, as requests still in transit would arrive: they must get
  // an answer (503, to retry elsewhere), not a reset.
  const early = burst.slice(0, 150)
  const late = burst.slice(150)
  for (const exchange of early) exchange.socket.write(request.head + request.body)
  await waitFor('the first responses', () => burst.filter((e) => e.status !== undefined).length >= 10, 60_000, 5)

  process.kill(service.pid, 'SIGTERM')
  await waitFor('the idle keep-alive connection is closed', () => idle.closed, 20_000, 2)
  for (const exchange of late) exchange.socket.write(request.head + request.body)
  // Still running (the slow request is not finished), yet no longer accepting connections.
  assert.equal(service.child.exitCode, null)
  const refused = await new Promise<string>((resolve) => {
    const probe = connect(service.port, '127.0.0.1')
    probe.once('connect', () => { probe.destroy(); resolve('connected') })
    probe.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'))
  })
  assert.equal(refused, 'ECONNREFUSED')

  slow.socket.write(slowRequest.body.slice(10))
  assert.equal(await service.exited, 0, service.stdout() + service.stderr())
  assert.equal(slow.status, 200, 'the request accepted before SIGTERM completed')
  assert.ok(idle.closedAt! <= slow.closedAt!, 'the idle connection closed before the draining ended')

  const statuses = burst.map((e) => e.status ?? `no response (${e.error ?? 'closed'})`)
  const counts = statuses.reduce<Record<string, number>>((acc, s) => ({ ...acc, [s]: (acc[s] ?? 0) + 1 }), {})
  // Every request got a whole answer: served, or refused in the contract's shape. None reset.
  assert.deepEqual(Object.keys(counts).filter((s) => s !== '200' && s !== '503'), [], JSON.stringify(counts))
  assert.ok((counts['200'] ?? 0) >= 10, JSON.stringify(counts))
  assert.ok(late.every((e) => e.status === 503), 'requests that arrived after the signal are refused in the contract shape')
  for (const exchange of burst.filter((e) => e.status === 503)) {
    assert.deepEqual(exchange.body, { detail: 'Service temporarily unavailable', code: 'service_unavailable' })
    assert.ok(exchange.headers['retry-after'])
    assert.ok(exchange.headers['x-request-id'])
    assert.equal(exchange.headers.connection, 'close')
  }
  t.diagnostic(`burst outcome: ${JSON.stringify(counts)}`)
})

test('requests still running when SHUTDOWN_GRACE_MS ends: their connections are closed and the exit code is 1', async (t) => {
  const service = await startService(t, { DATABASE_URL: await createTestDatabaseUrl(t), LOG_LEVEL: 'warn', SHUTDOWN_GRACE_MS: '500', REQUEST_TIMEOUT_MS: '60000' })
  const email = await signUpOver(service)
  const stuck = await open(service.port)
  const request = signinRequest(email)
  stuck.socket.write(request.head + request.body.slice(0, 5))
  await new Promise((resolve) => setTimeout(resolve, 200))
  process.kill(service.pid, 'SIGTERM')
  assert.equal(await service.exited, 1)
  await waitFor('the stuck connection is closed', () => stuck.closed)
  assert.match(service.stdout(), /SHUTDOWN_GRACE_MS/)
})
