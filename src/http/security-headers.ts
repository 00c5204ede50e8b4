import cors from '@fastify/cors'
import type { IncomingMessage, ServerResponse } from 'node:http'
import helmet from 'helmet'
import type { FastifyInstance } from 'fastify'
import type { Config } from '../config/index.js'

type HeaderMiddleware = (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void

export interface SecurityHeaders {
  readonly middleware: HeaderMiddleware
  /**
   * The same headers as a plain record, for the few answers written before any hook runs
   * (pre-routing errors on the raw socket). They depend on the configuration only.
   */
  readonly fixed: Readonly<Record<string, string>>
}

/** Builds the policy once (see below); `registerSecurityHeaders` applies it to every response. */
export function createSecurityHeaders (config: Config): SecurityHeaders {
  const https = config.publicUrl.startsWith('https:')
  const middleware = helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"], baseUri: ["'none'"], formAction: ["'none'"] }
    },
    // HSTS only means something over https; sent over http it would be ignored anyway.
    strictTransportSecurity: https ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    referrerPolicy: { policy: 'no-referrer' },
    crossOriginResourcePolicy: { policy: 'same-origin' }
  }) as HeaderMiddleware
  const fixed: Record<string, string> = {}
  const recorder = {
    setHeader: (name: string, value: unknown) => { fixed[name.toLowerCase()] = String(value) },
    removeHeader: (name: string) => { delete fixed[name.toLowerCase()] }
  }
  middleware({} as IncomingMessage, recorder as unknown as ServerResponse, () => {})
  return { middleware, fixed: Object.freeze(fixed) }
}

/**
 * Security headers on every response and CORS for the configured origins. The API serves
 * JSON only, so its policy forbids everything a document could load or frame; /docs gets
 * the looser policy Swagger UI needs from its own plugin (see openapi.ts).
 */
export async function registerSecurityHeaders (app: FastifyInstance, config: Config, headers = createSecurityHeaders(config)): Promise<void> {
  // Helmet's middleware is built once (createSecurityHeaders): its Fastify wrapper rebuilds it
  // (parsing the policy again) on every request, a measurable share of the cost of a cached GET /me.
  const setSecurityHeaders = headers.middleware
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
