import type { IncomingMessage, ServerResponse } from 'node:http'
import cors from '@fastify/cors'
import helmet from 'helmet'
import type { FastifyInstance } from 'fastify'
import type { Config } from '../config/index.js'

type Headers = readonly (readonly [name: string, value: string])[]

/** The headers a helmet middleware sets: its policies are fixed, so they are read once. */
function headersOf (middleware: ReturnType<typeof helmet>): Headers {
  const headers: [string, string][] = []
  const response = {
    setHeader: (name: string, value: string | number) => { headers.push([name.toLowerCase(), String(value)]) },
    removeHeader: () => {}
  }
  let failed: unknown
  middleware({} as IncomingMessage, response as unknown as ServerResponse, (error?: unknown) => { failed = error })
  if (failed) throw failed
  return headers
}

export interface SecurityHeaders {
  /** On every response (the API's JSON). */
  readonly api: Headers
  /** Added to HTML responses only. */
  readonly documentOnly: Headers
  /**
   * The API headers as a plain record, for the few answers written before any hook runs
   * (pre-routing errors on the raw socket, JSON). They depend on the configuration only.
   */
  readonly fixed: Readonly<Record<string, string>>
}

/**
 * Security headers, decided per response:
 *
 * - Every response (the API's JSON): `X-Content-Type-Options: nosniff`, a deny-all CSP with
 *   `frame-ancestors 'none'`, `X-Frame-Options`, `Referrer-Policy: no-referrer`, and HSTS over
 *   https, the set OWASP's REST Security Cheat Sheet lists for APIs and SECURITY.md promises.
 *   Token responses add `Cache-Control: no-store` themselves (auth routes).
 * - HTML (the docs, hosted pages) also gets the headers that only mean something to a document
 *   a browser renders: Cross-Origin-Opener-Policy, Cross-Origin-Resource-Policy,
 *   Origin-Agent-Cluster, X-DNS-Prefetch-Control, X-Download-Options,
 *   X-Permitted-Cross-Domain-Policies and X-XSS-Protection: 0. A page that sets its own
 *   value of any of these (its CSP, say) keeps it.
 *
 * The values come from helmet, computed once here: running its middleware on every request
 * cost a measurable share of a cached GET /me.
 */
export function createSecurityHeaders (config: Config): SecurityHeaders {
  const https = config.publicUrl.startsWith('https:')
  const common = {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"], baseUri: ["'none'"], formAction: ["'none'"] }
    },
    // HSTS only means something over https; sent over http it would be ignored anyway.
    strictTransportSecurity: https ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    referrerPolicy: { policy: 'no-referrer' as const },
    // DENY, as `frame-ancestors 'none'` says to browsers that read CSP (helmet's default,
    // SAMEORIGIN, would let a page of this origin frame the service in older ones).
    xFrameOptions: { action: 'deny' as const }
  }
  const api = headersOf(helmet({
    ...common,
    // Document-only headers: a JSON body is never rendered, framed, opened as a window or
    // prefetched from, and nosniff with application/json already keeps browsers from
    // reading it cross-origin as a script, style or image.
    crossOriginOpenerPolicy: false,
    crossOriginResourcePolicy: false,
    originAgentCluster: false,
    xDnsPrefetchControl: false,
    xDownloadOptions: false,
    xPermittedCrossDomainPolicies: false,
    xXssProtection: false
  }))
  const apiNames = new Set(api.map(([name]) => name))
  const documentOnly = headersOf(helmet({ ...common, crossOriginResourcePolicy: { policy: 'same-origin' } }))
    .filter(([name]) => !apiNames.has(name))
  return { api, documentOnly, fixed: Object.freeze(Object.fromEntries(api)) }
}

/** Applies `headers` to every response (see `createSecurityHeaders`), and CORS for the configured origins. */
export async function registerSecurityHeaders (app: FastifyInstance, config: Config, headers = createSecurityHeaders(config)): Promise<void> {
  const { api, documentOnly } = headers
  // onSend, so that the content type is known and errors get the same headers as successes.
  app.addHook('onSend', (_request, reply, payload, done) => {
    for (const [name, value] of api) if (!reply.hasHeader(name)) reply.header(name, value)
    const type = reply.getHeader('content-type')
    if (typeof type === 'string' && type.startsWith('text/html')) {
      for (const [name, value] of documentOnly) if (!reply.hasHeader(name)) reply.header(name, value)
    }
    done(null, payload)
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
