import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createArgon2Hasher } from '../../src/passwords/password-hasher.js'
import { passwordProblem } from '../../src/passwords/password-policy.js'

const limits = { minLength: 8, maxLength: 128 }

test('policy: length counts characters after NFKC, not bytes', () => {
  assert.equal(passwordProblem('ééééééé', {}, limits)?.includes('at least'), true, '7 characters')
  assert.equal(passwordProblem('éééééééé', {}, limits), undefined, '8 two-byte characters')
  assert.equal(passwordProblem('😀😀😀😀😀😀😀😀', {}, limits), undefined, 'astral characters count once')
  assert.match(passwordProblem('a'.repeat(129), {}, limits)!, /at most 128/)
  assert.equal(passwordProblem('a1b2c3d4'.repeat(16), {}, limits), undefined, '128 is fine')
})

test('policy: the common-password blocklist (10,000 entries) is case-insensitive', () => {
  for (const common of ['password', '12345678', 'PASSWORD', 'Qwertyuiop', 'iloveyou', 'sunshine']) {
    assert.equal(passwordProblem(common, {}, limits), 'Password is too common', common)
  }
  assert.equal(passwordProblem('correct horse battery staple', {}, limits), undefined)
})

test('policy: refuses the email local part or the username, equal or contained', () => {
  assert.ok(passwordProblem('alice.smith', { email: 'alice.smith@example.com' }, limits))
  assert.ok(passwordProblem('xxALICE.SMITHxx', { email: 'alice.smith@example.com' }, limits))
  assert.ok(passwordProblem('my-name-is-bobby', { username: 'Bobby' }, limits))
  assert.equal(passwordProblem('a long passphrase', { email: 'a@example.com' }, limits), undefined, 'a one-letter local part is not a substring rule')
})

test('policy: no composition rules', () => {
  assert.equal(passwordProblem('alllowercaseletters', {}, limits), undefined)
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
