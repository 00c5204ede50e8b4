import assert from 'node:assert/strict'
import { test } from 'node:test'
import { decodeJwt } from 'jose'
import * as oauth from 'oauth4webapi'
import * as openid from 'openid-client'
import { ResourceOwnerPassword } from 'simple-oauth2'
import { PASSWORD, signUp } from '../helpers/factories.js'
import { listeningApp } from './listening-app.js'

const TOKEN_PATH = '/api/v1/auth/token'

/** simple-oauth2 rejects with a Boom error (from @hapi/wreck): the status, then the response. */
interface WreckError { output: { statusCode: number }, data: { payload: { error: string, error_description: string }, headers: Record<string, string> } }
function oauthError (status: number, error: string, check?: (e: WreckError) => void) {
  return (thrown: WreckError): boolean => {
    assert.equal(thrown.output.statusCode, status)
    assert.equal(thrown.data.payload.error, error)
    check?.(thrown)
    return true
  }
}

async function meStatus (base: string, accessToken: string): Promise<number> {
  return (await fetch(`${base}/api/v1/auth/me`, { headers: { authorization: `Bearer ${accessToken}` } })).status
}

test('simple-oauth2: password grant, refresh grant, and reuse of a rotated-out refresh token ends the session', async (t) => {
  const { app, base } = await listeningApp(t)
  const user = await signUp(app)
  // simple-oauth2's defaults: HTTP Basic with the client id and an empty secret (a public client).
  const client = new ResourceOwnerPassword({ client: { id: 'inventory-app', secret: '' }, auth: { tokenHost: base, tokenPath: TOKEN_PATH } })

  const first = await client.getToken({ username: user.email, password: PASSWORD })
  assert.equal(first.token.token_type, 'Bearer')
  assert.equal(typeof first.token.expires_in, 'number')
  assert.ok(first.expired() === false)
  const claims = decodeJwt(first.token.access_token as string)
  assert.equal(claims.client_id, 'inventory-app')
  assert.equal(claims.aud, base)
  assert.deepEqual(claims.amr, ['pwd'])
  assert.equal(await meStatus(base, first.token.access_token as string), 200)

  const second = await first.refresh()
  assert.notEqual(second.token.refresh_token, first.token.refresh_token)
  assert.equal(decodeJwt(second.token.access_token as string).client_id, 'inventory-app', 'a refreshed token names the same client')
  assert.equal(await meStatus(base, second.token.access_token as string), 200)

  // The first refresh token was rotated out: presenting it again is reuse.
  await assert.rejects(first.refresh(), oauthError(400, 'invalid_grant'))
  assert.equal(await meStatus(base, second.token.access_token as string), 401, 'the whole session is revoked')
  await assert.rejects(second.refresh(), oauthError(400, 'invalid_grant'), 'the refresh token issued after the reused one is dead too')

  // The body method (client_id and an empty client_secret in the form) works the same way.
  const bodyClient = new ResourceOwnerPassword({ client: { id: 'cli-tool', secret: '' }, auth: { tokenHost: base, tokenPath: TOKEN_PATH }, options: { authorizationMethod: 'body' } })
  const viaBody = await bodyClient.getToken({ username: user.email, password: PASSWORD })
  assert.equal(decodeJwt(viaBody.token.access_token as string).client_id, 'cli-tool')

  // A refresh token works only for its own client (RFC 6749 §6), and is not spent by trying.
  const otherClient = new ResourceOwnerPassword({ client: { id: 'someone-else', secret: '' }, auth: { tokenHost: base, tokenPath: TOKEN_PATH } })
  await assert.rejects(otherClient.createToken(viaBody.token).refresh(), oauthError(400, 'invalid_grant'))
  assert.equal(await meStatus(base, (await viaBody.refresh()).token.access_token as string), 200)

  // authd cannot check a client secret, so it refuses one rather than pretend to authenticate it.
  const withSecret = new ResourceOwnerPassword({ client: { id: 'confidential', secret: 's3cret' }, auth: { tokenHost: base, tokenPath: TOKEN_PATH } })
  await assert.rejects(withSecret.getToken({ username: user.email, password: PASSWORD }), oauthError(401, 'invalid_client', (e) => {
    assert.equal(e.data.headers['www-authenticate'], 'Basic')
  }))
})

test('oauth4webapi: RFC 8414 discovery, a password grant as a public client, validateJwtAccessToken', async (t) => {
  const { app, base } = await listeningApp(t)
  const user = await signUp(app)
  const issuer = new URL(base)
  const insecure = { [oauth.allowInsecureRequests]: true }

  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }))
  assert.equal(as.issuer, base)
  assert.equal(as.token_endpoint, `${base}${TOKEN_PATH}`)
  assert.equal(as.jwks_uri, `${base}/.well-known/jwks.json`)
  assert.deepEqual(as.grant_types_supported, ['password', 'refresh_token'])
  assert.deepEqual(as.token_endpoint_auth_methods_supported, ['none'])

  const client: oauth.Client = { client_id: 'reporting' }
  const response = await oauth.genericTokenEndpointRequest(as, client, oauth.None(), 'password', { username: user.email, password: PASSWORD }, insecure)
  const tokens = await oauth.processGenericTokenEndpointResponse(as, client, response)
  assert.equal(tokens.token_type, 'bearer', 'oauth4webapi lower-cases the token type')

  // A resource server checking our token as RFC 9068 says: typ, iss, aud, client_id, signature.
  const request = new Request(`${base}/api/v1/auth/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } })
  const claims = await oauth.validateJwtAccessToken(as, request, base, insecure)
  assert.equal(claims.sub, user.userId)
  assert.equal(claims.client_id, 'reporting')
  // Another audience is refused by the same validator.
  await assert.rejects(oauth.validateJwtAccessToken(as, request, 'https://another-api.example.net', insecure), /"aud"/)

  const refreshed = await oauth.processRefreshTokenResponse(as, client, await oauth.refreshTokenGrantRequest(as, client, oauth.None(), tokens.refresh_token!, insecure))
  const refreshedClaims = await oauth.validateJwtAccessToken(as, new Request(base, { headers: { authorization: `Bearer ${refreshed.access_token}` } }), base, insecure)
  assert.equal(refreshedClaims.client_id, 'reporting')
})

test('openid-client in OAuth 2.0 mode: discovery, password grant, refresh grant', async (t) => {
  const { app, base } = await listeningApp(t)
  const user = await signUp(app)
  const config = await openid.discovery(new URL(base), 'desktop-app', undefined, openid.None(), { algorithm: 'oauth2', execute: [openid.allowInsecureRequests] })
  assert.equal(config.serverMetadata().token_endpoint, `${base}${TOKEN_PATH}`)
  const tokens = await openid.genericGrantRequest(config, 'password', { username: user.email, password: PASSWORD })
  assert.equal(decodeJwt(tokens.access_token).client_id, 'desktop-app')
  assert.ok((tokens.expiresIn() ?? 0) > 890)
  const refreshed = await openid.refreshTokenGrant(config, tokens.refresh_token!)
  assert.equal(await meStatus(base, refreshed.access_token), 200)
  // OpenID Connect discovery is not offered (see below), and fails as such.
  await assert.rejects(openid.discovery(new URL(base), 'desktop-app', undefined, openid.None(), { execute: [openid.allowInsecureRequests] }))
})

test('JWT_AUDIENCE sets the aud claim, and OpenID Connect discovery is not served', async (t) => {
  const { app, base } = await listeningApp(t, { JWT_AUDIENCE: 'https://api.example.com' })
  const user = await signUp(app)
  assert.equal(decodeJwt(user.accessToken).aud, 'https://api.example.com')
  assert.equal(decodeJwt(user.accessToken).client_id, 'authd', 'the default client id for the API\'s own sign-in')
  assert.equal(await meStatus(base, user.accessToken), 200)
  // No ID tokens and no userinfo endpoint: claiming OIDC metadata would mislead an OIDC client.
  const oidc = await fetch(`${base}/.well-known/openid-configuration`)
  assert.equal(oidc.status, 404)
  assert.equal(((await oidc.json()) as { code: string }).code, 'not_found')
})
