import { join } from 'node:path'
import { Eta } from 'eta'
import type { FastifyReply } from 'fastify'
import type { Config } from '../config/index.js'
import { PAGES_RESOURCES } from './page-assets.js'

/** What every template receives besides its own data. */
export interface PageFrame {
  title: string
  csrfToken: string
  /** Module scripts of this page, under /assets/. */
  scripts?: string[]
  /** Signed-in pages show the sign-out link in the header. */
  signedIn?: boolean
}

export interface FormState {
  values?: Record<string, string | undefined>
  /** Messages by field name, shown next to the field. */
  errors?: Record<string, string>
  /** A message about the whole form, announced (role="alert"). */
  alert?: string
  /** A success message, announced politely (role="status"). */
  notice?: string
}

export type Renderer = (reply: FastifyReply, template: string, data: PageFrame & FormState & Record<string, unknown>, status?: number) => FastifyReply

/**
 * Renders the pages with Eta, which HTML-escapes every `<%= %>` (autoEscape); raw output
 * (`<%~ %>`) is kept for the layout, partials and the server-made QR code SVG. Each page
 * carries its own strict policy: scripts and styles from this origin only (no inline
 * script or style, so no nonce is needed), forms posting to this origin (and, through
 * the sign-in redirect, the allowed origins), nothing framed, no referrer, never cached.
 */
export function createRenderer (config: Config, stylesheet: string): Renderer {
  const eta = new Eta({ views: join(PAGES_RESOURCES, 'templates'), autoEscape: true, cache: true })
  const logoOrigin = config.pages.logoUrl && /^https?:/.test(config.pages.logoUrl) ? ` ${new URL(config.pages.logoUrl).origin}` : ''
  const formTargets = [...new Set(config.allowedOrigins)].join(' ')
  const policy = [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src 'self'${logoOrigin}`,
    "connect-src 'self'",
    `form-action 'self' ${formTargets}`,
    "frame-ancestors 'none'",
    "base-uri 'none'"
  ].join('; ')
  const product = { name: config.pages.productName, logoUrl: config.pages.logoUrl }
  return (reply, template, data, status = 200) => {
    const html = eta.render(`./${template}`, { product, stylesheet: `/assets/${stylesheet}`, minLength: config.password.minLength, values: {}, errors: {}, scripts: [], forms: {}, ...data })
    return reply.code(status)
      .header('content-type', 'text/html; charset=utf-8')
      .header('content-security-policy', policy)
      .header('referrer-policy', 'no-referrer')
      // Every page holds a CSRF token, most hold account data or a token from a link.
      .header('cache-control', 'no-store')
      .header('pragma', 'no-cache')
      .send(html)
  }
}
