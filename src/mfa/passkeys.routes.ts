import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server'
import { Type } from '@sinclair/typebox'
import { clientOf, noStore, tokenResponse } from '../auth/auth.routes.js'
import { TokenResponse } from '../auth/auth.schemas.js'
import { setAuthCookies } from '../auth/cookies.js'
import type { Config } from '../config/index.js'
import { type Authenticate, authOf } from '../sessions/authenticate.js'
import { AUTHENTICATED, described, errorResponses, noContent } from '../http/schemas.js'
import {
  CreationOptionsJson, Passkey, PasskeyParams, PasskeySigninBody, RegisterPasskeyBody, RenamePasskeyBody, RequestOptionsJson
} from './passkeys.schemas.js'
import type { PasskeysService } from './passkeys.service.js'

export interface PasskeysRoutesOptions {
  config: Config
  passkeys: PasskeysService
  authenticate: Authenticate
}

const tags = ['passkeys']
const security = AUTHENTICATED

/** Passkeys (WebAuthn), under /api/v1/auth. */
export const passkeysRoutes: FastifyPluginAsyncTypebox<PasskeysRoutesOptions> = async (app, { config, passkeys, authenticate }) => {
  app.post('/passkeys/register/options', {
    onRequest: authenticate,
    schema: {
      tags,
      summary: 'Options for creating a passkey (navigator.credentials.create)',
      operationId: 'passkeyRegistrationOptions',
      security,
      response: { 200: described(CreationOptionsJson, 'Options for navigator.credentials.create (a challenge for this user)'), ...errorResponses([401, 'reauthentication_required']) }
    }
  }, async (request, reply) => {
    noStore(reply)
    const auth = authOf(request)
    return passkeys.registrationOptions(auth.user, auth.sessionId)
  })

  app.post('/passkeys/register', {
    onRequest: authenticate,
    schema: {
      tags,
      summary: 'Register the passkey the authenticator created',
      operationId: 'registerPasskey',
      security,
      body: RegisterPasskeyBody,
      response: { 201: described(Passkey, 'The registered passkey'), ...errorResponses([400, 'invalid_passkey'], [401, 'reauthentication_required']) }
    }
  }, async (request, reply) => {
    const auth = authOf(request)
    const passkey = await passkeys.register(auth.user.id, auth.sessionId, request.body.response as unknown as RegistrationResponseJSON, request.body.name, clientOf(request))
    return reply.code(201).send(passkey)
  })

  app.get('/passkeys', {
    onRequest: authenticate,
    schema: { tags, summary: 'This user\'s passkeys', operationId: 'listPasskeys', security, response: { 200: Type.Array(Passkey, { description: 'Every passkey of this user' }) } }
  }, async (request) => passkeys.list(authOf(request).user.id))

  app.patch('/passkeys/:id', {
    onRequest: authenticate,
    schema: {
      tags,
      summary: 'Rename a passkey',
      operationId: 'renamePasskey',
      security,
      params: PasskeyParams,
      body: RenamePasskeyBody,
      response: { 200: described(Passkey, 'The renamed passkey'), ...errorResponses('not_found') }
    }
  }, async (request) => passkeys.rename(authOf(request).user.id, request.params.id, request.body.name, clientOf(request)))

  app.delete('/passkeys/:id', {
    onRequest: authenticate,
    schema: {
      tags,
      summary: 'Delete a passkey',
      operationId: 'deletePasskey',
      security,
      params: PasskeyParams,
      response: { 204: noContent('The passkey is deleted'), ...errorResponses('not_found') }
    }
  }, async (request, reply) => {
    await passkeys.remove(authOf(request).user.id, request.params.id, clientOf(request))
    return reply.code(204).send(null)
  })

  app.post('/passkeys/signin/options', {
    // A body is optional: `{}` or nothing.
    config: { optionalBody: true },
    schema: {
      tags,
      summary: 'Options for a discoverable passkey sign-in (no allowCredentials: reveals no account)',
      operationId: 'passkeySigninOptions',
      body: Type.Object({}),
      response: { 200: described(RequestOptionsJson, 'Options for navigator.credentials.get (a challenge, no allowCredentials)'), ...errorResponses('rate_limited') }
    }
  }, async (request, reply) => {
    noStore(reply)
    return passkeys.signinOptions(clientOf(request))
  })

  app.post('/passkeys/signin', {
    schema: {
      tags,
      summary: 'Sign in with a passkey (satisfies two-step verification); sets cookies',
      operationId: 'passkeySignin',
      body: PasskeySigninBody,
      response: { 200: described(TokenResponse, 'Signed in; the auth cookies are set'), ...errorResponses('invalid_passkey', 'inactive_user', 'rate_limited') }
    }
  }, async (request, reply) => {
    const tokens = await passkeys.signin(request.body.response as unknown as AuthenticationResponseJSON, clientOf(request))
    setAuthCookies(reply, config, tokens)
    noStore(reply)
    return tokenResponse(tokens)
  })
}
