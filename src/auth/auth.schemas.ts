import { Type } from '@sinclair/typebox'
import { DisplayName, Email, Password, User, Username } from '../users/users.schemas.js'

export const SignupBody = Type.Object({
  email: Email,
  username: Username,
  password: Password,
  name: Type.Optional(DisplayName)
})

export const SigninBody = Type.Object({ email: Email, password: Password })

export const LoginForm = Type.Object({
  username: Type.String({ maxLength: 254, description: 'The account email (OAuth2 form field name)' }),
  password: Password
}, { title: 'LoginForm' })

export const RefreshToken = Type.String({ maxLength: 256 })
export const RefreshBody = Type.Object({ refresh_token: Type.Optional(RefreshToken) })

/** POST /logout: the access token authenticates it; the refresh token alone may, once it has expired. */
export const LogoutBody = Type.Object({ refresh_token: Type.Optional(RefreshToken) })

export const UpdateMeBody = Type.Object({
  name: Type.Optional(Type.Union([DisplayName, Type.Null()])),
  username: Type.Optional(Username)
})

export const ChangePasswordBody = Type.Object({ old_password: Password, new_password: Password })

export const TokenResponse = Type.Object({
  access_token: Type.String(),
  token_type: Type.Literal('bearer'),
  expires_in: Type.Integer(),
  refresh_token: Type.String(),
  user: User
}, { title: 'TokenResponse' })

/**
 * The form of POST /token (RFC 6749 §4.3, §6). Loose on purpose: which fields a grant needs is
 * decided by the handler, and a form that fails this schema answers RFC 6749's
 * `invalid_request`, not the usual 422. A repeated field arrives as an array and fails it.
 * Every field is bounded exactly as the JSON schemas bound the same value, so nothing longer
 * reaches a service or an audit row.
 */
export const TokenForm = Type.Object({
  grant_type: Type.Optional(Type.String({ maxLength: 64, description: '`password` or `refresh_token`', examples: ['password', 'refresh_token'] })),
  username: Type.Optional(Type.String({ maxLength: 254, description: 'The account email (password grant)' })),
  password: Type.Optional(Type.String({ maxLength: 1024, description: 'The password (password grant)' })),
  refresh_token: Type.Optional(Type.String({ maxLength: 256, description: 'The refresh token (refresh_token grant)' })),
  client_id: Type.Optional(Type.String({ maxLength: 64, description: 'The public client\'s id, recorded in the tokens (default `authd`); a refresh token works only for its own client' })),
  client_secret: Type.Optional(Type.String({ maxLength: 1024, description: 'Not supported: a non-empty secret answers 401 `invalid_client`' })),
  scope: Type.Optional(Type.String({ maxLength: 1024, description: 'Ignored: tokens carry no scopes' }))
}, { title: 'TokenRequest' })

export const OAuthTokenResponse = Type.Object({
  access_token: Type.String(),
  token_type: Type.Literal('Bearer'),
  expires_in: Type.Integer(),
  refresh_token: Type.String()
}, { title: 'OAuthTokenResponse' })

export const OAuthErrorResponse = Type.Object({
  error: Type.String({ description: 'RFC 6749 §5.2 error code', examples: ['invalid_request', 'invalid_grant', 'unsupported_grant_type', 'invalid_client'] }),
  error_description: Type.String()
}, { title: 'OAuthErrorResponse' })

/** The password grant's answer for an account with two-step verification on. */
export const OAuthMfaRequiredResponse = Type.Object({
  error: Type.Literal('mfa_required'),
  error_description: Type.String(),
  mfa_token: Type.String({ description: 'Single use, 5 minutes: present it with a code at /mfa/verify' })
}, { title: 'OAuthMfaRequiredResponse' })

export const SessionItem = Type.Object({
  id: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
  last_used_at: Type.String({ format: 'date-time' }),
  expires_at: Type.String({ format: 'date-time' }),
  ip: Type.Union([Type.String(), Type.Null()]),
  user_agent: Type.Union([Type.String(), Type.Null()]),
  amr: Type.Array(Type.String(), { description: 'RFC 8176 methods the session was opened with: pwd, otp, hwk, swk, mfa' }),
  current: Type.Boolean()
}, { title: 'Session' })

// Any string: an id that is not one of ours is simply not found (404), not a validation error.
export const SessionParams = Type.Object({ id: Type.String({ maxLength: 64 }) })
