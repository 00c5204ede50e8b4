import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { clearAuthCookies, REFRESH_COOKIE_PATH, setAuthCookies } from '../auth/cookies.js'
import { REFRESH_COOKIE } from '../sessions/authenticate.js'
import { type RequestAuth } from '../sessions/authenticate.js'
import { FORM_CSRF_FIELD } from '../http/csrf.js'
import { AppError } from '../http/errors.js'
import { Code } from '../mfa/mfa.schemas.js'
import { PasskeyName } from '../mfa/passkeys.schemas.js'
import { RESEND_VERIFICATION_MESSAGE } from '../recovery/recovery.routes.js'
import { DisplayName, Password, Username } from '../users/users.schemas.js'
import { formErrorOf } from './form-errors.js'
import { clientOf, csrfTokenFor, validationErrorOf } from './page-kit.js'
import type { PagesOptions } from './pages-options.js'
import type { FormState, Renderer } from './render.js'
import { describeDevice } from './user-agent.js'
import { groupSecret, qrCodeSvg, RECOVERY_CODE_SHAPE, recoveryCodesFile, signInMethod } from './mfa-pages.js'

export interface AccountPagesOptions extends PagesOptions {
  render: Renderer
  formGuard: (request: FastifyRequest) => Promise<void>
  notices: Record<string, string>
}

// Every field with an API counterpart takes the API's own schema (PATCH /me, /change-password,
// /mfa/…, PATCH /passkeys/{id}), so a form can neither store what the API refuses nor word a
// rule otherwise.
const CsrfOnly = Type.Object({ [FORM_CSRF_FIELD]: Type.String({ maxLength: 256 }) })
// The name field may be left empty (no name): DisplayName takes the empty string.
const ProfileForm = Type.Object({ name: DisplayName, username: Username, [FORM_CSRF_FIELD]: Type.String({ maxLength: 256 }) })
const PasswordForm = Type.Object({ old_password: Password, new_password: Password, [FORM_CSRF_FIELD]: Type.String({ maxLength: 256 }) })
const SessionParams = Type.Object({ id: Type.String({ maxLength: 64 }) })
const ReauthForm = Type.Object({ password: Password, [FORM_CSRF_FIELD]: Type.String({ maxLength: 256 }) })
const ConfirmForm = Type.Object({ code: Code, [FORM_CSRF_FIELD]: Type.String({ maxLength: 256 }) })
const DisableForm = Type.Object({ password: Password, code: Code, [FORM_CSRF_FIELD]: Type.String({ maxLength: 256 }) })
const CodesForm = Type.Object({ codes: Type.Union([Type.String({ maxLength: 32 }), Type.Array(Type.String({ maxLength: 32 }), { maxItems: 20 })]), [FORM_CSRF_FIELD]: Type.String({ maxLength: 256 }) })
const PasskeyParams = Type.Object({ id: Type.String({ maxLength: 64 }) })
const RenameForm = Type.Object({ name: PasskeyName, [FORM_CSRF_FIELD]: Type.String({ maxLength: 256 }) })
const NoticeQuery = Type.Object({ notice: Type.Optional(Type.String({ maxLength: 64 })), renewed: Type.Optional(Type.String({ maxLength: 8 })) })

const ACCOUNT_NOTICES: Record<string, string> = {
  profile_saved: 'Your profile was saved.',
  session_revoked: 'The session was signed out.',
  verification_sent: `${RESEND_VERIFICATION_MESSAGE}.`,
  mfa_disabled: 'Two-step verification is off.',
  passkey_added: 'The passkey was added.',
  passkey_renamed: 'The passkey was renamed.',
  passkey_removed: 'The passkey was removed.'
}

/** The state of the two-step verification section for one rendering. */
interface MfaView {
  setup?: { qrSvg: string, secretGrouped: string }
  recoveryCodes?: string[]
  recoveryNotice?: string
  forms?: Partial<Record<'setup' | 'confirm' | 'regenerate' | 'disable', FormState>>
}

/** Which of the account page's forms a message belongs to, so it is shown there. */
type Section = 'profile' | 'password' | 'sessions' | 'verification' | 'passkeys'

const formatTime = (iso: string): string => `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`

export const accountPages: FastifyPluginAsyncTypebox<AccountPagesOptions> = async (app, options) => {
  const { config, auth, recovery, authenticate, render, formGuard, notices, twoStep, passkeys } = options
  const page = { page: true }
  // Page forms post urlencoded bodies; the API's JSON-only rule is for the API's routes.
  const form = { page: true, formBody: true }

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

  /**
   * An expired access cookie on GET /account: renew the session from the refresh cookie,
   * which the browser sends only under its path (/api/v1/auth), once; then sign-in.
   */
  const renewOrSignin = (request: FastifyRequest, reply: FastifyReply) =>
    (request.query as { renewed?: string }).renewed === undefined ? reply.redirect(`${REFRESH_COOKIE_PATH}/renew`, 303) : toSignin(reply)

  async function renderAccount (request: FastifyRequest, reply: FastifyReply, who: RequestAuth, forms: Partial<Record<Section, FormState>> = {}, status = 200, notice?: string, mfa: MfaView = {}) {
    const sessions = (await auth.listSessions(who.user.id, who.sessionId)).map((session) => ({
      ...session,
      device: describeDevice(session.user_agent),
      lastUsed: formatTime(session.last_used_at),
      created: formatTime(session.created_at),
      method: signInMethod(session.amr)
    }))
    const passkeyList = passkeys
      ? (await passkeys.list(who.user.id)).map((key) => ({ ...key, created: formatTime(key.created_at), lastUsed: key.last_used_at ? formatTime(key.last_used_at) : 'never' }))
      : undefined
    const enabled = who.user.mfa_enabled
    return render(reply, 'account', {
      title: 'Your account',
      csrfToken: csrfTokenFor(request, reply, config),
      signedIn: true,
      user: who.user,
      sessions,
      forms,
      ...(twoStep ? { mfa: { enabled, ...mfa } } : {}),
      ...(passkeyList ? { passkeyList, scripts: ['passkeys.js'] } : {}),
      ...(notice ? { notice } : {})
    }, status)
  }

  /** The set-up step: the QR code and the key as text, from the otpauth URI. */
  async function setupView (otpauthUri: string): Promise<MfaView['setup']> {
    const secret = new URL(otpauthUri).searchParams.get('secret') ?? ''
    return { qrSvg: await qrCodeSvg(otpauthUri), secretGrouped: groupSecret(secret) }
  }

  app.get('/account', { config: page, schema: { hide: true, querystring: NoticeQuery } }, async (request, reply) => {
    const who = await signedIn(request, reply)
    if (!who) return renewOrSignin(request, reply)
    const key = request.query.notice
    return renderAccount(request, reply, who, {}, 200, key ? ACCOUNT_NOTICES[key] ?? notices[key] : undefined)
  })

  // Under the refresh cookie's path, since only there does the browser send it. A GET, as it
  // follows the redirect above; it only renews this browser's own session, and its refresh
  // cookie (SameSite=Strict) never comes with a request started by another site.
  app.get(`${REFRESH_COOKIE_PATH}/renew`, { config: page, schema: { hide: true } }, async (request, reply) => {
    const refreshToken = request.cookies[REFRESH_COOKIE]
    if (!refreshToken || request.headers['sec-fetch-site'] === 'cross-site') return toSignin(reply)
    try {
      setAuthCookies(reply, config, await auth.refresh(refreshToken, clientOf(request)))
    } catch (error) {
      if (error instanceof AppError && error.statusCode < 500) return toSignin(reply)
      throw error
    }
    return reply.header('cache-control', 'no-store').redirect('/account?renewed=1', 303)
  })

  app.post('/account/profile', { config: form, preValidation: formGuard, attachValidation: true, schema: { hide: true, body: ProfileForm } }, async (request, reply) => {
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

  app.post('/account/password', { config: form, preValidation: formGuard, attachValidation: true, schema: { hide: true, body: PasswordForm } }, async (request, reply) => {
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

  app.post('/account/sessions/:id/revoke', { config: form, preValidation: formGuard, schema: { hide: true, params: SessionParams, body: CsrfOnly } }, async (request, reply) => {
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

  app.post('/account/verification', { config: form, preValidation: formGuard, schema: { hide: true, body: CsrfOnly } }, async (request, reply) => {
    const who = await signedIn(request, reply)
    if (!who) return toSignin(reply)
    await recovery.resendVerification(who.user.id)
    return reply.redirect('/account?notice=verification_sent', 303)
  })

  app.post('/account/signout', { config: form, preValidation: formGuard, schema: { hide: true, body: CsrfOnly } }, async (request, reply) => {
    const who = await signedIn(request, reply)
    if (who) await auth.logout(who.sessionId, { userId: who.user.id, client: clientOf(request) })
    clearAuthCookies(reply, config)
    return reply.redirect('/signin?notice=signed_out', 303)
  })

  app.post('/account/signout-all', { config: form, preValidation: formGuard, schema: { hide: true, body: CsrfOnly } }, async (request, reply) => {
    const who = await signedIn(request, reply)
    if (!who) return toSignin(reply)
    await auth.logoutAll(who.user.id, clientOf(request))
    clearAuthCookies(reply, config)
    return reply.redirect('/signin?notice=signed_out_everywhere', 303)
  })

  if (twoStep) {
    app.post('/account/mfa/setup', { config: form, preValidation: formGuard, attachValidation: true, schema: { hide: true, body: ReauthForm } }, async (request, reply) => {
      const who = await signedIn(request, reply)
      if (!who) return toSignin(reply)
      try {
        const invalid = validationErrorOf(request)
        if (invalid) throw invalid
        const { otpauthUri } = await twoStep.beginTotpSetup(who.user.id, request.body.password)
        return await renderAccount(request, reply, who, {}, 200, undefined, { setup: await setupView(otpauthUri) })
      } catch (error) {
        const { status, state } = formErrorOf(error, reply, { incorrect_password: 'password' })
        return renderAccount(request, reply, who, {}, status, undefined, { forms: { setup: state } })
      }
    })

    app.post('/account/mfa/confirm', { config: form, preValidation: formGuard, attachValidation: true, schema: { hide: true, body: ConfirmForm } }, async (request, reply) => {
      const who = await signedIn(request, reply)
      if (!who) return toSignin(reply)
      try {
        const invalid = validationErrorOf(request)
        if (invalid) throw invalid
        const { recoveryCodes } = await twoStep.confirmTotp(who.user.id, who.sessionId, request.body.code, clientOf(request))
        // Shown once, on this response (not behind a redirect): only their hashes are kept.
        const fresh = await signedIn(request, reply) ?? who
        return await renderAccount(request, reply, fresh, {}, 200, undefined, { recoveryCodes, recoveryNotice: 'Two-step verification is on.' })
      } catch (error) {
        const { status, state } = formErrorOf(error, reply, { invalid_code: 'code' })
        // The QR code and key shown again are those of the set-up the server keeps pending,
        // never anything the form sent; with nothing pending, the set-up starts over.
        const uri = await twoStep.pendingTotpUri(who.user.id)
        return renderAccount(request, reply, who, {}, status, undefined, uri ? { setup: await setupView(uri), forms: { confirm: state } } : { forms: { setup: state } })
      }
    })

    app.post('/account/mfa/recovery-codes', { config: form, preValidation: formGuard, attachValidation: true, schema: { hide: true, body: ReauthForm } }, async (request, reply) => {
      const who = await signedIn(request, reply)
      if (!who) return toSignin(reply)
      try {
        const invalid = validationErrorOf(request)
        if (invalid) throw invalid
        const { recoveryCodes } = await twoStep.regenerateRecoveryCodes(who.user.id, who.sessionId, request.body.password, clientOf(request))
        return await renderAccount(request, reply, who, {}, 200, undefined, { recoveryCodes, recoveryNotice: 'New recovery codes are ready; the old ones no longer work.' })
      } catch (error) {
        const { status, state } = formErrorOf(error, reply, { incorrect_password: 'password' })
        return renderAccount(request, reply, who, {}, status, undefined, { forms: { regenerate: state } })
      }
    })

    app.post('/account/mfa/disable', { config: form, preValidation: formGuard, attachValidation: true, schema: { hide: true, body: DisableForm } }, async (request, reply) => {
      const who = await signedIn(request, reply)
      if (!who) return toSignin(reply)
      try {
        const invalid = validationErrorOf(request)
        if (invalid) throw invalid
        await twoStep.disableTotp(who.user.id, request.body.password, request.body.code, clientOf(request))
        return reply.redirect('/account?notice=mfa_disabled', 303)
      } catch (error) {
        const { status, state } = formErrorOf(error, reply, { incorrect_password: 'password', invalid_code: 'code' })
        return renderAccount(request, reply, who, {}, status, undefined, { forms: { disable: state } })
      }
    })

    // The codes the page just showed, as a file. Nothing is looked up: the server keeps only
    // hashes. Only strings shaped like recovery codes are echoed, as an attachment.
    app.post('/account/mfa/recovery-codes/download', { config: form, preValidation: formGuard, schema: { hide: true, body: CodesForm } }, async (request, reply) => {
      const who = await signedIn(request, reply)
      if (!who) return toSignin(reply)
      const codes = ([] as string[]).concat(request.body.codes).filter((code) => RECOVERY_CODE_SHAPE.test(code)).slice(0, 10)
      return reply
        .type('text/plain; charset=utf-8')
        .header('content-disposition', 'attachment; filename="recovery-codes.txt"')
        .header('cache-control', 'no-store')
        .send(recoveryCodesFile(config.pages.productName, who.user.email, codes))
    })
  }

  if (passkeys) {
    app.post('/account/passkeys/:id/rename', { config: form, preValidation: formGuard, attachValidation: true, schema: { hide: true, params: PasskeyParams, body: RenameForm } }, async (request, reply) => {
      const who = await signedIn(request, reply)
      if (!who) return toSignin(reply)
      try {
        const invalid = validationErrorOf(request)
        if (invalid) throw invalid
        await passkeys.rename(who.user.id, request.params.id, request.body.name, clientOf(request))
        return reply.redirect('/account?notice=passkey_renamed', 303)
      } catch (error) {
        const { status, state } = formErrorOf(error, reply)
        return renderAccount(request, reply, who, { passkeys: state }, status)
      }
    })

    app.post('/account/passkeys/:id/remove', { config: form, preValidation: formGuard, schema: { hide: true, params: PasskeyParams, body: CsrfOnly } }, async (request, reply) => {
      const who = await signedIn(request, reply)
      if (!who) return toSignin(reply)
      try {
        await passkeys.remove(who.user.id, request.params.id, clientOf(request))
        return reply.redirect('/account?notice=passkey_removed', 303)
      } catch (error) {
        const { status, state } = formErrorOf(error, reply)
        return renderAccount(request, reply, who, { passkeys: state }, status)
      }
    })
  }
}
