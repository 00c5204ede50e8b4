/**
 * Errors raised before routing, over a real socket: the contract's body, x-request-id and the
 * security headers, like every other answer. A body that stalls is cut off with 408.
 * @see issue 15, items 6 and 16
 */
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { buildTestApp } from '../helpers/build-test-app.js'

interface RawResponse { status: number, headers: Record<string, string>, body: any, closedAfterMs: number }

async function listen (t: Parameters<typeof buildTestApp>[0], env: Record<string, string> = {}): Promise<{ app: FastifyInstance, port: number }> {
  const app = await buildTestApp(t, env)
  await app.listen({ host: '127.0.0.1', port: 0 })
  return { app, port: (app.server.address() as { port: number }).port }
}

/** Writes `chunks` (with the given pauses between them) and reads until the server closes. */
function raw (port: number, chunks: (string | number)[]): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const started = Date.now()
    const socket = connect(port, '127.0.0.1')
    let received = ''
    socket.setEncoding('latin1')
    socket.on('data', (data: string) => { received += data })
    socket.on('error', reject)
    socket.on('close', () => {
      const [head = '', ...rest] = received.split('\r\n\r\n')
      const [statusLine = '', ...headerLines] = head.split('\r\n')
      const headers: Record<string, string> = {}
      for (const line of headerLines) {
        const colon = line.indexOf(':')
        headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim()
      }
      const text = rest.join('\r\n\r\n')
      let body: unknown = text
      try { body = JSON.parse(text) } catch {}
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body, closedAfterMs: Date.now() - started })
    })
    const send = async (): Promise<void> => {
      for (const chunk of chunks) {
        if (typeof chunk === 'number') await new Promise((resolve) => setTimeout(resolve, chunk))
        else if (!socket.destroyed) socket.write(chunk)
      }
    }
    send().catch(reject)
  })
}

function assertContractError (response: RawResponse, status: number, code: string): void {
  assert.equal(response.status, status, JSON.stringify(response))
  assert.equal(response.body.code, code)
  assert.equal(typeof response.body.detail, 'string')
  assert.deepEqual(Object.keys(response.body).sort(), ['code', 'detail'])
  assert.match(response.headers['content-type'] ?? '', /^application\/json/)
  assert.match(response.headers['x-request-id'] ?? '', /^[A-Za-z0-9._:-]{1,128}$/)
  assert.equal(response.headers['x-content-type-options'], 'nosniff')
  assert.match(response.headers['content-security-policy'] ?? '', /default-src 'none'/)
  assert.equal(response.headers['referrer-policy'], 'no-referrer')
}

test('malformed percent-encoding, an over-long path parameter, an over-long URL and over-large headers: contract errors', async (t) => {
  const { port } = await listen(t)
  assertContractError(await raw(port, ['GET /api/v1/auth/sessions/%E0%A4%A HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']), 400, 'invalid_url')
  assertContractError(await raw(port, [`DELETE /api/v1/auth/sessions/${'a'.repeat(300)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`]), 414, 'uri_too_long')
  // Past Node's 16 KiB header limit in the request line itself: the URL is what is too long.
  assertContractError(await raw(port, [`GET /healthz?${'q'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`]), 414, 'uri_too_long')
  assertContractError(await raw(port, [`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'h'.repeat(20_000)}\r\n\r\n`]), 431, 'headers_too_large')
  assertContractError(await raw(port, ['NOT A REQUEST\r\n\r\n']), 400, 'bad_request')
  // The same socket-level answers keep the service serving.
  const ok = await raw(port, ['GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'])
  assert.equal(ok.status, 200)
})

test('a body that stalls is answered 408 request_timeout, in the contract shape, and the socket closed', async (t) => {
  const { port } = await listen(t, { REQUEST_TIMEOUT_MS: '600' })
  const head = 'POST /api/v1/auth/signin HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\nX-Request-Id: stalled-body-1\r\n\r\n'
  // Headers, then one byte every 250 ms: never the whole body.
  const trickle: (string | number)[] = [head, ...Array.from({ length: 40 }, (_, i) => [250, i === 0 ? '{' : ' ']).flat()]
  const response = await raw(port, trickle)
  assertContractError(response, 408, 'request_timeout')
  // It went through onRequest before stalling: the request keeps its own id.
  assert.equal(response.headers['x-request-id'], 'stalled-body-1')
  assert.ok(response.closedAfterMs < 5000, `closed after ${response.closedAfterMs} ms`)
  // Headers that never end are cut off the same way.
  const slowHeaders = await raw(port, ['GET /healthz HTTP/1.1\r\n', ...Array.from({ length: 40 }, () => [250, 'X-A: b\r\n']).flat()])
  assertContractError(slowHeaders, 408, 'request_timeout')
})
