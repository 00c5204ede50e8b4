import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildTestApp } from '../helpers/build-test-app.js'

/** Every new endpoint, with its success and each error status of the contract (plus 422/429 where they apply). */
const EXPECTED: Array<[method: string, path: string, operationId: string, statuses: string[]]> = [
  ['post', '/api/v1/auth/mfa/totp/setup', 'setUpTotp', ['200', '400', '401', '409', '422']],
  ['post', '/api/v1/auth/mfa/totp/confirm', 'confirmTotp', ['200', '400', '401', '422']],
  ['post', '/api/v1/auth/mfa/recovery-codes', 'regenerateRecoveryCodes', ['200', '400', '401', '409', '422']],
  ['post', '/api/v1/auth/mfa/totp/disable', 'disableTotp', ['204', '400', '401', '409', '422']],
  ['post', '/api/v1/auth/mfa/verify', 'verifyMfa', ['200', '400', '401', '403', '422', '429']],
  ['delete', '/api/v1/users/{id}/mfa', 'resetUserMfa', ['204', '401', '403', '404']],
  ['post', '/api/v1/auth/passkeys/register/options', 'passkeyRegistrationOptions', ['200', '401']],
  ['post', '/api/v1/auth/passkeys/register', 'registerPasskey', ['201', '400', '401', '422']],
  ['get', '/api/v1/auth/passkeys', 'listPasskeys', ['200', '401']],
  ['patch', '/api/v1/auth/passkeys/{id}', 'renamePasskey', ['200', '401', '404', '422']],
  ['delete', '/api/v1/auth/passkeys/{id}', 'deletePasskey', ['204', '401', '404']],
  ['post', '/api/v1/auth/passkeys/signin/options', 'passkeySigninOptions', ['200', '429']],
  ['post', '/api/v1/auth/passkeys/signin', 'passkeySignin', ['200', '401', '403', '422', '429']],
  ['post', '/api/v1/auth/signin', 'signIn', ['200', '401', '403', '429']],
  ['post', '/api/v1/auth/token', 'token', ['200', '400', '403']]
]

test('the two-step and passkey endpoints are in the OpenAPI document with request and response schemas, each error status included', async (t) => {
  const app = await buildTestApp(t)
  const document = (await app.inject({ method: 'GET', url: '/openapi.json' })).json()
  const paths = document.paths as Record<string, Record<string, { operationId?: string, requestBody?: unknown, responses: Record<string, { content?: Record<string, { schema?: unknown }> }> }>>
  for (const [method, path, operationId, statuses] of EXPECTED) {
    const operation = paths[path]?.[method]
    assert.equal(operation?.operationId, operationId, `${method} ${path}`)
    for (const status of statuses) {
      const response = operation!.responses[status]
      assert.ok(response, `${method} ${path} documents ${status}`)
      if (status !== '204') assert.ok(response.content?.['application/json']?.schema, `${method} ${path} ${status} has a schema`)
    }
  }
  for (const path of ['/api/v1/auth/mfa/verify', '/api/v1/auth/mfa/totp/setup', '/api/v1/auth/passkeys/register', '/api/v1/auth/passkeys/signin']) {
    assert.ok(paths[path]!.post!.requestBody, `${path} has a request body schema`)
  }
  // The mfa_required answers name their mfa_token.
  const signin403 = JSON.stringify(paths['/api/v1/auth/signin']!.post!.responses['403'])
  assert.match(signin403, /mfa_token/)
  assert.match(JSON.stringify(paths['/api/v1/auth/token']!.post!.responses['403']), /mfa_token/)
  // Shared shapes are named components: follow the $ref to the one that says it.
  const components = document.components.schemas as Record<string, unknown>
  const resolved = (response: unknown): string => JSON.stringify(response).replace(/\{"\$ref":"#\/components\/schemas\/(\w+)"\}/g, (_ref, name: string) => JSON.stringify(components[name]))
  assert.match(resolved(paths['/api/v1/auth/sessions']!.get!.responses['200']), /amr/)
  assert.match(resolved(paths['/api/v1/auth/me']!.get!.responses['200']), /mfa_enabled/)
})
