import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import type { TestContext } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { type Browser, type BrowserContext, type BrowserContextOptions, chromium, type Page } from 'playwright-core'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config/index.js'
import { TEST_ENV, type TestEnv } from './build-test-app.js'
import { mailEnv, startSmtpServer, type TestSmtpServer } from './smtp-server.js'
import { createTestDatabaseUrl } from './test-db.js'

/** Debian's Chromium (`apt-get install -y chromium`); a browser is never downloaded. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'
]

export const DESKTOP = { width: 1280, height: 900 }
export const PHONE = { width: 390, height: 844 }

/** A free TCP port on 127.0.0.1 (PUBLIC_URL must name the port before the app is built). */
export async function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

export interface PagesServer {
  app: FastifyInstance
  /** http://localhost:<port>: browsers accept no IP address as a WebAuthn relying party id. */
  baseUrl: string
  smtp: TestSmtpServer
}

/**
 * The service listening on 127.0.0.1 with PUBLIC_URL http://localhost:<port>, delivering its
 * mail to a real SMTP sink. Closed when the test ends.
 */
export async function startPagesServer (t: Pick<TestContext, 'after'>, env: TestEnv = {}, options: { extraAllowedOrigins?: string[] } = {}): Promise<PagesServer> {
  const smtp = await startSmtpServer(t)
  const built: { app?: FastifyInstance } = {}
  t.after(() => built.app?.close())
  const databaseUrl = await createTestDatabaseUrl(t)
  const port = await freePort()
  const baseUrl = `http://localhost:${port}`
  const config = loadConfig({ ...TEST_ENV, ...mailEnv(smtp), PUBLIC_URL: baseUrl, ALLOWED_ORIGINS: [baseUrl, ...(options.extraAllowedOrigins ?? [])].join(','), ...env, DATABASE_URL: databaseUrl, HOST: '127.0.0.1', PORT: String(port) })
  built.app = await buildApp(config)
  await built.app.listen({ host: '127.0.0.1', port })
  return { app: built.app, baseUrl, smtp }
}

/**
 * One headless Chromium per test file (each journey opens its own context: a fresh profile
 * with no cookies). Without Chromium the file is skipped, except under CI=true, where a
 * missing browser fails the run.
 */
export async function launchChromium (t: TestContext): Promise<Browser | undefined> {
  if (!existsSync(CHROMIUM)) {
    if (process.env.CI === 'true') throw new Error(`CI=true but Chromium is missing at ${CHROMIUM} (apt-get install -y chromium)`)
    t.skip(`Chromium not found at ${CHROMIUM}`)
    return undefined
  }
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS })
  t.after(() => browser.close())
  return browser
}

export interface WatchedPage {
  page: Page
  context: BrowserContext
  /** Content-Security-Policy violations and requests to another origin seen so far. */
  problems: string[]
}

/**
 * A page in a fresh context that records what the pages must never do: break their own CSP
 * (a refused inline script or style shows up as a console error) or contact another origin.
 */
export async function openPage (browser: Browser, baseUrl: string, options: BrowserContextOptions & { allowOrigins?: string[] } = {}): Promise<WatchedPage> {
  const { allowOrigins = [], ...contextOptions } = options
  const context = await browser.newContext({ viewport: DESKTOP, ...contextOptions })
  const page = await context.newPage()
  const problems: string[] = []
  const origins = new Set([new URL(baseUrl).origin, ...allowOrigins])
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy|Refused to/i.test(message.text())) problems.push(`CSP: ${message.text()}`)
  })
  page.on('request', (request) => {
    const url = new URL(request.url())
    if (url.protocol.startsWith('http') && !origins.has(url.origin)) problems.push(`request to another origin: ${request.url()}`)
  })
  return { page, context, problems }
}

const AXE_SOURCE = readFileSync(new URL('../../node_modules/axe-core/axe.min.js', import.meta.url), 'utf8')

/**
 * Runs axe-core in the page (WCAG 2.0–2.2 A and AA rules) and fails on any serious or
 * critical violation. Evaluated through the DevTools protocol, so the page's CSP (which
 * allows no inline script) stays in force for the page itself.
 */
export async function assertAccessible (page: Page, label = page.url()): Promise<void> {
  await page.evaluate(AXE_SOURCE)
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run: (context: unknown, options: unknown) => Promise<{ violations: Array<{ id: string, impact: string | null, help: string, nodes: Array<{ target: unknown }> }> }> } }).axe
    const result = await axe.run((globalThis as unknown as { document: unknown }).document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] } })
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => JSON.stringify(n.target)) }))
  })
  const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
  assert.deepEqual(serious, [], `accessibility violations on ${label}`)
}

/** The hidden CSRF token of the page's forms (for tests that post outside the browser). */
export async function csrfTokenOf (page: Page): Promise<string> {
  return page.locator('input[name="csrf_token"]').first().inputValue()
}
