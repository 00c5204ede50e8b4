import type { FastifyReply, FastifyRequest } from 'fastify'
import type { SessionLiveness } from './session-liveness.js'
import type { TokenSigner } from '../tokens/jwt.js'
import type { UserDto } from '../users/users.schemas.js'
import { bearerToken } from '../http/bearer.js'
import { Errors } from '../http/errors.js'

export interface RequestAuth {
  user: UserDto
  sessionId: string
  /** True when the token came from the cookie: such requests need the CSRF check. */
  viaCookie: boolean
}

declare module 'fastify' {
  interface FastifyRequest {
    auth: RequestAuth | null
  }
}

export const ACCESS_COOKIE = 'access_token'
export const REFRESH_COOKIE = 'refresh_token'

/** The bearer token if an Authorization header is present, else the access cookie. */
export function readAccessToken (request: FastifyRequest): { token: string, viaCookie: boolean } | undefined {
  const header = request.headers.authorization
  if (header !== undefined) {
    return { token: bearerToken(header), viaCookie: false }
  }
  const cookie = request.cookies[ACCESS_COOKIE]
  return cookie ? { token: cookie, viaCookie: true } : undefined
}

export type Authenticate = (request: FastifyRequest, reply: FastifyReply) => Promise<void>

/**
 * The guard of every protected route: a valid signature is not enough, the session must
 * still be live (not logged out, not revoked, user not deleted) on every request.
 */
export function createAuthenticate (deps: { signer: TokenSigner, liveness: SessionLiveness }): Authenticate {
  return async function authenticate (request) {
    const presented = readAccessToken(request)
    if (!presented) throw Errors.notAuthenticated()
    const claims = await deps.signer.verifyAccessToken(presented.token)
    if (!claims) throw Errors.invalidToken()
    const live = await deps.liveness.check(claims.sid)
    if (!live || live.user.id !== claims.sub) throw Errors.invalidToken()
    if (!live.user.is_active) throw Errors.inactiveUser()
    request.auth = { user: live.user, sessionId: claims.sid, viaCookie: presented.viaCookie }
  }
}

/** For handlers behind `authenticate`: the auth it established. */
export function authOf (request: FastifyRequest): RequestAuth {
  if (!request.auth) throw Errors.notAuthenticated()
  return request.auth
}
