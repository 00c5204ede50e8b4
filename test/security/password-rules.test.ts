import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildTestApp } from '../helpers/build-test-app.js'
import { uniqueEmail, uniqueUsername } from '../helpers/factories.js'

// ASVS V2.1 / NIST SP 800-63B §5.1.1.2 checks that SECURITY.md cites.

test('password rules: length 8–128 by default, any Unicode, NFKC, no truncation, no composition rules, blocklist and personal words', async (t) => {
  const app = await buildTestApp(t)
  const signup = (password: string, username = uniqueUsername(), email = uniqueEmail()) =>
    app.inject({ method: 'POST', url: '/api/v1/auth/signup', payload: { email, username, password } })
  const signin = (email: string, password: string) => app.inject({ method: 'POST', url: '/api/v1/auth/signin', payload: { email, password } })

  assert.equal((await signup('short7!')).json().code, 'weak_password')
  assert.equal((await signup('x'.repeat(129))).json().code, 'weak_password')
  assert.equal((await signup('password')).json().code, 'weak_password', 'common password')
  assert.equal((await signup('my name is walrus99 ok', 'walrus99')).json().code, 'weak_password', 'contains the username')
  // No composition rules: lower-case words only are fine; so is every character class.
  assert.equal((await signup('correct horse battery staple')).statusCode, 201)
  assert.equal((await signup('пароль 🔐 パスワード ok')).statusCode, 201)

  // 128 characters, all significant: a change in the last one fails.
  const long = 'Seven wizards quietly box jackdaws near a frozen lake at dawn, humming 42 tunes while the ferry from Oslo is late again today, sadly'.slice(0, 128)
  assert.equal(long.length, 128)
  const email = uniqueEmail()
  assert.equal((await signup(long, uniqueUsername(), email)).statusCode, 201)
  assert.equal((await signin(email, long)).statusCode, 200)
  assert.equal((await signin(email, long.slice(0, 127) + 'c')).statusCode, 401)

  // NFKC: full-width and ASCII forms are the same password.
  const wideEmail = uniqueEmail()
  assert.equal((await signup('ｆｕｌｌ ｗｉｄｔｈ ｐａｓｓ', uniqueUsername(), wideEmail)).statusCode, 201)
  assert.equal((await signin(wideEmail, 'full width pass')).statusCode, 200)
})

test('PASSWORD_MIN_LENGTH raises the minimum (e.g. 15 for NIST SP 800-63B-4 password-only accounts)', async (t) => {
  const app = await buildTestApp(t, { PASSWORD_MIN_LENGTH: '15' })
  const response = await app.inject({ method: 'POST', url: '/api/v1/auth/signup', payload: { email: uniqueEmail(), username: uniqueUsername(), password: 'fourteen chars' } })
  assert.equal(response.statusCode, 422)
  assert.equal(response.json().code, 'weak_password')
})
