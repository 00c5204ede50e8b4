import cors from '@fastify/cors'
import helmet from 'helmet'
import type { FastifyInstance } from 'fastify'
import type { Config } from '../config/index.js'

/**
 * Security headers on every response and CORS for the configured origins. The API serves
 * JSON only, so its policy forbids everything a document could load or frame; /docs gets
 * the looser policy Swagger UI needs from its own plugin (see openapi.ts).
 */
export async function registerSecurityHeaders (app: FastifyInstance, config: Config): Promise<void> {
  const https = config.publicUrl.startsWith('https:')
  // Helmet's middleware is built once, here: its Fastify wrapper rebuilds it (parsing the
  // policy again) on every request, a measurable share of the cost of a cached GET /me.
  const setSecurityHeaders = helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"], baseUri: ["'none'"], formAction: ["'none'"] }
    },
    // HSTS only means something over https; sent over http it would be ignored anyway.
    strictTransportSecurity: https ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    referrerPolicy: { policy: 'no-referrer' },
    crossOriginResourcePolicy: { policy: 'same-origin' }
  })
  app.addHook('onRequest', (request, reply, done) => {
    setSecurityHeaders(request.raw, reply.raw, (error?: unknown) => { done(error instanceof Error ? error : undefined) })
  })
  // Credentials (cookies) are allowed, so the origin list must be explicit: never "*" or a reflection.
  await app.register(cors, {
    origin: [...config.allowedOrigins],
    credentials: true,
    methods: ['GET', 'POST', 'PATCH', 'DELETE'],
    allowedHeaders: ['content-type', 'authorization', 'x-request-id'],
    exposedHeaders: ['x-request-id', 'retry-after', 'www-authenticate'],
    maxAge: 600
  })
}
