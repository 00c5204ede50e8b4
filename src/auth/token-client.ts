import type { FastifyRequest } from 'fastify'
import { CLIENT_ID_PATTERN } from '../config/index.js'
import { OAuthError } from '../http/errors.js'

/**
 * The client a token-endpoint request names. authd serves public clients only
 * (`token_endpoint_auth_methods_supported: ["none"]` in its metadata): a client identifies
 * itself with `client_id` in the form, or with HTTP Basic and an empty password, as libraries
 * that always send Basic do (RFC 6749 §2.3.1). A client secret is refused rather than ignored:
 * accepting one would tell its client that it was authenticated when nothing was checked.
 * Returns undefined when no client is named (the default client id then applies).
 */
export function tokenClientOf (request: FastifyRequest, form: Record<string, unknown>): string | undefined {
  const fromForm = typeof form.client_id === 'string' && form.client_id !== '' ? form.client_id : undefined
  let fromBasic: string | undefined
  const authorization = request.headers.authorization
  if (authorization !== undefined && /^basic\s/i.test(authorization)) {
    // RFC 6749 §2.3.1: both parts are form-urlencoded before the Basic encoding.
    const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    const [id, secret] = colon < 0 ? [decoded, ''] : [decoded.slice(0, colon), decoded.slice(colon + 1)]
    if (secret !== '') throw new OAuthError('invalid_client', 'Client authentication is not supported: public clients send client_id only', 401, { 'www-authenticate': 'Basic' })
    fromBasic = safeDecode(id)
  }
  if (typeof form.client_secret === 'string' && form.client_secret !== '') {
    throw new OAuthError('invalid_client', 'Client authentication is not supported: public clients send client_id only', 401)
  }
  if (fromForm !== undefined && fromBasic !== undefined && fromForm !== fromBasic) {
    throw new OAuthError('invalid_request', 'client_id differs between the form and the Authorization header')
  }
  const clientId = fromForm ?? (fromBasic === '' ? undefined : fromBasic)
  if (clientId !== undefined && !CLIENT_ID_PATTERN.test(clientId)) {
    throw new OAuthError('invalid_request', 'client_id must be 1-64 characters of A-Z a-z 0-9 . _ ~ : -')
  }
  return clientId
}

function safeDecode (value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '))
  } catch {
    throw new OAuthError('invalid_request', 'Malformed Authorization header')
  }
}
