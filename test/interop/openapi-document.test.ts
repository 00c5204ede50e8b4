import assert from 'node:assert/strict'
import { test } from 'node:test'
import { validate } from '@scalar/openapi-parser'
import addFormats from 'ajv-formats'
import { OpenAPIBackend } from 'openapi-backend'
import { PASSWORD, signUp, uniqueEmail, uniqueUsername } from '../helpers/factories.js'
import { totpCode } from '../helpers/totp.js'
import { listeningApp } from './listening-app.js'

interface Doc {
  servers: Array<{ url: string }>
  paths: Record<string, Record<string, OperationObject>>
  components: { schemas: Record<string, { properties?: Record<string, { enum?: string[] }> }>, securitySchemes: Record<string, unknown> }
}
interface OperationObject {
  operationId: string
  security?: Array<Record<string, string[]>>
  requestBody?: { required?: boolean, content: Record<string, unknown> }
  parameters?: Array<{ name: string, in: string, required?: boolean, schema?: { default?: unknown } }>
  responses: Record<string, { description: string, content?: Record<string, unknown>, headers?: Record<string, unknown> }>
}

const ADMIN_EMAIL = 'root@example.com'
const ADMIN_PASSWORD = 'the operator passphrase 42'

async function documentOf (base: string): Promise<Doc> {
  return await (await fetch(`${base}/openapi.json`)).json() as Doc
}

test('the OpenAPI document is valid 3.1, with named components, real descriptions and both security schemes', async (t) => {
  const { base } = await listeningApp(t, { PUBLIC_URL: 'http://127.0.0.1:1/behind-a-proxy' })
  const doc = await documentOf(base)
  const { valid, errors } = await validate(structuredClone(doc))
  assert.deepEqual(errors, [])
  assert.equal(valid, true)

  assert.deepEqual(doc.servers, [{ url: 'http://127.0.0.1:1/behind-a-proxy' }], 'servers come from PUBLIC_URL')
  for (const name of ['User', 'TokenResponse', 'Session', 'ErrorResponse', 'OAuthTokenResponse', 'OAuthErrorResponse', 'Jwks', 'AuthorizationServerMetadata']) {
    assert.ok(doc.components.schemas[name], `component ${name}`)
  }
  const codes = doc.components.schemas.ErrorResponse!.properties!.code!.enum ?? []
  for (const code of ['invalid_json', 'payload_too_large', 'unsupported_media_type', 'csrf_failed', 'rate_limited', 'validation_error', 'not_authenticated', 'invalid_token']) {
    assert.ok(codes.includes(code), `ErrorResponse.code enumerates ${code}`)
  }
  assert.deepEqual(Object.keys(doc.components.securitySchemes).sort(), ['bearer', 'cookie'])

  for (const [path, operations] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const where = `${method.toUpperCase()} ${path}`
      for (const [status, response] of Object.entries(operation.responses)) {
        assert.ok(response.description && response.description !== 'Default Response', `${where} ${status} has a real description`)
      }
      if (operation.security && operation.security.length > 0) {
        assert.deepEqual(operation.security, [{ bearer: [] }, { cookie: [] }], `${where} takes the bearer header or the cookie`)
      }
      for (const parameter of operation.parameters ?? []) {
        if (parameter.schema?.default !== undefined) assert.notEqual(parameter.required, true, `${where} ${parameter.name} has a default, so it is optional`)
      }
    }
  }
  const auth = '/api/v1/auth'
  assert.ok(doc.paths[`${auth}/token`]!.post!.requestBody!.content['application/x-www-form-urlencoded'], '/token documents its form')
  assert.ok(doc.paths[`${auth}/login`]!.post!.requestBody!.content['application/x-www-form-urlencoded'], '/login documents its form')
  assert.equal(doc.paths[`${auth}/refresh`]!.post!.requestBody!.required, false, 'the cookie refresh sends no body')
  assert.ok(doc.paths['/metrics']!.get!.responses['200']!.content!['text/plain'], '/metrics is text/plain')
  assert.ok(doc.paths[`${auth}/token`]!.post!.responses['429']!.headers!['Retry-After'], '429 documents Retry-After')
})

test('every response of a walk-through, errors included, matches the document', async (t) => {
  const { base } = await listeningApp(t, {
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    RATE_LIMITS: 'on',
    RATE_LIMIT_SIGNIN_PER_IP: '1000/60',
    RATE_LIMIT_SIGNIN_PER_ACCOUNT: '3/900'
  })
  const doc = await documentOf(base)
  // The document itself is validated above by @scalar/openapi-parser (OpenAPI 3.1);
  // openapi-backend's own check knows only 3.0's rules, so it is skipped (`quick`).
  const api = new OpenAPIBackend({
    definition: structuredClone(doc) as never,
    quick: true,
    customizeAjv: (ajv) => { addFormats.default(ajv as never); return ajv }
  })
  await api.init()

  const seen = new Set<string>()
  /** One request as a client sends it; the response is checked against the document. */
  async function call (method: string, path: string, options: { json?: unknown, form?: Record<string, string>, raw?: string, contentType?: string, headers?: Record<string, string>, requestIsValid?: boolean } = {}) {
    const headers: Record<string, string> = { ...options.headers }
    let body: string | undefined
    if (options.json !== undefined) { headers['content-type'] = 'application/json'; body = JSON.stringify(options.json) }
    if (options.form) { headers['content-type'] = 'application/x-www-form-urlencoded'; body = new URLSearchParams(options.form).toString() }
    if (options.raw !== undefined) { headers['content-type'] = options.contentType ?? 'application/json'; body = options.raw }
    const [pathname, search] = path.split('?')
    const request = { method, path: pathname!, headers, query: search ?? '', body: options.json ?? options.form }
    const operation = api.matchOperation(request)
    assert.ok(operation, `${method} ${pathname} is documented`)
    if (options.requestIsValid !== false) {
      const checked = api.validateRequest(request, operation)
      assert.ok(checked.valid, `${method} ${path}: the document refuses a request the service accepts: ${JSON.stringify(checked.errors)}`)
    }
    const response = await fetch(`${base}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) })
    const status = String(response.status)
    const where = `${method} ${pathname} → ${status}`
    seen.add(where)
    const documented = (operation as { responses?: Record<string, unknown> }).responses?.[status] as { content?: Record<string, unknown>, headers?: Record<string, unknown> } | undefined
    assert.ok(documented, `${where} is not documented`)
    const text = await response.text()
    const type = response.headers.get('content-type')?.split(';')[0]?.trim()
    if (text === '') {
      assert.ok(!documented.content, `${where} sent no body, the document promises one`)
    } else {
      assert.ok(type && documented.content?.[type], `${where}: content type ${type} is not documented`)
      if (type === 'application/json') {
        const json = JSON.parse(text) as unknown
        const result = api.validateResponse(json, operation, response.status)
        assert.ok(result.valid, `${where}: ${JSON.stringify(result.errors)} in ${text}`)
      }
    }
    const responseHeaders = Object.fromEntries(response.headers.entries())
    const headerCheck = api.validateResponseHeaders(responseHeaders, operation, { statusCode: response.status, setMatchType: 'superset' as never })
    assert.ok(headerCheck.valid, `${where} headers: ${JSON.stringify(headerCheck.errors)}`)
    return { status: response.status, text, json: () => JSON.parse(text) as Record<string, any>, headers: response.headers }
  }

  const A = '/api/v1/auth'
  const email = uniqueEmail()
  const username = uniqueUsername()
  // The README's walk-through.
  assert.equal((await call('POST', `${A}/signup`, { json: { email, username, password: PASSWORD } })).status, 201)
  const signin = await call('POST', `${A}/signin`, { json: { email, password: PASSWORD } })
  const { access_token: access, refresh_token: refresh } = signin.json()
  const bearer = { authorization: `Bearer ${access as string}` }
  assert.equal((await call('GET', `${A}/me`, { headers: bearer })).status, 200)
  const rotated = await call('POST', `${A}/refresh`, { json: { refresh_token: refresh } })
  assert.equal(rotated.status, 200)
  assert.equal((await call('POST', `${A}/refresh`, { headers: { cookie: `refresh_token=${rotated.json().refresh_token as string}` } })).status, 204)
  assert.equal((await call('GET', `${A}/sessions`, { headers: bearer })).status, 200)
  assert.equal((await call('PATCH', `${A}/me`, { headers: bearer, json: { name: 'Alice' } })).status, 200)
  assert.equal((await call('POST', `${A}/login`, { form: { username: email, password: PASSWORD } })).status, 204)
  const token = await call('POST', `${A}/token`, { form: { grant_type: 'password', username: email, password: PASSWORD, client_id: 'walk-through' } })
  assert.equal(token.status, 200)
  assert.equal((await call('POST', `${A}/token`, { form: { grant_type: 'refresh_token', refresh_token: token.json().refresh_token } })).status, 200)
  assert.equal((await call('POST', `${A}/forgot-password`, { json: { email } })).status, 200)
  assert.equal((await call('GET', '/.well-known/jwks.json')).status, 200)
  assert.equal((await call('GET', '/.well-known/oauth-authorization-server')).status, 200)
  assert.equal((await call('GET', '/healthz')).status, 200)
  assert.equal((await call('GET', '/readyz')).status, 200)
  assert.equal((await call('GET', '/metrics')).status, 200)

  // Administration, with its defaulted query parameters left out.
  const admin = await call('POST', `${A}/signin`, { json: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD } })
  const adminBearer = { authorization: `Bearer ${admin.json().access_token as string}` }
  assert.equal((await call('GET', '/api/v1/users', { headers: adminBearer })).status, 200)
  assert.equal((await call('GET', '/api/v1/users?limit=5&sort=email&order=desc', { headers: adminBearer })).status, 200)
  assert.equal((await call('GET', '/api/v1/audit-events', { headers: adminBearer })).status, 200)
  assert.equal((await call('GET', '/api/v1/roles', { headers: adminBearer })).status, 200)
  assert.equal((await call('GET', '/api/v1/users/00000000-0000-7000-8000-000000000000', { headers: adminBearer })).status, 404)
  assert.equal((await call('GET', '/api/v1/users', { headers: bearer })).status, 403)

  // Two-step verification: set-up, the 403 mfa_required (its mfa_token kept), the second step.
  const mfaEmail = uniqueEmail()
  assert.equal((await call('POST', `${A}/signup`, { json: { email: mfaEmail, username: uniqueUsername(), password: PASSWORD } })).status, 201)
  const mfaBearer = { authorization: `Bearer ${(await call('POST', `${A}/signin`, { json: { email: mfaEmail, password: PASSWORD } })).json().access_token as string}` }
  const setup = await call('POST', `${A}/mfa/totp/setup`, { headers: mfaBearer, json: { password: PASSWORD } })
  assert.equal(setup.status, 200)
  const confirmed = await call('POST', `${A}/mfa/totp/confirm`, { headers: mfaBearer, json: { code: totpCode(setup.json().secret, new Date()) } })
  assert.equal(confirmed.status, 200)
  const secondStep = await call('POST', `${A}/signin`, { json: { email: mfaEmail, password: PASSWORD } })
  assert.equal(secondStep.status, 403)
  assert.equal(secondStep.json().code, 'mfa_required')
  assert.match(secondStep.json().mfa_token, /\S{20,}/)
  const viaToken = await call('POST', `${A}/token`, { form: { grant_type: 'password', username: mfaEmail, password: PASSWORD } })
  assert.equal(viaToken.status, 403)
  assert.match(viaToken.json().mfa_token, /\S{20,}/)
  assert.equal((await call('POST', `${A}/mfa/verify`, { json: { mfa_token: secondStep.json().mfa_token, code: '000000x' } })).status, 401) // invalid_code
  const verified = await call('POST', `${A}/mfa/verify`, { json: { mfa_token: secondStep.json().mfa_token, code: confirmed.json().recovery_codes[0] } })
  assert.equal(verified.status, 200)
  assert.equal((await call('GET', `${A}/me`, { headers: { authorization: `Bearer ${verified.json().access_token as string}` } })).status, 200)

  // The errors the service really sends.
  assert.equal((await call('POST', `${A}/signin`, { raw: '{"email": ', requestIsValid: false })).status, 400) // invalid_json
  assert.equal((await call('POST', `${A}/signin`, { raw: JSON.stringify({ email, password: 'x'.repeat(70_000) }), requestIsValid: false })).status, 413)
  assert.equal((await call('POST', `${A}/signup`, { raw: `email=${email}`, contentType: 'application/x-www-form-urlencoded', requestIsValid: false })).status, 415)
  assert.equal((await call('POST', `${A}/signup`, { raw: 'hello', contentType: 'text/plain', requestIsValid: false })).status, 415)
  assert.equal((await call('POST', `${A}/signup`, { json: { email: 'not-an-email', username, password: PASSWORD }, requestIsValid: false })).status, 422)
  assert.equal((await call('POST', `${A}/signup`, { json: { email, username: uniqueUsername(), password: PASSWORD } })).status, 409)
  assert.equal((await call('POST', `${A}/signin`, { json: { email, password: PASSWORD }, headers: { origin: 'https://evil.example.net' } })).status, 403) // csrf_failed
  assert.equal((await call('GET', `${A}/me`)).status, 401)
  assert.equal((await call('GET', `${A}/me`, { headers: { authorization: 'Bearer nonsense' } })).status, 401)
  assert.equal((await call('POST', `${A}/token`, { form: { grant_type: 'password', username: email, password: 'wrong password 1' } })).status, 400) // invalid_grant
  assert.equal((await call('POST', `${A}/token`, { form: { grant_type: 'client_credentials' } })).status, 400)
  assert.equal((await call('POST', `${A}/token`, { form: { grant_type: 'password', username: email, password: PASSWORD, client_secret: 'x' } })).status, 401)
  for (let i = 0; i < 3; i++) await call('POST', `${A}/signin`, { json: { email, password: 'wrong password 2' } })
  const limited = await call('POST', `${A}/token`, { form: { grant_type: 'password', username: email, password: 'wrong password 3' } })
  assert.equal(limited.status, 429)
  assert.ok(Number(limited.headers.get('retry-after')) > 0)
  assert.equal((await call('POST', `${A}/signin`, { json: { email, password: PASSWORD } })).status, 429)
  assert.equal((await call('POST', `${A}/logout`, { headers: bearer })).status, 204)
  assert.equal((await call('GET', `${A}/me`, { headers: bearer })).status, 401)
  assert.ok(seen.size >= 30, `${seen.size} distinct responses checked`)
})

test('with the default PUBLIC_URL, "Try it out" from /docs at the listen address (or localhost) passes the CSRF check', async (t) => {
  const { app, base } = await listeningApp(t)
  const doc = await documentOf(base)
  assert.deepEqual(doc.servers, [{ url: base }], 'the document points at the address the service listens on')
  const docsPage = await fetch(`${base}/docs/`)
  assert.equal(docsPage.status, 200)
  const { email } = await signUp(app)
  const port = new URL(base).port
  for (const origin of [base, `http://localhost:${port}`]) {
    // What Swagger UI's fetch sends from that page: same-origin, with its Origin.
    const response = await fetch(`${base}/api/v1/auth/signin`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin, 'sec-fetch-site': 'same-origin' },
      body: JSON.stringify({ email, password: PASSWORD })
    })
    assert.equal(response.status, 200, origin)
  }
  const foreign = await fetch(`${base}/api/v1/auth/signin`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: 'http://127.0.0.1:1' },
    body: JSON.stringify({ email, password: PASSWORD })
  })
  assert.equal(foreign.status, 403)
})
