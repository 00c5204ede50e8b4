/**
 * One error model for the whole service. Services throw these; `error-handler.ts` alone turns
 * them (and everything else) into the contract's JSON body. `cause` is logged, never sent.
 */

export interface FieldError { field: string, message: string }

/**
 * The headers of every answer that carries a token (RFC 6749 §5.1): no cache, shared or
 * private, keeps it. Token successes set them (`noStore` in the auth routes); errors that
 * carry one (`mfa_required` with its `mfa_token`, the OAuth errors) carry them as headers.
 */
export const NO_STORE_HEADERS: Readonly<Record<string, string>> = { 'cache-control': 'no-store', pragma: 'no-cache' }

/**
 * Every `code` the service answers with: a stable lower_snake_case contract, documented in
 * OpenAPI as the enum of `ErrorResponse.code`. A new code is added here and nowhere else.
 */
export const ERROR_CODES = [
  'bad_request', 'invalid_json', 'validation_error', 'weak_password', 'incorrect_password',
  'not_authenticated', 'invalid_token', 'invalid_credentials', 'reauthentication_required',
  'inactive_user', 'email_not_verified', 'forbidden', 'csrf_failed',
  'not_found', 'user_not_found', 'method_not_allowed',
  'email_taken', 'username_taken', 'role_exists',
  'not_acceptable', 'payload_too_large', 'unsupported_media_type', 'rate_limited',
  'mfa_required', 'mfa_already_enabled', 'mfa_not_enabled', 'invalid_code', 'invalid_passkey',
  'invalid_url', 'uri_too_long', 'headers_too_large', 'request_timeout',
  'internal_error', 'service_unavailable'
] as const

/**
 * Codes of the operator CLI only (with `--json` it prints the same error body): never an HTTP
 * answer, so not in the OpenAPI enum.
 */
export const CLI_ERROR_CODES = ['usage_error', 'config_error'] as const

export type ErrorCode = typeof ERROR_CODES[number] | typeof CLI_ERROR_CODES[number]

/**
 * The usual status of each code and what it means to a client: the OpenAPI document describes
 * every error response from this table (http/openapi-conventions.ts). Typed by `ErrorCode`, so
 * a new code cannot be added without its entry.
 */
export const ERROR_CATALOGUE: Record<typeof ERROR_CODES[number], { status: number, description: string }> = {
  bad_request: { status: 400, description: 'the request is malformed' },
  invalid_json: { status: 400, description: 'the body is not valid JSON' },
  incorrect_password: { status: 400, description: 'the current password is wrong' },
  validation_error: { status: 422, description: 'a field is missing, of the wrong type or out of bounds (`errors` names each field)' },
  weak_password: { status: 422, description: 'the password is too common, or contains the email or the username' },
  not_authenticated: { status: 401, description: 'no access token (neither the bearer header nor the cookie)' },
  invalid_token: { status: 401, description: 'the token is malformed, expired or revoked' },
  invalid_credentials: { status: 401, description: 'wrong email or password (the same answer for an unknown email)' },
  reauthentication_required: { status: 401, description: 'adding a passkey needs a sign-in of the last 10 minutes (through the second step when two-step verification is on)' },
  inactive_user: { status: 403, description: 'the account is deactivated' },
  email_not_verified: { status: 403, description: 'the email address is not verified yet (enumeration-safe sign-up)' },
  forbidden: { status: 403, description: 'superuser privileges required, or not allowed on this account' },
  csrf_failed: { status: 403, description: 'a browser request from a foreign origin was refused (Origin, Referer or Sec-Fetch-Site)' },
  not_found: { status: 404, description: 'no such route or resource' },
  user_not_found: { status: 404, description: 'no such user' },
  method_not_allowed: { status: 405, description: 'the path does not take this method' },
  email_taken: { status: 409, description: 'the email is already registered' },
  username_taken: { status: 409, description: 'the username is already taken' },
  role_exists: { status: 409, description: 'a role with this slug exists' },
  payload_too_large: { status: 413, description: 'the body is over 64 KiB' },
  not_acceptable: { status: 406, description: 'a hosted page asked for with an Accept header that does not take HTML (API clients get JSON here, never a page)' },
  unsupported_media_type: { status: 415, description: 'the body is not of a content type this endpoint takes (JSON; forms only at /login and /token)' },
  rate_limited: { status: 429, description: 'too many attempts: wait for `Retry-After` seconds' },
  mfa_required: { status: 403, description: 'the password was right; the sign-in needs its second step (`mfa_token`, to present with a code at `/mfa/verify`)' },
  mfa_already_enabled: { status: 409, description: 'two-step verification is already enabled' },
  mfa_not_enabled: { status: 409, description: 'two-step verification is not enabled' },
  invalid_code: { status: 400, description: 'the verification code (TOTP or recovery code) is wrong, expired or already used' },
  invalid_passkey: { status: 401, description: 'the passkey is not recognised, or its registration could not be verified' },
  invalid_url: { status: 400, description: 'the request URL is malformed' },
  uri_too_long: { status: 414, description: 'the request URL is too long' },
  headers_too_large: { status: 431, description: 'the request headers are too large' },
  request_timeout: { status: 408, description: 'the request was not received in time' },
  internal_error: { status: 500, description: 'an unexpected error, logged with the request id (`x-request-id`)' },
  service_unavailable: { status: 503, description: 'a temporary outage (database, hashing capacity, shutting down): retry after `Retry-After` seconds' }
}

export class AppError extends Error {
  constructor (
    readonly statusCode: number,
    readonly code: ErrorCode,
    message: string,
    readonly options: { errors?: FieldError[], headers?: Record<string, string>, cause?: unknown, /** Extra body fields the contract fixes (e.g. `mfa_token`). */ extra?: Record<string, string> } = {}
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
  reauthenticationRequired: () => new AppError(401, 'reauthentication_required', 'Sign in again to continue'),
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
  // Two-step verification and passkeys
  mfaRequired: (mfaToken: string) => new AppError(403, 'mfa_required', 'Two-step verification required', { extra: { mfa_token: mfaToken }, headers: { ...NO_STORE_HEADERS } }),
  mfaAlreadyEnabled: () => new AppError(409, 'mfa_already_enabled', 'Two-step verification is already enabled'),
  mfaNotEnabled: () => new AppError(409, 'mfa_not_enabled', 'Two-step verification is not enabled'),
  /** A wrong code while managing the factor (400), or at the second step of a sign-in (401). */
  invalidCode: (statusCode: 400 | 401 = 400) => new AppError(statusCode, 'invalid_code', 'Invalid verification code'),
  invalidPasskeyRegistration: () => new AppError(400, 'invalid_passkey', 'Passkey could not be registered'),
  passkeyNotRecognised: () => new AppError(401, 'invalid_passkey', 'Passkey not recognised'),
  roleExists: () => new AppError(409, 'role_exists', 'Role already exists'),
  /** `firstInWindow` is true only for the refusal that crossed the limit (the lockout audit). */
  rateLimited: (retryAfterSeconds: number, firstInWindow = false) => new RateLimitedError(retryAfterSeconds, firstInWindow),
  csrfFailed: () => new AppError(403, 'csrf_failed', 'Cross-site request refused'),
  invalidJson: () => new AppError(400, 'invalid_json', 'Request body is not valid JSON'),
  payloadTooLarge: () => new AppError(413, 'payload_too_large', 'Request body is too large'),
  unsupportedMediaType: () => new AppError(415, 'unsupported_media_type', 'Unsupported content type'),
  /** A hosted page asked for by a client that takes no HTML (Accept without text/html). */
  notAcceptable: () => new AppError(406, 'not_acceptable', 'This path serves HTML pages only'),
  /** Fastify's own 4xx (routing, headers): its message describes the request, never our internals. */
  fromStatus: (status: number, message: string) =>
    new AppError(status, status === 404 ? 'not_found' : status === 405 ? 'method_not_allowed' : 'bad_request', message || 'Bad request'),
  internal: (cause?: unknown) => new AppError(500, 'internal_error', 'Internal server error', { cause }),
  /**
   * An outage (database unreachable or too slow, hashing queue full, shutting down), not a
   * bug: 503 with `Retry-After`, so clients and load balancers can tell the two apart.
   */
  serviceUnavailable: (retryAfterSeconds = 5) =>
    new AppError(503, 'service_unavailable', 'Service temporarily unavailable', { headers: { 'retry-after': String(Math.max(1, Math.ceil(retryAfterSeconds))) } }),
  // Raised before routing (see error-handler.ts: frameworkErrors and the client error handler).
  badUrl: () => new AppError(400, 'invalid_url', 'Malformed request URL'),
  uriTooLong: () => new AppError(414, 'uri_too_long', 'Request URL is too long'),
  headersTooLarge: () => new AppError(431, 'headers_too_large', 'Request headers are too large'),
  requestTimeout: () => new AppError(408, 'request_timeout', 'Request not received in time'),
  badRequest: () => new AppError(400, 'bad_request', 'Bad request'),
  // The operator CLI's own codes (CLI_ERROR_CODES): both mean exit code 2, "nothing was done,
  // fix the command line or the environment". Never sent over HTTP; the status only ranks them.
  usage: (message: string) => new AppError(400, 'usage_error', message),
  invalidConfig: (message: string) => new AppError(500, 'config_error', message)
} as const

/** 429 `rate_limited` with Retry-After (seconds, at least 1). */
export class RateLimitedError extends AppError {
  constructor (retryAfterSeconds: number, readonly firstInWindow: boolean) {
    super(429, 'rate_limited', 'Too many requests', { headers: { 'retry-after': String(Math.max(1, Math.ceil(retryAfterSeconds))) } })
  }
}

/** Errors of the OAuth2 token endpoint, which RFC 6749 §5.2 gives a shape of its own. */
export class OAuthError extends Error {
  // eslint-disable-next-line n/handle-callback-err -- `error` is the RFC 6749 error code, not a callback error
  constructor (readonly error: 'invalid_request' | 'invalid_grant' | 'unsupported_grant_type' | 'invalid_client' | 'mfa_required', readonly description: string, readonly statusCode = 400, readonly headers: Record<string, string> = {}, readonly extra: Record<string, string> = {}) {
    super(description)
    this.name = 'OAuthError'
  }
}

/**
 * The contract's answer to input refused before a handler runs (schema, NUL or lone surrogate,
 * unparsable, over 64 KiB, wrong content type), as RFC 6749 §5.2 words it: `invalid_request`,
 * keeping 413 and 415, which say more than a 400 would. Undefined for everything else: a rate
 * limit (429) or an outage (503) keeps the contract's shape, as API.md fixes it for every route.
 */
export function asOAuthInvalidRequest (error: AppError): OAuthError | undefined {
  switch (error.code) {
    case 'validation_error':
      return new OAuthError('invalid_request', 'Malformed token request')
    case 'invalid_json':
    case 'bad_request':
      return new OAuthError('invalid_request', error.message)
    case 'payload_too_large':
    case 'unsupported_media_type':
      return new OAuthError('invalid_request', error.message, error.statusCode)
    default:
      return undefined
  }
}
