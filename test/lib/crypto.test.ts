import assert from 'node:assert/strict'
import { test } from 'node:test'
import { randomToken } from '../../src/lib/crypto.js'

test('randomToken: every token is fresh, across many refills of its pool', () => {
  // 2,000 tokens of 32 bytes draw 64 KB: the 4 KiB pool is refilled about 16 times. A pool
  // that was not refilled, or handed the same bytes out twice, would repeat tokens.
  const tokens = Array.from({ length: 2000 }, () => randomToken(32))
  assert.equal(new Set(tokens).size, tokens.length)
  const bytes = Buffer.concat(tokens.map((token) => Buffer.from(token, 'base64url')))
  assert.equal(bytes.length, 2000 * 32)
  // Zeroed bytes handed out (the pool's spent part) would drag the mean towards 0; uniform
  // bytes average 127.5 with a standard error of about 0.3 over 64,000 of them.
  const mean = bytes.reduce((sum, byte) => sum + byte, 0) / bytes.length
  assert.ok(Math.abs(mean - 127.5) < 3, `mean byte ${mean}`)
  // Every byte value turns up (each is expected 250 times).
  assert.equal(new Set(bytes).size, 256)
})

test('randomToken: odd sizes, sizes larger than the pool, and bad sizes', () => {
  for (const size of [1, 16, 17, 33, 4095, 4096, 5000]) {
    assert.equal(Buffer.from(randomToken(size), 'base64url').length, size)
  }
  for (const size of [0, -1, 1.5, Number.NaN]) assert.throws(() => randomToken(size), RangeError)
})
