import type { FastifyPluginAsync } from 'fastify'
import type { TokenSigner } from './jwt.js'
import { JWKS_MAX_AGE_SECONDS } from './key-timeline.js'

/** GET /.well-known/jwks.json: the public keys that verify access tokens. */
export const jwksRoutes: FastifyPluginAsync<{ signer: TokenSigner }> = async (app, { signer }) => {
  app.get('/.well-known/jwks.json', {
    schema: { tags: ['operations'], summary: 'Public keys that verify access tokens', operationId: 'jwks' }
  }, async (_request, reply) => {
    // Key rotation publishes a key this long before it signs (see key-timeline.ts).
    reply.header('cache-control', `public, max-age=${JWKS_MAX_AGE_SECONDS}`)
    return signer.jwks()
  })
}
