/**
 * The argon2 queue is bounded: past PASSWORD_HASH_QUEUE_MAX waiting hashes, 503 at once.
 * @see issue 15, item 5
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createArgon2Hasher } from '../../src/passwords/password-hasher.js'
import { AppError } from '../../src/http/errors.js'
import { buildTestApp } from '../helpers/build-test-app.js'
import { PASSWORD, signUp } from '../helpers/factories.js'

test('a flood of sign-ins beyond the hashing queue gets 503 service_unavailable with Retry-After, never 500; the service then serves', async (t) => {
  const app = await buildTestApp(t, { PASSWORD_HASH_QUEUE_MAX: '2', ARGON2_MEMORY_KIB: '8192', ARGON2_TIME_COST: '2' })
  const user = await signUp(app)
  const responses = await Promise.all(Array.from({ length: 40 }, (_, i) =>
    app.inject({ method: 'POST', url: '/api/v1/auth/signin', payload: { email: user.email, password: `wrong guess ${i}` } })))
  const statuses = responses.map((r) => r.statusCode)
  assert.deepEqual([...new Set(statuses)].filter((s) => s !== 401 && s !== 503), [], JSON.stringify(statuses))
  const refused = responses.filter((r) => r.statusCode === 503)
  // At most one hash per core runs and two wait: most of the 40 cannot be queued.
  assert.ok(refused.length >= 20, `${refused.length} refused`)
  for (const response of refused) {
    assert.deepEqual(response.json(), { detail: 'Service temporarily unavailable', code: 'service_unavailable' })
    assert.match(String(response.headers['retry-after']), /^\d+$/)
  }
  // Once the flood is over the queue is empty again.
  assert.equal((await app.inject({ method: 'POST', url: '/api/v1/auth/signin', payload: { email: user.email, password: PASSWORD } })).statusCode, 200)
  const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body
  assert.match(metrics, /authd_password_hash_queue\{state="waiting"\} 0/)
})

test('the hasher itself: a full queue throws the 503 AppError for hash and verify alike, never "wrong password"', async () => {
  const hasher = createArgon2Hasher({ memoryKib: 8192, timeCost: 2, parallelism: 1 }, { concurrency: 1, maxQueue: 1 })
  const hash = await hasher.hash('correct horse battery')
  const outcomes = await Promise.allSettled([
    hasher.verify(hash, 'correct horse battery'),
    hasher.verify(hash, 'correct horse battery'),
    hasher.verify(hash, 'correct horse battery'),
    hasher.hash('another one')
  ])
  assert.equal(outcomes[0]!.status, 'fulfilled')
  assert.equal((outcomes[0] as PromiseFulfilledResult<boolean>).value, true)
  assert.equal(outcomes[1]!.status, 'fulfilled')
  for (const outcome of outcomes.slice(2)) {
    assert.equal(outcome.status, 'rejected')
    const error = (outcome as PromiseRejectedResult).reason
    assert.ok(error instanceof AppError && error.statusCode === 503 && error.code === 'service_unavailable')
  }
  assert.deepEqual(hasher.queueState!(), { running: 0, waiting: 0 })
})
