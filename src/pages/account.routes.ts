import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { clearAuthCookies } from '../auth/cookies.js'
import { type RequestAuth } from '../http/authenticate.js'
import { FORM_CSRF_FIELD } from '../http/csrf.js'
import { AppError } from '../http/errors.js'
import { Password, Username } from '../users/users.schemas.js'
import { formErrorOf } from './form-errors.js'
import { clientOf, csrfTokenFor, validationErrorOf } from './page-kit.js'
import type { PagesOptions } from './pages.routes.js'
import type { FormState } from './render.js'
import { describeDevice } from './user-agent.js'

export interface AccountPagesOptions extends PagesOptions {
  formGuard: (request: FastifyRequest) => Promise<void>
  notices: Record<string, string>
  defaultReturnTo: string
}

const CsrfOnly = Type.Object({ [FORM_CSRF_FIELD]: Type.String({ maxLength: 256 }) })
// The name field may be left empty (no name); the API's own length limit applies.
const ProfileForm = Type.Object({ name: Type.String({ maxLength: 100 }), username: Username, [FORM_CSRF_FIELD]: Type.String({ maxLength: 256 }) })
const PasswordForm = Type.Object({ old_password: Password, new_password: Password, [FORM_CSRF_FIELD]: Type.String({ maxLength: 256 }) })
const SessionParams = Type.Object({ id: Type.String({ maxLength: 64 }) })
const NoticeQuery = Type.Object({ notice: Type.Optional(Type.String({ maxLength: 64 })) })

const ACCOUNT_NOTICES: Record<string, string> = {
  profile_saved: 'Your profile was saved.',
  session_revoked: 'The session was signed out.',
  verification_sent: 'If your email is not verified yet, a new verification link has been sent.'
}

/** Which of the account page's forms a message belongs to, so it is shown there. */
type Section = 'profile' | 'password' | 'sessions' | 'verification'

const formatTime = (iso: string): string => `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`

export const accountPages: FastifyPluginAsyncTypebox<AccountPagesOptions> = async (app, options) => {
  const { config, auth, recovery, authenticate, render, formGuard, notices } = options
  const page = { page: true }

  /** The signed-in user of this browser (the API's guard, cookie or bearer), or undefined. */
  async function signedIn (request: FastifyRequest, reply: FastifyReply): Promise<RequestAuth | undefined> {
    try {
      await authenticate(request, reply)
      return request.auth ?? undefined
    } catch (error) {
      if (error instanceof AppError && (error.statusCode === 401 || error.statusCode === 403)) return undefined
      throw error
    }
  }

  const toSignin = (reply: FastifyReply) => reply.redirect('/signin?return_to=%2Faccount&notice=session_expired', 303)

  async function renderAccount (request: FastifyRequest, reply: FastifyReply, who: RequestAuth, forms: Partial<Record<Section, FormState>> = {}, status = 200, notice?: string) {
    const sessions = (await auth.listSessions(who.user.id, who.sessionId)).map((session) => ({
      ...session,
      device: describeDevice(session.user_agent),
      lastUsed: formatTime(session.last_used_at),
      created: formatTime(session.created_at),
      method: 'Password'
    }))
    return render(reply, 'account', {
      title: 'Your account',
      csrfToken: csrfTokenFor(request, reply, config),
      signedIn: true,
      user: who.user,
      sessions,
      forms,
      ...(notice ? { notice } : {})
    }, status)
  }

  app.get('/account', { config: page, schema: { hide: true, querystring: NoticeQuery } }, async (request, reply) => {
    const who = await signedIn(request, reply)
    if (!who) return toSignin(reply)
    const key = request.query.notice
    return renderAccount(request, reply, who, {}, 200, key ? ACCOUNT_NOTICES[key] ?? notices[key] : undefined)
  })

  app.post('/account/profile', { config: page, preValidation: formGuard, attachValidation: true, schema: { hide: true, body: ProfileForm } }, async (request, reply) => {
    const who = await signedIn(request, reply)
    if (!who) return toSignin(reply)
    try {
      const invalid = validationErrorOf(request)
      if (invalid) throw invalid
      await auth.updateProfile(who.user.id, { name: request.body.name.trim() === '' ? null : request.body.name, username: request.body.username })
      return reply.redirect('/account?notice=profile_saved', 303)
    } catch (error) {
      const { status, state } = formErrorOf(error, reply, { username_taken: 'username' })
      const values = { name: String(request.body.name ?? ''), username: String(request.body.username ?? '') }
      return renderAccount(request, reply, who, { profile: { ...state, values } }, status)
    }
  })

  app.post('/account/password', { config: page, preValidation: formGuard, attachValidation: true, schema: { hide: true, body: PasswordForm } }, async (request, reply) => {
    const who = await signedIn(request, reply)
    if (!who) return toSignin(reply)
    try {
      const invalid = validationErrorOf(request)
      if (invalid) throw invalid
      await auth.changePassword(who.user.id, request.body.old_password, request.body.new_password, clientOf(request))
      // The service ended every session, this one included.
      clearAuthCookies(reply, config)
      return reply.redirect('/signin?notice=password_changed&return_to=%2Faccount', 303)
    } catch (error) {
      const { status, state } = formErrorOf(error, reply, { incorrect_password: 'old_password' })
      return renderAccount(request, reply, who, { password: state }, status)
    }
  })

  app.post('/account/sessions/:id/revoke', { config: page, preValidation: formGuard, schema: { hide: true, params: SessionParams, body: CsrfOnly } }, async (request, reply) => {
    const who = await signedIn(request, reply)
    if (!who) return toSignin(reply)
    if (request.params.id === who.sessionId) {
      await auth.logout(who.sessionId, { userId: who.user.id, client: clientOf(request) })
      clearAuthCookies(reply, config)
      return reply.redirect('/signin?notice=signed_out', 303)
    }
    try {
      await auth.deleteSession(who.user.id, request.params.id, clientOf(request))
      return reply.redirect('/account?notice=session_revoked', 303)
    } catch (error) {
      const { status, state } = formErrorOf(error, reply)
      return renderAccount(request, reply, who, { sessions: state }, status)
    }
  })

  app.post('/account/verification', { config: page, preValidation: formGuard, schema: { hide: true, body: CsrfOnly } }, async (request, reply) => {
    const who = await signedIn(request, reply)
    if (!who) return toSignin(reply)
    await recovery.resendVerification(who.user.id)
    return reply.redirect('/account?notice=verification_sent', 303)
  })

  app.post('/account/signout', { config: page, preValidation: formGuard, schema: { hide: true, body: CsrfOnly } }, async (request, reply) => {
    const who = await signedIn(request, reply)
    if (who) await auth.logout(who.sessionId, { userId: who.user.id, client: clientOf(request) })
    clearAuthCookies(reply, config)
    return reply.redirect('/signin?notice=signed_out', 303)
  })

  app.post('/account/signout-all', { config: page, preValidation: formGuard, schema: { hide: true, body: CsrfOnly } }, async (request, reply) => {
    const who = await signedIn(request, reply)
    if (!who) return toSignin(reply)
    await auth.logoutAll(who.user.id, clientOf(request))
    clearAuthCookies(reply, config)
    return reply.redirect('/signin?notice=signed_out_everywhere', 303)
  })
}
