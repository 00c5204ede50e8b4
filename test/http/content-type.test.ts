import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildTestApp } from '../helpers/build-test-app.js'
import { bearer, PASSWORD, signUp, uniqueEmail, uniqueUsername } from '../helpers/factories.js'

const A = '/api/v1/auth'
const UNSUPPORTED = { detail: 'Unsupported content type', code: 'unsupported_media_type' }

test('a form body on /signup is refused with 415 and creates no account', async (t) => {
  const app = await buildTestApp(t)
  const email = uniqueEmail()
  const form = new URLSearchParams({ email, username: uniqueUsername(), password: PASSWORD }).toString()
  const res = await app.inject({ method: 'POST', url: `${A}/signup`, payload: form, headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  assert.equal(res.statusCode, 415)
  assert.deepEqual(res.json(), UNSUPPORTED)
  assert.ok(res.headers['x-request-id'])
  assert.equal(res.headers['set-cookie'], undefined)
  // The same fields as JSON still sign up: the address was not taken by the refused form.
  const json = await app.inject({ method: 'POST', url: `${A}/signup`, payload: { email, username: uniqueUsername(), password: PASSWORD } })
  assert.equal(json.statusCode, 201)
})

test('text/plain and multipart bodies on JSON endpoints are refused with 415', async (t) => {
  const app = await buildTestApp(t)
  const user = await signUp(app)
  const body = JSON.stringify({ email: user.email, password: PASSWORD })
  for (const type of ['text/plain', 'text/plain;charset=UTF-8', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded']) {
    const signin = await app.inject({ method: 'POST', url: `${A}/signin`, payload: body, headers: { 'content-type': type } })
    assert.equal(signin.statusCode, 415, type)
    assert.deepEqual(signin.json(), UNSUPPORTED)
    const patch = await app.inject({ method: 'PATCH', url: `${A}/me`, payload: JSON.stringify({ name: 'Changed' }), headers: { ...bearer(user.accessToken), 'content-type': type } })
    assert.equal(patch.statusCode, 415, type)
  }
  const me = await app.inject({ method: 'GET', url: `${A}/me`, headers: bearer(user.accessToken) })
  assert.notEqual(me.json().name, 'Changed')
})

test('/login and /token keep their forms; JSON with a charset is still JSON', async (t) => {
  const app = await buildTestApp(t)
  const user = await signUp(app)
  const form = { 'content-type': 'application/x-www-form-urlencoded' }
  const login = await app.inject({ method: 'POST', url: `${A}/login`, payload: new URLSearchParams({ username: user.email, password: PASSWORD }).toString(), headers: form })
  assert.equal(login.statusCode, 204)
  const token = await app.inject({ method: 'POST', url: `${A}/token`, payload: new URLSearchParams({ grant_type: 'password', username: user.email, password: PASSWORD }).toString(), headers: form })
  assert.equal(token.statusCode, 200)
  const signin = await app.inject({ method: 'POST', url: `${A}/signin`, payload: JSON.stringify({ email: user.email, password: PASSWORD }), headers: { 'content-type': 'application/json; charset=utf-8' } })
  assert.equal(signin.statusCode, 200)
  // /token still refuses text/plain.
  const plain = await app.inject({ method: 'POST', url: `${A}/token`, payload: 'grant_type=password', headers: { 'content-type': 'text/plain' } })
  assert.equal(plain.statusCode, 415)
})
