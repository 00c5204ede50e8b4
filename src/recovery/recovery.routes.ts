import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import type { ClientInfo } from '../lib/client-info.js'
import { type Authenticate, authOf } from '../sessions/authenticate.js'
import { type AuthRateLimits, limitForgotPassword } from '../rate-limits/rate-limit.js'
import { described, errorResponses, MessageResponse } from '../http/schemas.js'
import { normalizeEmail } from '../lib/email.js'
import { User } from '../users/users.schemas.js'
import type { RecoveryService } from './recovery.service.js'
import { ForgotPasswordBody, ResetPasswordBody, VerifyEmailBody } from './recovery.schemas.js'

export interface RecoveryRoutesOptions {
  recovery: RecoveryService
  authenticate: Authenticate
  rateLimits: AuthRateLimits
}

const tags = ['auth']

function clientOf (request: FastifyRequest): ClientInfo {
  return { ip: request.ip ?? null, userAgent: request.headers['user-agent'] ?? null }
}

export const FORGOT_PASSWORD_MESSAGE = 'If an account with that email exists, a password reset link has been sent'
export const RESEND_VERIFICATION_MESSAGE = 'If your email is not verified yet, a new verification link has been sent'

export const recoveryRoutes: FastifyPluginAsyncTypebox<RecoveryRoutesOptions> = async (app, { recovery, authenticate, rateLimits }) => {
  app.post('/forgot-password', {
    schema: {
      tags,
      summary: 'Email a password reset link (same answer whether or not the account exists)',
      operationId: 'forgotPassword',
      body: ForgotPasswordBody,
      response: { 200: described(MessageResponse, 'The same answer whether or not the account exists'), ...errorResponses('rate_limited') }
    }
  }, async (request) => {
    // Unknown emails are counted exactly like known ones: the 429 reveals nothing either.
    await limitForgotPassword(rateLimits, request.ip, normalizeEmail(request.body.email))
    await recovery.forgotPassword(request.body.email)
    return { message: FORGOT_PASSWORD_MESSAGE }
  })

  app.post('/reset-password', {
    schema: {
      tags,
      summary: 'Set a new password with a reset token (ends every session)',
      operationId: 'resetPassword',
      body: ResetPasswordBody,
      response: { 200: described(MessageResponse, 'Password reset; every session of the user is revoked'), ...errorResponses([400, 'invalid_token'], 'weak_password', 'rate_limited') }
    }
  }, async (request) => {
    await recovery.resetPassword(request.body.token, request.body.new_password, clientOf(request))
    return { message: 'Password reset successfully' }
  })

  app.post('/verify-email', {
    schema: {
      tags,
      summary: 'Verify the email address with the emailed token',
      operationId: 'verifyEmail',
      body: VerifyEmailBody,
      response: { 200: described(User, 'The user, now verified'), ...errorResponses([400, 'invalid_token'], 'rate_limited') }
    }
  }, async (request) => recovery.verifyEmail(request.body.token, clientOf(request)))

  app.post('/resend-verification', {
    onRequest: authenticate,
    schema: {
      tags,
      summary: 'Email a new verification link',
      operationId: 'resendVerification',
      security: [{ bearer: [] }],
      response: { 202: described(MessageResponse, 'A new verification link is on its way'), ...errorResponses('rate_limited') }
    }
  }, async (request, reply) => {
    await recovery.resendVerification(authOf(request).user.id)
    return reply.code(202).send({ message: RESEND_VERIFICATION_MESSAGE })
  })
}
