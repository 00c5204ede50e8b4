import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { clientOf, noStore, tokenResponse } from '../auth/auth.routes.js'
import { TokenResponse } from '../auth/auth.schemas.js'
import { setAuthCookies } from '../auth/cookies.js'
import type { Config } from '../config/index.js'
import { type Authenticate, authOf } from '../sessions/authenticate.js'
import { requireSuperuser } from '../sessions/authorize.js'
import { AUTHENTICATED, described, errorResponses, noContent } from '../http/schemas.js'
import { UserParams } from '../users/users.schemas.js'
import type { MfaAdminService } from './mfa-admin.service.js'
import { ConfirmTotpBody, DisableTotpBody, PasswordBody, RecoveryCodesResponse, TotpSetupResponse, VerifyBody } from './mfa.schemas.js'
import type { MfaService } from './mfa.service.js'

export interface MfaRoutesOptions {
  config: Config
  mfa: MfaService
  authenticate: Authenticate
}

const tags = ['mfa']
const security = AUTHENTICATED

/** Two-step verification, under /api/v1/auth. */
export const mfaRoutes: FastifyPluginAsyncTypebox<MfaRoutesOptions> = async (app, { config, mfa, authenticate }) => {
  app.post('/mfa/totp/setup', {
    onRequest: authenticate,
    schema: {
      tags,
      summary: 'Start the TOTP set-up (pending until confirmed with a code)',
      operationId: 'setUpTotp',
      security,
      body: PasswordBody,
      response: { 200: described(TotpSetupResponse, 'The pending TOTP secret and its otpauth URI (for a QR code)'), ...errorResponses('incorrect_password', 'mfa_already_enabled', 'rate_limited') }
    }
  }, async (request, reply) => {
    const setup = await mfa.beginTotpSetup(authOf(request).user.id, request.body.password)
    noStore(reply)
    return { secret: setup.secret, otpauth_uri: setup.otpauthUri }
  })

  app.post('/mfa/totp/confirm', {
    onRequest: authenticate,
    schema: {
      tags,
      summary: 'Confirm the TOTP set-up with a first code; returns 10 recovery codes',
      operationId: 'confirmTotp',
      security,
      body: ConfirmTotpBody,
      response: { 200: described(RecoveryCodesResponse, 'Two-step verification is on; the recovery codes are shown this once'), ...errorResponses('invalid_code', 'rate_limited') }
    }
  }, async (request, reply) => {
    const { recoveryCodes } = await mfa.confirmTotp(authOf(request).user.id, authOf(request).sessionId, request.body.code, clientOf(request))
    noStore(reply)
    return { recovery_codes: recoveryCodes }
  })

  app.post('/mfa/recovery-codes', {
    onRequest: authenticate,
    schema: {
      tags,
      summary: 'Replace the recovery codes (the old set stops working)',
      operationId: 'regenerateRecoveryCodes',
      security,
      body: PasswordBody,
      response: { 200: described(RecoveryCodesResponse, 'The new recovery codes, shown this once'), ...errorResponses('incorrect_password', 'mfa_not_enabled', 'rate_limited') }
    }
  }, async (request, reply) => {
    const { recoveryCodes } = await mfa.regenerateRecoveryCodes(authOf(request).user.id, authOf(request).sessionId, request.body.password, clientOf(request))
    noStore(reply)
    return { recovery_codes: recoveryCodes }
  })

  app.post('/mfa/totp/disable', {
    onRequest: authenticate,
    schema: {
      tags,
      summary: 'Turn two-step verification off (password and a TOTP or recovery code)',
      operationId: 'disableTotp',
      security,
      body: DisableTotpBody,
      response: { 204: noContent('Two-step verification is off'), ...errorResponses('incorrect_password', 'invalid_code', 'mfa_not_enabled', 'rate_limited') }
    }
  }, async (request, reply) => {
    await mfa.disableTotp(authOf(request).user.id, request.body.password, request.body.code, clientOf(request))
    return reply.code(204).send(null)
  })

  app.post('/mfa/verify', {
    schema: {
      tags,
      summary: 'Second step of a sign-in: the mfa_token and a TOTP or recovery code',
      operationId: 'verifyMfa',
      body: VerifyBody,
      response: { 200: described(TokenResponse, 'Signed in; the auth cookies are set'), ...errorResponses([400, 'invalid_token'], [401, 'invalid_code'], 'inactive_user', 'rate_limited') }
    }
  }, async (request, reply) => {
    const tokens = await mfa.verifySignin(request.body.mfa_token, request.body.code, clientOf(request))
    setAuthCookies(reply, config, tokens)
    noStore(reply)
    return tokenResponse(tokens)
  })
}

/** DELETE /api/v1/users/{id}/mfa, beside the admin API (superusers only). */
export const mfaAdminRoutes: FastifyPluginAsyncTypebox<{ admin: MfaAdminService, authenticate: Authenticate }> = async (app, { admin, authenticate }) => {
  app.addHook('onRequest', authenticate)
  app.addHook('onRequest', requireSuperuser)
  app.delete('/:id/mfa', {
    schema: {
      tags: ['admin'],
      summary: 'Turn a user\'s two-step verification off (lost device); ends their sessions and tells them by mail',
      operationId: 'resetUserMfa',
      security,
      params: UserParams,
      response: { 204: noContent('Two-step verification is off for the user; their sessions are ended'), ...errorResponses('forbidden', 'user_not_found') }
    }
  }, async (request, reply) => {
    const auth = authOf(request)
    await admin.resetMfa(request.params.id, { userId: auth.user.id, ip: request.ip ?? null, userAgent: request.headers['user-agent'] ?? null })
    return reply.code(204).send(null)
  })
}
