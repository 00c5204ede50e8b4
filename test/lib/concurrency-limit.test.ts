import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createConcurrencyLimit } from '../../src/lib/concurrency-limit.js'

test('runs at most N tasks at once, in arrival order, and passes results and errors through', async () => {
  const limit = createConcurrencyLimit(2)
  let running = 0
  let peak = 0
  const started: number[] = []
  // Node 20 has no Promise.withResolvers.
  const gates = Array.from({ length: 5 }, () => {
    let open!: () => void
    const promise = new Promise<void>((resolve) => { open = resolve })
    return { promise, resolve: () => open() }
  })
  const results = gates.map((gate, i) => limit(async () => {
    started.push(i)
    running++
    peak = Math.max(peak, running)
    await gate.promise
    running--
    if (i === 3) throw new Error('task 3 failed')
    return i * 10
  }))
  await Promise.resolve()
  assert.deepEqual(started, [0, 1])
  for (const gate of gates) gate.resolve()
  const settled = await Promise.allSettled(results)
  assert.equal(peak, 2)
  assert.deepEqual(started, [0, 1, 2, 3, 4])
  assert.deepEqual(settled.map((s) => s.status === 'fulfilled' ? s.value : (s.reason as Error).message), [0, 10, 20, 'task 3 failed', 40])
})
