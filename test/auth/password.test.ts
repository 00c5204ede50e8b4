import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createArgon2Hasher } from '../../src/passwords/password-hasher.js'
import { passwordProblem } from '../../src/passwords/password-policy.js'

const limits = { minLength: 8, maxLength: 128 }

test('policy: length counts characters after NFKC, not bytes', async () => {
  // Unrepeated characters, so that the strength estimate does not refuse them.
  assert.equal((await passwordProblem('éàçüñøß', {}, limits))?.includes('at least'), true, '7 characters')
  assert.equal((await passwordProblem('éàçüñøßæ', { }, { ...limits, minLength: 9 }))?.includes('at least 9'), true, '8 two-byte characters are 8')
  assert.equal(await passwordProblem('😀🎉🚀🌍🍕🎸🐙🌈', {}, limits), undefined, 'astral characters count once')
  assert.match((await passwordProblem('a'.repeat(129), {}, limits))!, /at most 128/)
  const long = 'walrus quietly ate my toaster, '.repeat(5).slice(0, 128)
  assert.equal(await passwordProblem(long, {}, limits), undefined, '128 is fine')
})

test('policy: the common-password blocklist (10,000 entries) is case-insensitive', async () => {
  for (const common of ['password', '12345678', 'PASSWORD', 'Qwertyuiop', 'iloveyou', 'sunshine']) {
    assert.equal(await passwordProblem(common, {}, limits), 'Password is too common', common)
  }
  assert.equal(await passwordProblem('correct horse battery staple', {}, limits), undefined)
})

test('policy: refuses the email local part or the username, equal or contained', async () => {
  assert.ok(await passwordProblem('alice.smith', { email: 'alice.smith@example.com' }, limits))
  assert.ok(await passwordProblem('xxALICE.SMITHxx', { email: 'alice.smith@example.com' }, limits))
  assert.ok(await passwordProblem('my-name-is-bobby', { username: 'Bobby' }, limits))
  assert.equal(await passwordProblem('a long passphrase', { email: 'a@example.com' }, limits), undefined, 'a one-letter local part is not a substring rule')
})

test('policy: no composition rules', async () => {
  assert.equal(await passwordProblem('alllowercaseletters', {}, limits), undefined)
})

test('policy: guessable passwords are refused by the strength estimate (zxcvbn), with context words', async () => {
  for (const guessable of ['password123', 'Summer2024!', 'qwertyuiop123', 'p@ssw0rd99', 'aaaaaaaaaaaaaaaa', '1q2w3e4r5t6y']) {
    assert.equal(await passwordProblem(guessable, {}, limits), 'Password is too easy to guess', guessable)
  }
  assert.equal(await passwordProblem('xalbrozquinte', {}, limits), undefined)
  assert.equal(await passwordProblem('xalbrozquinte', { username: 'zorblax', email: 'etniuq@example.com' }, limits), 'Password is too easy to guess', 'reversed context words')
  assert.equal(await passwordProblem('megacorp2024', { words: ['megacorp'] }, limits), 'Password is too easy to guess', 'deployment words')
})

test('hasher: argon2id with the parameters in the hash; NFKC-equivalent passwords verify', async () => {
  const hasher = createArgon2Hasher({ memoryKib: 1024, timeCost: 1, parallelism: 1 })
  const hash = await hasher.hash('Ｐａｓｓｗｏｒｄ fullwidth')
  assert.match(hash, /^\$argon2id\$v=19\$m=1024,p=1,t=1\$/)
  assert.equal(await hasher.verify(hash, 'Password fullwidth'), true, 'NFKC folds fullwidth letters')
  assert.equal(await hasher.verify(hash, 'password fullwidth'), false)
  assert.equal(await hasher.verify('not a hash', 'x'), false)
  assert.equal(await hasher.verify('$argon2id$garbage', 'x'), false)
  assert.equal(hasher.needsRehash(hash), false)
  const stronger = createArgon2Hasher({ memoryKib: 2048, timeCost: 2, parallelism: 1 })
  assert.equal(stronger.needsRehash(hash), true, 'raised parameters ask for a rehash')
  assert.equal(await stronger.verify(hash, 'Password fullwidth'), true, 'old hashes still verify')
})

test('hasher: the default parameters meet OWASP (m=19 MiB, t=2, p=1)', async () => {
  const { loadConfig } = await import('../../src/config/index.js')
  const hasher = createArgon2Hasher(loadConfig({}).password.argon2)
  assert.match(await hasher.hash('x'), /^\$argon2id\$v=19\$m=19456,p=1,t=2\$/)
})
