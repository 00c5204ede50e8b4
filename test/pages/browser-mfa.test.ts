import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { Secret, TOTP } from 'otpauth'
import type { Page } from 'playwright-core'
import { assertAccessible, launchChromium, openPage, startPagesServer } from '../helpers/browser.js'
import { PASSWORD, signUp } from '../helpers/factories.js'

/** A TOTP code computed here from the secret the page showed, `stepsAhead` steps from now. */
function totpCode (secret: string, stepsAhead = 0): string {
  const totp = new TOTP({ secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30 })
  return totp.generate({ timestamp: Date.now() + stepsAhead * 30_000 })
}

/** Two-step verification and passkeys on the hosted pages, in Chromium. */
test('two-step verification and passkeys in a real browser', async (t) => {
  const browser = await launchChromium(t)
  if (!browser) return
  const { baseUrl, app } = await startPagesServer(t)

  async function signInWithPassword (page: Page, email: string): Promise<void> {
    await page.goto(`${baseUrl}/signin`)
    await page.getByLabel('Email').fill(email)
    await page.getByLabel('Password').fill(PASSWORD)
    await page.getByRole('button', { name: 'Sign in', exact: true }).click()
  }

  async function signOut (page: Page): Promise<void> {
    await page.goto(`${baseUrl}/account`)
    await page.locator('form[action="/account/signout"] button').click()
    await page.waitForURL(/notice=signed_out/)
  }

  await t.test('set up TOTP on /account, sign out, sign in with password and code, then with a recovery code', async () => {
    const user = await signUp(app)
    const { page, context, problems } = await openPage(browser, baseUrl)
    await signInWithPassword(page, user.email)
    await page.waitForURL(`${baseUrl}/account`)

    await page.getByLabel('Current password').first().waitFor()
    await page.locator('#f-setup-password').fill(PASSWORD)
    await page.getByRole('button', { name: 'Set up two-step verification' }).click()
    await page.getByRole('img', { name: 'QR code of the two-step verification key' }).waitFor()
    await assertAccessible(page, 'two-step set-up')
    const secret = (await page.locator('#totp-secret').textContent() ?? '').replace(/\s+/g, '')
    assert.match(secret, /^[A-Z2-7]{16,}$/)

    // A wrong code first: the error sits at the field and the QR code is still there.
    await page.getByLabel('Code from the app').fill(totpCode(secret) === '000000' ? '111111' : '000000')
    await page.getByRole('button', { name: 'Turn on two-step verification' }).click()
    await page.locator('#f-confirm-code-error').filter({ hasText: 'Invalid verification code' }).waitFor()
    await page.getByRole('img', { name: 'QR code of the two-step verification key' }).waitFor()

    await page.getByLabel('Code from the app').fill(totpCode(secret))
    await page.getByRole('button', { name: 'Turn on two-step verification' }).click()
    await page.getByRole('status').filter({ hasText: 'Two-step verification is on.' }).waitFor()
    const codes = await page.locator('#recovery-codes code').allTextContents()
    assert.equal(codes.length, 10)
    await assertAccessible(page, 'recovery codes')
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download the codes' }).click()])
    const file = readFileSync(await download.path(), 'utf8')
    for (const code of codes) assert.ok(file.includes(code))
    // Shown once: the account page no longer has them.
    await page.goto(`${baseUrl}/account`)
    assert.equal(await page.locator('#recovery-codes').count(), 0)
    await page.getByText('Signing in asks for a code').waitFor()

    await signOut(page)
    await signInWithPassword(page, user.email)
    await page.getByRole('heading', { name: 'Two-step verification' }).waitFor()
    assert.deepEqual((await context.cookies()).filter((c) => c.name === 'access_token'), [], 'no session before the second step')
    await assertAccessible(page, 'second step')
    await page.getByLabel('Verification code').fill(totpCode(secret, 1) === '123456' ? '654321' : '123456')
    await page.getByRole('button', { name: 'Verify' }).click()
    await page.locator('#f-code-error').filter({ hasText: 'Invalid verification code' }).waitFor()
    // The confirmation spent this step's code: the next step's is within the accepted drift.
    await page.getByLabel('Verification code').fill(totpCode(secret, 1))
    await page.getByRole('button', { name: 'Verify' }).click()
    await page.waitForURL(`${baseUrl}/account`)
    await page.locator('.session', { hasText: 'This device' }).getByText('Password and code').waitFor()

    await signOut(page)
    await signInWithPassword(page, user.email)
    await page.getByText('Use a recovery code instead').click()
    await page.getByLabel('Recovery code').fill(codes[3]!)
    await page.getByRole('button', { name: 'Use recovery code' }).click()
    await page.waitForURL(`${baseUrl}/account`)

    // A recovery code works once.
    await signOut(page)
    await signInWithPassword(page, user.email)
    await page.getByText('Use a recovery code instead').click()
    await page.getByLabel('Recovery code').fill(codes[3]!)
    await page.getByRole('button', { name: 'Use recovery code' }).click()
    await page.locator('#f-recovery-code-error').filter({ hasText: 'Invalid verification code' }).waitFor()
    assert.deepEqual(problems, [])
    await context.close()
  })

  await t.test('add a passkey on /account and sign in with it (virtual authenticator)', async () => {
    const user = await signUp(app)
    const { page, context, problems } = await openPage(browser, baseUrl)
    const cdp = await context.newCDPSession(page)
    await cdp.send('WebAuthn.enable')
    await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true }
    })
    await signInWithPassword(page, user.email)
    await page.waitForURL(`${baseUrl}/account`)
    await page.getByLabel(/Name of the new passkey/).fill('Test laptop')
    await page.getByRole('button', { name: 'Add a passkey' }).click()
    await page.waitForURL(/notice=passkey_added/)
    await page.locator('.passkeys li', { hasText: 'Test laptop' }).waitFor()
    await assertAccessible(page, 'account with a passkey')

    const item = page.locator('.passkeys li', { hasText: 'Test laptop' })
    await item.getByLabel('New name for Test laptop').fill('Renamed laptop')
    await item.getByRole('button', { name: 'Rename' }).click()
    await page.waitForURL(/notice=passkey_renamed/)
    await page.locator('.passkeys li', { hasText: 'Renamed laptop' }).waitFor()

    await signOut(page)
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click()
    await page.waitForURL(`${baseUrl}/account`)
    await page.getByText(`Signed in as ${user.email}`).waitFor()
    await page.locator('.session', { hasText: 'This device' }).getByText('Passkey').waitFor()

    await page.getByRole('button', { name: 'Remove passkey Renamed laptop' }).click()
    await page.waitForURL(/notice=passkey_removed/)
    assert.equal(await page.locator('.passkeys li').count(), 0)
    // The removed passkey no longer signs in.
    await signOut(page)
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click()
    await page.locator('#passkey-error').filter({ hasText: 'Passkey not recognised' }).waitFor()
    assert.deepEqual(problems, [])
    await context.close()
  })
})
