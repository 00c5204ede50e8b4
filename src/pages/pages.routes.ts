import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { setAuthCookies } from '../auth/cookies.js'
import { FORM_CSRF_FIELD } from '../http/csrf.js'
import { AppError, Errors } from '../http/errors.js'
import { limitForgotPassword } from '../rate-limits/rate-limit.js'
import { Code, MfaToken } from '../mfa/mfa.schemas.js'
import { FORGOT_PASSWORD_MESSAGE } from '../recovery/recovery.routes.js'
import { OneTimeToken } from '../recovery/recovery.schemas.js'
import { DisplayName, Email, Password, Username } from '../users/users.schemas.js'
import { normalizeEmail } from '../lib/email.js'
import { accountPages } from './account.routes.js'
import type { PagesOptions } from './pages-options.js'
import { formErrorOf } from './form-errors.js'
import { loadPageAssets } from './page-assets.js'
import { acceptsHtml, clientOf, createFormGuard, csrfTokenFor, validationErrorOf } from './page-kit.js'
import { createRenderer, type FormState } from './render.js'
import { safeReturnTo } from './return-to.js'

const CsrfField = Type.String({ maxLength: 256 })
const ReturnToField = Type.Optional(Type.String({ maxLength: 4096 }))

// Every field with an API counterpart takes the API's own schema (/signin, /mfa/verify,
// /signup, /forgot-password, /reset-password, /verify-email): the pages check input exactly
// as the API does, and show the API's messages.
const SigninForm = Type.Object({ email: Email, password: Password, [FORM_CSRF_FIELD]: CsrfField, return_to: ReturnToField })
const SecondStepForm = Type.Object({ mfa_token: MfaToken, code: Code, [FORM_CSRF_FIELD]: CsrfField, return_to: ReturnToField })
const SignupForm = Type.Object({ email: Email, username: Username, password: Password, name: Type.Optional(DisplayName), [FORM_CSRF_FIELD]: CsrfField, return_to: ReturnToField })
const ForgotForm = Type.Object({ email: Email, [FORM_CSRF_FIELD]: CsrfField })
const ResetForm = Type.Object({ token: OneTimeToken, new_password: Password, [FORM_CSRF_FIELD]: CsrfField })
const VerifyForm = Type.Object({ token: OneTimeToken, [FORM_CSRF_FIELD]: CsrfField })
const ReturnToQuery = Type.Object({ return_to: ReturnToField, notice: Type.Optional(Type.String({ maxLength: 64 })) })
const TokenQuery = Type.Object({ token: Type.Optional(Type.String({ maxLength: 512 })) })

/** The `mfa_token` of a sign-in that needs its second step, if `error` is that answer. */
function mfaTokenOf (error: unknown): string | undefined {
  if (!(error instanceof AppError) || error.code !== 'mfa_required') return undefined
  return error.options.extra?.mfa_token
}

/** Fixed messages a redirect can ask a page to show (`?notice=`): no user text is ever reflected. */
const NOTICES: Record<string, string> = {
  signed_out: 'You are signed out.',
  signed_out_everywhere: 'You are signed out on every device.',
  password_changed: 'Your password was changed. Sign in with your new password.',
  password_reset: 'Your password was reset. Sign in with your new password.',
  session_expired: 'Sign in to continue.'
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A hosted page: HTML errors, no JSON-only clients. */
    page?: boolean
  }
}

/**
 * The hosted pages: plain forms posting to routes of their own (not to the JSON API, whose
 * 415 rule stays as it is), calling the same services, limits and cookie helpers as the API.
 */
export const pagesRoutes: FastifyPluginAsyncTypebox<PagesOptions> = async (app, options) => {
  const { config, auth, recovery, rateLimits, twoStep } = options
  // Read once at start-up; the stylesheet carries the configured accent colour.
  const { assets, stylesheet } = loadPageAssets({ accentColor: config.pages.accentColor })
  const render = createRenderer(config, stylesheet)
  const passkeys = options.passkeys !== undefined
  const formGuard = createFormGuard(config)
  const returnTo = (raw: unknown): string => safeReturnTo(raw, config)
  const page = { page: true }
  // Page forms post urlencoded bodies; the API's JSON-only rule is for the API's routes.
  const form = { page: true, formBody: true }

  // A JSON-only client gets the API's answer (406), never HTML.
  app.addHook('onRequest', async (request) => {
    if (request.routeOptions.config.page && !acceptsHtml(request)) throw Errors.notAcceptable()
  })

  // Errors of a page are shown as a page; the API's JSON answers (406, 415) pass through.
  app.setErrorHandler(async (error, request, reply) => {
    if (!(error instanceof AppError) || !request.routeOptions.config.page || !acceptsHtml(request) ||
      error.statusCode === 406 || error.statusCode === 415) throw error
    const message = error.code === 'csrf_failed'
      ? 'This form was sent from another site or has expired. Go back, reload the page and try again.'
      : error.message
    return render(reply, 'error', { title: error.statusCode === 404 ? 'Not found' : 'Something went wrong', csrfToken: '', alert: message }, error.statusCode)
  })

  app.get('/assets/*', { config: { quietAccessLog: true }, schema: { hide: true } }, async (request, reply) => {
    const asset = assets.get((request.params as { '*': string })['*'])
    if (!asset) throw Errors.notFound()
    return reply.type(asset.type).header('cache-control', 'public, max-age=3600').send(asset.body)
  })

  const frame = (request: FastifyRequest, reply: FastifyReply, title: string) => ({ title, csrfToken: csrfTokenFor(request, reply, config) })

  // ----- sign-in -----
  const renderSignin = (request: FastifyRequest, reply: FastifyReply, state: FormState & { returnTo?: string | undefined }, status = 200) =>
    render(reply, 'signin', { ...frame(request, reply, 'Sign in'), ...(passkeys ? { scripts: ['passkeys.js'], passkeys } : {}), next: returnTo(state.returnTo), ...state }, status)

  app.get('/signin', { config: page, schema: { hide: true, querystring: ReturnToQuery } }, async (request, reply) => {
    const notice = request.query.notice ? NOTICES[request.query.notice] : undefined
    return renderSignin(request, reply, { returnTo: request.query.return_to, ...(notice ? { notice } : {}) })
  })

  app.post('/signin', { config: form, preValidation: formGuard, attachValidation: true, schema: { hide: true, body: SigninForm } }, async (request, reply) => {
    const body = request.body
    const values = { email: typeof body.email === 'string' ? body.email : '' }
    try {
      const invalid = validationErrorOf(request)
      if (invalid) throw invalid
      const tokens = await auth.signIn({ email: body.email, password: body.password, ...clientOf(request) })
      setAuthCookies(reply, config, tokens)
      return reply.redirect(returnTo(body.return_to), 303)
    } catch (error) {
      const mfaToken = mfaTokenOf(error)
      if (mfaToken !== undefined) return renderSecondStep(request, reply, { mfaToken, returnTo: body.return_to })
      const { status, state } = formErrorOf(error, reply)
      return renderSignin(request, reply, { ...state, values, returnTo: body.return_to }, status)
    }
  })

  // ----- the second step of a two-step sign-in -----
  const renderSecondStep = (request: FastifyRequest, reply: FastifyReply, state: FormState & { mfaToken: string, returnTo?: string | undefined, recovery?: boolean }, status = 200) =>
    render(reply, 'signin-second-step', { ...frame(request, reply, 'Two-step verification'), ...state }, status)

  if (twoStep) {
    app.post('/signin/second-step', { config: form, preValidation: formGuard, attachValidation: true, schema: { hide: true, body: SecondStepForm } }, async (request, reply) => {
      const body = request.body
      const mfaToken = typeof body.mfa_token === 'string' ? body.mfa_token : ''
      try {
        const invalid = validationErrorOf(request)
        if (invalid) throw invalid
        const tokens = await twoStep.verifySignin(body.mfa_token, body.code, clientOf(request))
        setAuthCookies(reply, config, tokens)
        return reply.redirect(returnTo(body.return_to), 303)
      } catch (error) {
        const { status, state } = formErrorOf(error, reply, { invalid_code: 'code' })
        // A spent, expired or dead mfa_token: the sign-in starts again from the password.
        if (error instanceof AppError && error.code === 'invalid_token') {
          return renderSignin(request, reply, { alert: `${error.message}. Sign in again.`, returnTo: body.return_to }, status)
        }
        return renderSecondStep(request, reply, { ...state, mfaToken, returnTo: body.return_to, recovery: (body.code ?? '').includes('-') }, status)
      }
    })
  }

  // ----- sign-up -----
  const renderSignup = (request: FastifyRequest, reply: FastifyReply, state: FormState & { returnTo?: string | undefined }, status = 200) =>
    render(reply, 'signup', { ...frame(request, reply, 'Create an account'), ...state }, status)

  app.get('/signup', { config: page, schema: { hide: true, querystring: ReturnToQuery } }, async (request, reply) =>
    renderSignup(request, reply, { returnTo: request.query.return_to }))

  app.post('/signup', { config: form, preValidation: formGuard, attachValidation: true, schema: { hide: true, body: SignupForm } }, async (request, reply) => {
    const body = request.body
    const text = (value: unknown): string => typeof value === 'string' ? value : ''
    const values = { email: text(body.email), username: text(body.username), name: text(body.name) }
    try {
      const invalid = validationErrorOf(request)
      if (invalid) throw invalid
      await rateLimits.signupPerIp.hit(request.ip)
      const input = { email: body.email, username: body.username, password: body.password, ...(body.name ? { name: body.name } : {}) }
      if (config.signupEnumerationSafe) {
        await auth.signupWithoutDisclosure(input)
        return render(reply, 'message', { ...frame(request, reply, 'Check your email'), notice: 'Check your email to finish signing up' })
      }
      const tokens = await auth.signup(input, clientOf(request))
      setAuthCookies(reply, config, tokens)
      return reply.redirect(returnTo(body.return_to), 303)
    } catch (error) {
      const { status, state } = formErrorOf(error, reply, { email_taken: 'email', username_taken: 'username' })
      return renderSignup(request, reply, { ...state, values, returnTo: body.return_to }, status)
    }
  })

  // ----- forgotten password -----
  app.get('/forgot-password', { config: page, schema: { hide: true } }, async (request, reply) =>
    render(reply, 'forgot-password', frame(request, reply, 'Reset your password')))

  app.post('/forgot-password', { config: form, preValidation: formGuard, attachValidation: true, schema: { hide: true, body: ForgotForm } }, async (request, reply) => {
    const values = { email: typeof request.body.email === 'string' ? request.body.email : '' }
    try {
      const invalid = validationErrorOf(request)
      if (invalid) throw invalid
      // The API's limits, in the API's order: unknown emails count like known ones.
      await limitForgotPassword(rateLimits, request.ip, normalizeEmail(request.body.email))
      await recovery.forgotPassword(request.body.email)
      return render(reply, 'forgot-password', { ...frame(request, reply, 'Check your email'), notice: FORGOT_PASSWORD_MESSAGE, sent: true })
    } catch (error) {
      const { status, state } = formErrorOf(error, reply)
      return render(reply, 'forgot-password', { ...frame(request, reply, 'Reset your password'), ...state, values }, status)
    }
  })

  // ----- reset link -----
  app.get('/reset-password', { config: page, schema: { hide: true, querystring: TokenQuery } }, async (request, reply) => {
    const token = request.query.token ?? ''
    if (token === '') return render(reply, 'error', { ...frame(request, reply, 'Invalid link'), alert: Errors.invalidOneTimeToken().message, linkToForgot: true }, 400)
    return render(reply, 'reset-password', { ...frame(request, reply, 'Choose a new password'), token })
  })

  app.post('/reset-password', { config: form, preValidation: formGuard, attachValidation: true, schema: { hide: true, body: ResetForm } }, async (request, reply) => {
    const token = typeof request.body.token === 'string' ? request.body.token : ''
    try {
      const invalid = validationErrorOf(request)
      if (invalid) throw invalid
      await recovery.resetPassword(request.body.token, request.body.new_password, clientOf(request))
      return reply.redirect('/signin?notice=password_reset', 303)
    } catch (error) {
      const { status, state } = formErrorOf(error, reply)
      return render(reply, 'reset-password', { ...frame(request, reply, 'Choose a new password'), ...state, token, linkToForgot: status === 400 }, status)
    }
  })

  // ----- verification link -----
  // The link opens a page with a button rather than verifying on GET: mail scanners and
  // link previews fetch links, and must not spend the token.
  app.get('/verify-email', { config: page, schema: { hide: true, querystring: TokenQuery } }, async (request, reply) => {
    const token = request.query.token ?? ''
    if (token === '') return render(reply, 'error', { ...frame(request, reply, 'Invalid link'), alert: Errors.invalidOneTimeToken().message }, 400)
    return render(reply, 'verify-email', { ...frame(request, reply, 'Verify your email address'), token })
  })

  app.post('/verify-email', { config: form, preValidation: formGuard, attachValidation: true, schema: { hide: true, body: VerifyForm } }, async (request, reply) => {
    const token = typeof request.body.token === 'string' ? request.body.token : ''
    try {
      const invalid = validationErrorOf(request)
      if (invalid) throw invalid
      const user = await recovery.verifyEmail(request.body.token, clientOf(request))
      return render(reply, 'verify-email', { ...frame(request, reply, 'Email address verified'), verified: true, notice: `${user.email} is verified.` })
    } catch (error) {
      const { status, state } = formErrorOf(error, reply)
      return render(reply, 'verify-email', { ...frame(request, reply, 'Verify your email address'), ...state, token }, status)
    }
  })

  await app.register(accountPages, { ...options, render, formGuard, notices: NOTICES })
}
