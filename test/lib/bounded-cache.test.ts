import assert from 'node:assert/strict'
import { test } from 'node:test'
import { LRUCache } from 'lru-cache'
import { entriesBound } from '../../src/lib/bounded-cache.js'

test('a cache bounded by entriesBound holds at most that many entries, evicting the least recently used', () => {
  const cache = new LRUCache<string, number>(entriesBound(3))
  for (const [i, key] of ['a', 'b', 'c'].entries()) cache.set(key, i)
  cache.get('a') // now the most recently used
  cache.set('d', 3)
  assert.equal(cache.size, 3)
  assert.deepEqual([...cache.keys()].sort(), ['a', 'c', 'd'], '"b", the least recently used, was evicted')
  for (let i = 0; i < 100; i++) cache.set(`spray-${i}`, i)
  assert.equal(cache.size, 3, 'a spray of new keys cannot grow it')
})

test('a cache bounded by entriesBound allocates nothing for the entries it does not hold', () => {
  // Built with `max`, lru-cache allocates three 4-byte arrays of that length outside the heap
  // (12 MB for a million entries) the moment it is made.
  const before = process.memoryUsage().external
  const caches = Array.from({ length: 4 }, () => new LRUCache<string, number>(entriesBound(1_000_000)))
  const grown = process.memoryUsage().external - before
  assert.ok(grown < 1_000_000, `external memory grew by ${grown} bytes for four empty caches`)
  assert.equal(caches.length, 4)
})
