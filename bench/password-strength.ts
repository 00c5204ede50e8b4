// Cost of the password policy per call (strength estimate included, in its worker thread):
// typical passwords and the patterns that are most expensive to estimate.
// Run: npm run bench:password [-- <rounds>]
import { performance } from 'node:perf_hooks'
import { passwordProblem, preloadPasswordPolicy } from '../src/passwords/password-policy.js'

const rounds = Number(process.argv[2] ?? 50)
const limits = { minLength: 8, maxLength: 128 }
const context = { email: 'alice.smith@example.com', username: 'alice_smith' }

const started = performance.now()
await preloadPasswordPolicy()
const loadMs = performance.now() - started

const cases: Array<[string, string]> = [
  ['typical passphrase (32)', 'a long and unusual passphrase 42'],
  ['short guessable (11)', 'password123'],
  ['random 16', 'pX7#qL2!vR9@mK4$'],
  ['repeat pattern (64)', 'aZ9!'.repeat(16)],
  ['keyboard walk repeat (128)', '1q2w3e4r'.repeat(16)],
  ['l33t-heavy (128)', 'ab1'.repeat(43).slice(0, 128)]
]

function percentile (sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!
}

console.log(`start-up (blocklist + the worker's dictionaries): ${loadMs.toFixed(0)} ms`)
console.log('case'.padEnd(30), 'median ms'.padStart(10), 'p95 ms'.padStart(10), 'max ms'.padStart(10))
for (const [name, password] of cases) {
  const times: number[] = []
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now()
    await passwordProblem(password, context, limits)
    times.push(performance.now() - t0)
  }
  times.sort((a, b) => a - b)
  console.log(name.padEnd(30), percentile(times, 0.5).toFixed(2).padStart(10), percentile(times, 0.95).toFixed(2).padStart(10), times.at(-1)!.toFixed(2).padStart(10))
}
