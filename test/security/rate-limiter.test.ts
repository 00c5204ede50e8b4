import assert from 'node:assert/strict'
import { test } from 'node:test'
import { loadConfig } from '../../src/config/index.js'
import { AppError } from '../../src/http/errors.js'
import { createAuthRateLimits, limitForgotPassword } from '../../src/rate-limits/rate-limit.js'
import { createMemoryKv } from '../../src/kv/memory-kv.js'

function refusal (promise: Promise<void>): Promise<AppError | undefined> {
  return promise.then(() => undefined, (error: unknown) => {
    assert.ok(error instanceof AppError)
    return error
  })
}

test('forgot-password limits: 3 per email per hour (email normalised), 20 per IP, windows end', async () => {
  let now = Date.parse('2026-01-01T00:00:00Z')
  const clock = { now: () => new Date(now) }
  const kv = createMemoryKv({ clock })
  const limits = createAuthRateLimits(loadConfig({ RATE_LIMITS: 'on' }), kv)
  for (let i = 0; i < 3; i++) assert.equal(await refusal(limitForgotPassword(limits, `10.0.0.${i}`, 'Someone@Example.com ')), undefined)
  const refused = await refusal(limitForgotPassword(limits, '10.0.0.9', 'someone@example.com'))
  assert.equal(refused?.statusCode, 429)
  assert.equal(refused?.code, 'rate_limited')
  assert.equal(refused?.options.headers?.['retry-after'], '3600')
  now += 30 * 60_000
  assert.equal((await refusal(limitForgotPassword(limits, '10.0.0.9', 'someone@example.com')))?.options.headers?.['retry-after'], '1800')
  now += 30 * 60_000
  assert.equal(await refusal(limitForgotPassword(limits, '10.0.0.9', 'someone@example.com')), undefined, 'a new window')

  for (let i = 0; i < 20; i++) assert.equal(await refusal(limitForgotPassword(limits, '10.9.9.9', `user${i}@example.com`)), undefined)
  assert.equal((await refusal(limitForgotPassword(limits, '10.9.9.9', 'fresh@example.com')))?.statusCode, 429)
  await kv.close()
})
