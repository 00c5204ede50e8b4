/**
 * The in-process rate-limit store is bounded, and a spray of fresh keys cannot evict a lockout.
 * @see issue 15, item 7
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createMemoryKv } from '../../src/kv/memory-kv.js'
import { buildTestApp } from '../helpers/build-test-app.js'
import { PASSWORD, signUp, uniqueEmail } from '../helpers/factories.js'
import { fakeClock } from '../helpers/fake-clock.js'

const SIGNIN = '/api/v1/auth/signin'

test('over HTTP: a locked-out account stays locked out while fresh emails flood a store capped at 50 keys', async (t) => {
  const app = await buildTestApp(t, { RATE_LIMITS: 'on', RATE_LIMIT_MEMORY_MAX_KEYS: '50', RATE_LIMIT_SIGNIN_PER_IP: '100000/60' })
  const victim = await signUp(app)
  const signin = (email: string, password: string) => app.inject({ method: 'POST', url: SIGNIN, payload: { email, password } })
  for (let i = 0; i < 5; i++) assert.equal((await signin(victim.email, `guess ${i}`)).statusCode, 401)
  assert.equal((await signin(victim.email, 'guess 5')).statusCode, 429)
  // Four times the cap in fresh keys: an unprotected LRU would have dropped the lockout.
  for (let i = 0; i < 200; i++) assert.equal((await signin(uniqueEmail('spray'), 'whatever it is')).statusCode, 401)
  const after = await signin(victim.email, PASSWORD)
  assert.equal(after.statusCode, 429, 'the lockout survived the spray')
})

test('the store: at most maxKeys per segment; fresh keys evict fresh keys; lockouts only each other', async () => {
  const clock = fakeClock()
  const kv = createMemoryKv({ clock, maxKeys: 10 })
  try {
    for (let i = 0; i < 3; i++) await kv.increment('locked', 60_000, 2)
    assert.equal((await kv.peek('locked')).count, 3)
    for (let i = 0; i < 1000; i++) await kv.increment(`fresh-${i}`, 60_000, 2)
    assert.deepEqual(kv.size(), { fresh: 10, lockedOut: 1 })
    assert.equal((await kv.peek('locked')).count, 3)
    // The most recent fresh keys are the ones kept.
    assert.equal((await kv.peek('fresh-999')).count, 1)
    assert.equal((await kv.peek('fresh-0')).count, 0)
    // Lockouts are bounded too.
    for (let i = 0; i < 30; i++) for (let j = 0; j < 3; j++) await kv.increment(`other-locked-${i}`, 60_000, 2)
    assert.equal(kv.size().lockedOut, 10)
    // Windows still end.
    clock.advance(61)
    assert.equal((await kv.peek('other-locked-29')).count, 0)
    assert.equal((await kv.increment('other-locked-29', 60_000, 2)).count, 1)
  } finally {
    await kv.close()
  }
})
