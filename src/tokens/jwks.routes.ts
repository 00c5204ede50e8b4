import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsync } from 'fastify'
import type { TokenSigner } from './jwt.js'
import { JWKS_MAX_AGE_SECONDS } from './key-timeline.js'

const Jwk = Type.Object({
  kty: Type.String({ description: '`OKP` (Ed25519) or `RSA`' }),
  kid: Type.String(),
  alg: Type.String({ description: '`EdDSA` or `RS256`' }),
  use: Type.Literal('sig'),
  crv: Type.Optional(Type.String()),
  x: Type.Optional(Type.String()),
  n: Type.Optional(Type.String()),
  e: Type.Optional(Type.String())
}, { title: 'Jwk' })

/** RFC 7517 key set, public halves only: the schema is also the output whitelist. */
const Jwks = Type.Object({ keys: Type.Array(Jwk) }, { title: 'Jwks' })

/** GET /.well-known/jwks.json: the public keys that verify access tokens. */
export const jwksRoutes: FastifyPluginAsync<{ signer: TokenSigner }> = async (app, { signer }) => {
  app.get('/.well-known/jwks.json', {
    schema: {
      tags: ['operations'],
      summary: 'Public keys that verify access tokens',
      description: 'A new key appears here before it signs anything, and a retired one stays until its tokens have expired: a verifier that caches this for its `max-age` never meets an unknown `kid`.',
      operationId: 'jwks',
      response: { 200: { ...Jwks, description: 'The key set (empty when tokens are signed with a shared HS256 secret)' } }
    }
  }, async (_request, reply) => {
    // Key rotation publishes a key this long before it signs (see key-timeline.ts).
    reply.header('cache-control', `public, max-age=${JWKS_MAX_AGE_SECONDS}`)
    return signer.jwks()
  })
}
