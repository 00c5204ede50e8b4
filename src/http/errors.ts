/**
 * One error model for the whole service. Services throw these; `error-handler.ts` alone turns
 * them (and everything else) into the contract's JSON body. `cause` is logged, never sent.
 */

export interface FieldError { field: string, message: string }

export class AppError extends Error {
  constructor (
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly options: { errors?: FieldError[], headers?: Record<string, string>, cause?: unknown } = {}
  ) {
    super(message, { cause: options.cause })
    this.name = 'AppError'
  }
}

export const Errors = {
  notAuthenticated: () => new AppError(401, 'not_authenticated', 'Not authenticated', { headers: { 'www-authenticate': 'Bearer' } }),
  invalidToken: () => new AppError(401, 'invalid_token', 'Invalid or expired token', { headers: { 'www-authenticate': 'Bearer error="invalid_token"' } }),
  invalidRefreshToken: () => new AppError(401, 'invalid_token', 'Invalid or expired refresh token', { headers: { 'www-authenticate': 'Bearer error="invalid_token"' } }),
  invalidCredentials: () => new AppError(401, 'invalid_credentials', 'Invalid email or password', { headers: { 'www-authenticate': 'Bearer' } }),
  inactiveUser: () => new AppError(403, 'inactive_user', 'User account is inactive'),
  emailNotVerified: () => new AppError(403, 'email_not_verified', 'Email address not verified'),
  forbidden: () => new AppError(403, 'forbidden', 'Superuser privileges required'),
  emailTaken: () => new AppError(409, 'email_taken', 'Email already registered'),
  usernameTaken: () => new AppError(409, 'username_taken', 'Username already taken'),
  incorrectPassword: () => new AppError(400, 'incorrect_password', 'Incorrect current password'),
  invalidOneTimeToken: () => new AppError(400, 'invalid_token', 'Invalid or expired token'),
  notFound: (message = 'Not found') => new AppError(404, 'not_found', message),
  userNotFound: () => new AppError(404, 'user_not_found', 'User not found'),
  weakPassword: (field: string, message: string) =>
    new AppError(422, 'weak_password', message, { errors: [{ field, message }] }),
  validation: (errors: FieldError[]) =>
    new AppError(422, 'validation_error', 'Request validation failed', { errors }),
  rateLimited: (retryAfterSeconds: number) =>
    new AppError(429, 'rate_limited', 'Too many requests', { headers: { 'retry-after': String(Math.max(1, Math.ceil(retryAfterSeconds))) } }),
  csrfFailed: () => new AppError(403, 'csrf_failed', 'Cross-site request refused')
} as const

/** Errors of the OAuth2 token endpoint, which RFC 6749 §5.2 gives a shape of its own. */
export class OAuthError extends Error {
  // eslint-disable-next-line n/handle-callback-err -- `error` is the RFC 6749 error code, not a callback error
  constructor (readonly error: 'invalid_request' | 'invalid_grant' | 'unsupported_grant_type' | 'invalid_client', readonly description: string, readonly statusCode = 400, readonly headers: Record<string, string> = {}) {
    super(description)
    this.name = 'OAuthError'
  }
}
