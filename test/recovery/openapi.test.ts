import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildTestApp } from '../helpers/build-test-app.js'

test('the recovery endpoints are in the OpenAPI document', async (t) => {
  const app = await buildTestApp(t)
  const response = await app.inject({ method: 'GET', url: '/openapi.json' })
  assert.equal(response.statusCode, 200)
  const paths = response.json().paths as Record<string, Record<string, { operationId?: string, responses: Record<string, unknown> }>>
  const expected = {
    '/api/v1/auth/forgot-password': ['forgotPassword', '200'],
    '/api/v1/auth/reset-password': ['resetPassword', '200'],
    '/api/v1/auth/verify-email': ['verifyEmail', '200'],
    '/api/v1/auth/resend-verification': ['resendVerification', '202']
  }
  for (const [path, [operationId, status]] of Object.entries(expected)) {
    assert.equal(paths[path]?.post?.operationId, operationId, path)
    assert.ok(paths[path]!.post!.responses[status!], `${path} documents ${status}`)
  }
  assert.ok(paths['/api/v1/auth/signup']!.post!.responses['202'], 'the enumeration-safe answer is documented')
})
