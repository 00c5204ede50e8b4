import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Config } from '../config/index.js'
import { type Authenticate, authOf, REFRESH_COOKIE } from '../sessions/authenticate.js'
import { isCrossSite } from '../http/csrf.js'
import { AppError, Errors, NO_STORE_HEADERS, OAuthError } from '../http/errors.js'
import type { AuthRateLimits } from '../rate-limits/rate-limit.js'
import { AUTHENTICATED, described, errorResponses, errorResponsesWith, MessageResponse, MfaTokenField, noContent } from '../http/schemas.js'
import { User } from '../users/users.schemas.js'
import type { AuthService, ClientInfo, IssuedTokens } from './auth.service.js'
import {
  ChangePasswordBody, LoginForm, LogoutBody, OAuthErrorResponse, OAuthMfaRequiredResponse, OAuthTokenResponse, RefreshBody, SessionItem,
  SessionParams, SigninBody, SignupBody, TokenForm, TokenResponse, UpdateMeBody
} from './auth.schemas.js'
import { clearAuthCookies, setAuthCookies } from './cookies.js'
import { tokenClientOf } from './token-client.js'

export interface AuthRoutesOptions {
  config: Config
  auth: AuthService
  authenticate: Authenticate
  rateLimits: AuthRateLimits
}

export function clientOf (request: FastifyRequest): ClientInfo {
  return { ip: request.ip ?? null, userAgent: request.headers['user-agent'] ?? null }
}

export function tokenResponse (tokens: IssuedTokens) {
  return {
    access_token: tokens.accessToken,
    token_type: 'bearer' as const,
    expires_in: tokens.expiresIn,
    refresh_token: tokens.refreshToken,
    user: tokens.user
  }
}

/** A token response: never cached (RFC 6749 §5.1). Errors carrying a token have the same headers. */
export function noStore (reply: FastifyReply): void {
  reply.headers(NO_STORE_HEADERS)
}

const tags = ['auth']

export const authRoutes: FastifyPluginAsyncTypebox<AuthRoutesOptions> = async (app, { config, auth, authenticate, rateLimits }) => {
  const signIn = (request: FastifyRequest, email: string, password: string, clientId?: string): Promise<IssuedTokens> =>
    auth.signIn({ email, password, ...clientOf(request), ip: request.ip, clientId })

  app.post('/signup', {
    schema: {
      tags,
      summary: 'Create an account and sign in',
      operationId: 'signUp',
      body: SignupBody,
      response: {
        201: described(TokenResponse, 'Account created and signed in; the auth cookies are set'),
        202: described(MessageResponse, 'With SIGNUP_ENUMERATION_SAFE: check your email (no tokens, no cookies)'),
        ...errorResponses('email_taken', 'username_taken', 'weak_password', 'rate_limited')
      }
    }
  }, async (request, reply) => {
    await rateLimits.signupPerIp.hit(request.ip)
    if (config.signupEnumerationSafe) {
      // No tokens, no cookies: the account only becomes usable through the emailed link.
      await auth.signupWithoutDisclosure(request.body)
      return reply.code(202).send({ message: 'Check your email to finish signing up' })
    }
    const tokens = await auth.signup(request.body, clientOf(request))
    setAuthCookies(reply, config, tokens)
    noStore(reply)
    return reply.code(201).send(tokenResponse(tokens))
  })

  app.post('/signin', {
    schema: {
      tags,
      summary: 'Sign in with email and password',
      operationId: 'signIn',
      body: SigninBody,
      response: {
        200: described(TokenResponse, 'Signed in; the auth cookies are set'),
        ...errorResponses('invalid_credentials', 'rate_limited'),
        ...errorResponsesWith(MfaTokenField, 'inactive_user', 'email_not_verified', 'mfa_required')
      }
    }
  }, async (request, reply) => {
    const tokens = await signIn(request, request.body.email, request.body.password)
    setAuthCookies(reply, config, tokens)
    noStore(reply)
    return tokenResponse(tokens)
  })

  app.post('/login', {
    config: { formBody: true },
    schema: {
      tags,
      summary: 'Sign in from an HTML form (sets cookies)',
      operationId: 'logIn',
      consumes: ['application/x-www-form-urlencoded'],
      body: LoginForm,
      response: {
        204: noContent('Signed in; the auth cookies are set'),
        ...errorResponses('invalid_credentials', 'rate_limited'),
        ...errorResponsesWith(MfaTokenField, 'inactive_user', 'email_not_verified', 'mfa_required')
      }
    }
  }, async (request, reply) => {
    const tokens = await signIn(request, request.body.username, request.body.password)
    setAuthCookies(reply, config, tokens)
    noStore(reply)
    return reply.code(204).send(null)
  })

  app.post('/token', {
    // RFC 6749 §5.2 fixes this endpoint's error shape: input refused by a schema or by a hook
    // before the handler (NUL, lone surrogate, body size, content type) is `invalid_request`.
    config: { formBody: true, oauthErrors: true },
    schema: {
      tags,
      summary: 'OAuth2 token endpoint (password and refresh_token grants)',
      operationId: 'token',
      consumes: ['application/x-www-form-urlencoded'],
      body: TokenForm,
      response: {
        200: described(OAuthTokenResponse, 'Tokens issued (RFC 6749 §5.1)'),
        400: described(OAuthErrorResponse, '`invalid_request`, `invalid_grant` (wrong credentials, inactive account, bad or reused refresh token, another client\'s refresh token) or `unsupported_grant_type` (RFC 6749 §5.2)'),
        401: described(OAuthErrorResponse, '`invalid_client`: a client secret was sent; authd serves public clients only'),
        403: described(OAuthMfaRequiredResponse, '`mfa_required`: the password was right; finish the sign-in at `/mfa/verify` with the `mfa_token`'),
        413: described(OAuthErrorResponse, '`invalid_request`: the body is over 64 KiB'),
        415: described(OAuthErrorResponse, '`invalid_request`: the body is of a content type this endpoint does not take'),
        ...errorResponses('rate_limited')
      }
    },
    preValidation: async (request) => { request.body ??= {} }
  }, async (request, reply) => {
    const { grant_type: grantType } = request.body
    const client = { ...clientOf(request), clientId: tokenClientOf(request, request.body) }
    let tokens: IssuedTokens
    try {
      if (grantType === 'password') {
        const { username, password } = request.body
        if (!username || !password) throw new OAuthError('invalid_request', 'username and password are required')
        tokens = await signIn(request, username, password, client.clientId)
      } else if (grantType === 'refresh_token') {
        const refreshToken = request.body.refresh_token
        if (!refreshToken) throw new OAuthError('invalid_request', 'refresh_token is required')
        tokens = await auth.refresh(refreshToken, client)
      } else if (grantType === undefined) {
        throw new OAuthError('invalid_request', 'grant_type is required')
      } else {
        throw new OAuthError('unsupported_grant_type', 'Supported grant types: password, refresh_token')
      }
    } catch (error) {
      // Credentials, inactive accounts and bad refresh tokens all read as invalid_grant;
      // anything else (rate limits, server errors) keeps its own status and shape.
      if (error instanceof AppError && error.code === 'mfa_required') {
        throw new OAuthError('mfa_required', error.message, 403, error.options.headers, error.options.extra)
      }
      if (error instanceof AppError && (error.statusCode === 401 || error.statusCode === 403)) {
        throw new OAuthError('invalid_grant', error.message)
      }
      throw error
    }
    noStore(reply)
    return { access_token: tokens.accessToken, token_type: 'Bearer' as const, expires_in: tokens.expiresIn, refresh_token: tokens.refreshToken }
  })

  app.post('/refresh', {
    // Cookie clients usually send no body at all.
    config: { optionalBody: true },
    schema: {
      tags,
      summary: 'Rotate the refresh token (cookie → 204 with new cookies, body → 200)',
      operationId: 'refresh',
      body: RefreshBody,
      response: {
        200: described(TokenResponse, 'The refresh token came in the body: the new tokens'),
        204: noContent('The refresh token came from the cookie: new cookies are set'),
        ...errorResponses('invalid_token')
      }
    }
  }, async (request, reply) => {
    const fromBody = request.body.refresh_token
    const fromCookie = request.cookies[REFRESH_COOKIE]
    const tokens = await auth.refresh(fromBody ?? fromCookie ?? '', clientOf(request))
    noStore(reply)
    if (fromBody !== undefined) return tokenResponse(tokens)
    setAuthCookies(reply, config, tokens)
    return reply.code(204).send(null)
  })

  const allowedOrigins = new Set(config.allowedOrigins)
  const accessTokenRefusals = new WeakMap<FastifyRequest, AppError>()
  app.post('/logout', {
    // A valid access token authenticates; without one (missing or expired), the refresh token
    // alone may, from its cookie or the body, so a client can still end a session whose access
    // token has run out while its refresh token would keep it alive for days.
    onRequest: async (request, reply) => {
      try {
        await authenticate(request, reply)
      } catch (error) {
        if (!(error instanceof AppError) || (error.code !== 'invalid_token' && error.code !== 'not_authenticated')) throw error
        // Decided in the handler, once the body (which may hold the refresh token) is read.
        accessTokenRefusals.set(request, error)
      }
    },
    // Bodies are optional: an access token or a refresh cookie is enough.
    config: { optionalBody: true },
    preValidation: async (request) => { request.body ??= {} },
    schema: {
      tags,
      summary: 'End this session (by the access token, or by the refresh token alone once the access token has expired)',
      operationId: 'logOut',
      security: AUTHENTICATED,
      body: LogoutBody,
      response: { 204: noContent('This session is revoked and the cookies are cleared'), ...errorResponses(401, 422) }
    }
  }, async (request, reply) => {
    if (request.auth) {
      await auth.logout(request.auth.sessionId, { userId: request.auth.user.id, client: clientOf(request) })
    } else {
      const fromBody = request.body.refresh_token
      const fromCookie = request.cookies[REFRESH_COOKIE]
      const token = fromBody ?? fromCookie
      if (token === undefined) throw accessTokenRefusals.get(request) ?? Errors.notAuthenticated()
      // The refresh cookie is SameSite=Strict, and this is the server-side second line, as
      // for every cookie-authenticated write: a foreign page cannot end the session.
      if (fromBody === undefined && isCrossSite(request, allowedOrigins)) throw Errors.csrfFailed()
      await auth.logoutWithRefreshToken(token, clientOf(request))
    }
    clearAuthCookies(reply, config)
    return reply.code(204).send(null)
  })

  app.post('/logout-all', {
    onRequest: authenticate,
    schema: { tags, summary: 'End every session of this user', operationId: 'logOutAll', security: AUTHENTICATED, response: { 204: noContent('Every session of the user is revoked and the cookies are cleared') } }
  }, async (request, reply) => {
    await auth.logoutAll(authOf(request).user.id, clientOf(request))
    clearAuthCookies(reply, config)
    return reply.code(204).send(null)
  })

  app.get('/me', {
    onRequest: authenticate,
    schema: { tags, summary: 'The signed-in user', operationId: 'getMe', security: AUTHENTICATED, response: { 200: described(User, 'The signed-in user') } }
  }, async (request) => authOf(request).user)

  app.patch('/me', {
    onRequest: authenticate,
    schema: {
      tags,
      summary: 'Update name or username',
      operationId: 'updateMe',
      security: AUTHENTICATED,
      body: UpdateMeBody,
      response: { 200: described(User, 'The updated user'), ...errorResponses('username_taken') }
    }
  }, async (request) => auth.updateProfile(authOf(request).user.id, request.body))

  app.post('/change-password', {
    onRequest: authenticate,
    schema: {
      tags,
      summary: 'Change the password (ends every session)',
      operationId: 'changePassword',
      security: AUTHENTICATED,
      body: ChangePasswordBody,
      response: { 200: described(MessageResponse, 'Password changed; every session is revoked and the cookies are cleared'), ...errorResponses('incorrect_password', 'weak_password', 'rate_limited') }
    }
  }, async (request, reply) => {
    await auth.changePassword(authOf(request).user.id, request.body.old_password, request.body.new_password, clientOf(request))
    clearAuthCookies(reply, config)
    return { message: 'Password changed successfully' }
  })

  app.get('/sessions', {
    onRequest: authenticate,
    schema: { tags, summary: 'Live sessions of this user', operationId: 'listSessions', security: AUTHENTICATED, response: { 200: Type.Array(SessionItem, { description: 'The live sessions; `current` marks this one' }) } }
  }, async (request) => {
    const { user, sessionId } = authOf(request)
    return auth.listSessions(user.id, sessionId)
  })

  app.delete('/sessions/:id', {
    onRequest: authenticate,
    schema: {
      tags,
      summary: 'Revoke one of this user\'s sessions',
      operationId: 'deleteSession',
      security: AUTHENTICATED,
      params: SessionParams,
      response: { 204: noContent('The session is revoked: its tokens are refused from now on'), ...errorResponses('not_found') }
    }
  }, async (request, reply) => {
    await auth.deleteSession(authOf(request).user.id, request.params.id, clientOf(request))
    return reply.code(204).send(null)
  })
}
