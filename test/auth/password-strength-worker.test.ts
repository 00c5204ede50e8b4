import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { passwordProblem, preloadPasswordPolicy } from '../../src/passwords/password-policy.js'
import { strengthWorkerExits } from '../../src/metrics/metrics.js'
import { terminateStrengthWorker } from '../../src/passwords/strength-estimator.js'

const limits = { minLength: 8, maxLength: 128 }
// About 50 ms of the estimator's work (bench/password-strength.ts: "keyboard walk repeat").
const expensive = '1q2w3e4r'.repeat(16)

test('strength estimate: runs beside the event loop, which keeps turning during a slow check', async () => {
  await preloadPasswordPolicy()
  let turns = 0
  let checking = true
  const spin = (): void => { if (checking) { turns++; setImmediate(spin) } }
  setImmediate(spin)
  const problem = await passwordProblem(expensive, {}, limits)
  checking = false
  assert.equal(problem, 'Password is too easy to guess')
  // On the event loop the check would finish before the first turn.
  assert.ok(turns >= 3, `the event loop turned ${turns} times during the check`)
})

test('strength estimate: concurrent checks each get their own answer', async () => {
  const cases: Array<[string, string | undefined]> = [
    ['password123', 'Password is too easy to guess'],
    ['walrus quietly ate my toaster', undefined],
    ['Summer2024!', 'Password is too easy to guess'],
    ['xalbrozquinte', undefined],
    [expensive, 'Password is too easy to guess'],
    ['a long and unusual passphrase 42', undefined]
  ]
  const all = Array.from({ length: 4 }, () => cases).flat()
  const answers = await Promise.all(all.map(([password]) => passwordProblem(password, {}, limits)))
  assert.deepEqual(answers, all.map(([, expected]) => expected))
})

test('strength estimate: a check in flight when the worker dies is answered by a new one', async () => {
  const exitsBefore = (await strengthWorkerExits.get()).values[0]?.value ?? 0
  const pending = [passwordProblem(expensive, {}, limits), passwordProblem('walrus quietly ate my toaster', {}, limits)]
  await terminateStrengthWorker()
  assert.equal((await strengthWorkerExits.get()).values[0]?.value, exitsBefore + 1, 'the exit is counted for the operator')
  assert.deepEqual(await Promise.all(pending), ['Password is too easy to guess', undefined])
  assert.equal(await passwordProblem('Summer2024!', {}, limits), 'Password is too easy to guess', 'and later checks too')
})

test('strength estimate: an idle worker does not keep the process alive', async () => {
  const policy = fileURLToPath(new URL('../../src/passwords/password-policy.ts', import.meta.url))
  const script = `const { passwordProblem } = await import(${JSON.stringify(policy)}); console.log(String(await passwordProblem('password123', {}, { minLength: 8, maxLength: 128 })))`
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString() })
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
  const code = await exited
  clearTimeout(timer)
  assert.equal(output.trim(), 'Password is too easy to guess')
  assert.equal(code, 0, 'the process ended by itself once the check was answered')
})
