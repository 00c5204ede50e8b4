// Screenshots of every hosted page at desktop and phone width, into docs/screenshots/.
// Runs the service on a throw-away SQLite database with a real SMTP sink and drives Debian's
// Chromium, as the browser tests do:  npm run screenshots
import { mkdirSync } from 'node:fs'
import { Secret, TOTP } from 'otpauth'
import type { Page } from 'playwright-core'
import { DESKTOP, launchChromium, openPage, PHONE, startPagesServer } from '../test/helpers/browser.js'
import { PASSWORD } from '../test/helpers/factories.js'
import { tokenFrom } from '../test/helpers/smtp-server.js'

const OUT = new URL('../docs/screenshots/', import.meta.url)
mkdirSync(OUT, { recursive: true })

// The helpers expect a test context: collect its clean-ups and run them at the end.
const cleanups: Array<() => unknown> = []
const context = {
  after: (fn: () => unknown) => { cleanups.unshift(fn) },
  skip: (message?: string) => { throw new Error(message) }
} as unknown as import('node:test').TestContext

const browser = await launchChromium(context)
if (!browser) throw new Error('Chromium is needed')
const { baseUrl, smtp } = await startPagesServer(context, { PAGES_PRODUCT_NAME: 'Acme Accounts' })

const email = 'ada@example.com'
const shots: Array<{ name: string, open: (page: Page) => Promise<void> }> = []
const shot = (name: string, open: (page: Page) => Promise<void>): void => { shots.push({ name, open }) }

// One browser session that signs up once; every page is then opened in it.
const { page: setup, context: setupContext } = await openPage(browser, baseUrl)
await setup.goto(`${baseUrl}/signup`)
await setup.getByLabel('Email').fill(email)
await setup.getByLabel('Username').fill('ada')
await setup.getByLabel(/^Name/).fill('Ada Lovelace')
await setup.getByLabel('Password', { exact: true }).fill(PASSWORD)
await setup.getByRole('button', { name: 'Create account' }).click()
await setup.waitForURL(`${baseUrl}/account`)
const [welcome] = await smtp.waitForMail(email, 'Welcome! Please verify your email')
const verifyToken = tokenFrom(welcome!, 'verify-email')
const cookies = await setupContext.cookies()
await setupContext.close()

shot('signin', async (page) => { await page.goto(`${baseUrl}/signin`) })
shot('signin-error', async (page) => {
  await page.goto(`${baseUrl}/signin`)
  await page.getByLabel('Email').fill(email)
  await page.getByLabel('Password').fill('not my password')
  await page.getByRole('button', { name: 'Sign in', exact: true }).click()
  await page.getByRole('alert').first().waitFor()
})
shot('signup', async (page) => { await page.goto(`${baseUrl}/signup`) })
shot('forgot-password', async (page) => { await page.goto(`${baseUrl}/forgot-password`) })
shot('reset-password', async (page) => { await page.goto(`${baseUrl}/reset-password?token=${'x'.repeat(43)}`) })
shot('verify-email', async (page) => { await page.goto(`${baseUrl}/verify-email?token=${verifyToken}`) })
shot('account', async (page) => {
  await page.context().addCookies(cookies)
  await page.goto(`${baseUrl}/account`)
})

// The two-step pages need an account of their own each time (turning TOTP on happens once).
let accounts = 0
async function signUpAndOpenAccount (page: Page): Promise<string> {
  accounts += 1
  const address = `grace${accounts}@example.com`
  await page.goto(`${baseUrl}/signup`)
  await page.getByLabel('Email').fill(address)
  await page.getByLabel('Username').fill(`grace${accounts}`)
  await page.getByLabel(/^Name/).fill('Grace Hopper')
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD)
  await page.getByRole('button', { name: 'Create account' }).click()
  await page.waitForURL(`${baseUrl}/account`)
  return address
}
async function startTotpSetUp (page: Page): Promise<string> {
  await page.locator('#f-setup-password').fill(PASSWORD)
  await page.getByRole('button', { name: 'Set up two-step verification' }).click()
  await page.getByRole('img', { name: 'QR code of the two-step verification key' }).waitFor()
  return (await page.locator('#totp-secret').textContent() ?? '').replace(/\s+/g, '')
}
async function turnOnTotp (page: Page): Promise<void> {
  const secret = await startTotpSetUp(page)
  const code = new TOTP({ secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30 }).generate()
  await page.getByLabel('Code from the app').fill(code)
  await page.getByRole('button', { name: 'Turn on two-step verification' }).click()
  await page.locator('#recovery-codes').waitFor()
}
shot('totp-setup', async (page) => {
  await signUpAndOpenAccount(page)
  await startTotpSetUp(page)
})
shot('recovery-codes', async (page) => {
  await signUpAndOpenAccount(page)
  await turnOnTotp(page)
})
shot('signin-second-step', async (page) => {
  const address = await signUpAndOpenAccount(page)
  await turnOnTotp(page)
  await page.goto(`${baseUrl}/account`)
  await page.locator('form[action="/account/signout"] button').click()
  await page.waitForURL(/notice=signed_out/)
  await page.getByLabel('Email').fill(address)
  await page.getByLabel('Password').fill(PASSWORD)
  await page.getByRole('button', { name: 'Sign in', exact: true }).click()
  await page.getByRole('heading', { name: 'Two-step verification' }).waitFor()
})

for (const { name, open } of shots) {
  for (const [width, viewport] of [['desktop', DESKTOP], ['phone', PHONE]] as const) {
    const { page, context: pageContext } = await openPage(browser, baseUrl, { viewport, ...(width === 'phone' ? { isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : {}) })
    await open(page)
    const path = new URL(`${name}-${width}.png`, OUT)
    await page.screenshot({ path: path.pathname, fullPage: true })
    process.stdout.write(`docs/screenshots/${name}-${width}.png\n`)
    await pageContext.close()
  }
}

for (const cleanup of cleanups) await cleanup()
