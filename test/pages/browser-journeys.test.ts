import assert from 'node:assert/strict'
import { test } from 'node:test'
import { assertAccessible, launchChromium, openPage, startPagesServer } from '../helpers/browser.js'
import { PASSWORD, uniqueEmail, uniqueUsername } from '../helpers/factories.js'
import { tokenFrom } from '../helpers/smtp-server.js'

/** End-to-end journeys in Chromium: sign-up and verification, recovery, a wrong password, and all of it without JavaScript. */
test('hosted pages in a real browser: sign-up, verification, recovery', async (t) => {
  const browser = await launchChromium(t)
  if (!browser) return
  const server = await startPagesServer(t)
  const { baseUrl, smtp } = server

  async function signUpInBrowser (page: import('playwright-core').Page, email: string, username: string, password = PASSWORD): Promise<void> {
    await page.goto(`${baseUrl}/signup`)
    await page.getByLabel('Email').fill(email)
    await page.getByLabel('Username').fill(username)
    await page.getByLabel(/^Name/).fill('Ada Lovelace')
    await page.getByLabel('Password', { exact: true }).fill(password)
    await page.getByRole('button', { name: 'Create account' }).click()
    await page.waitForURL(`${baseUrl}/account`)
  }

  await t.test('sign up, receive the mail, follow the verification link', async () => {
    const { page, context, problems } = await openPage(browser, baseUrl)
    const email = uniqueEmail('signup')
    await page.goto(`${baseUrl}/signup`)
    await assertAccessible(page)
    await signUpInBrowser(page, email, uniqueUsername())
    await assert.doesNotReject(page.getByText('(not verified yet)').waitFor())
    await assertAccessible(page)

    const [mail] = await smtp.waitForMail(email, 'Welcome! Please verify your email')
    const token = tokenFrom(mail!, 'verify-email')
    await page.goto(`${baseUrl}/verify-email?token=${token}`)
    await assertAccessible(page)
    await page.getByRole('button', { name: 'Verify my email address' }).click()
    await page.getByRole('status').filter({ hasText: `${email} is verified.` }).waitFor()
    await page.goto(`${baseUrl}/account`)
    assert.equal(await page.getByText('(not verified yet)').count(), 0)

    // The link is single use: following it again says so.
    await page.goto(`${baseUrl}/verify-email?token=${token}`)
    await page.getByRole('button', { name: 'Verify my email address' }).click()
    assert.equal(await page.getByRole('alert').textContent(), 'Invalid or expired token')
    assert.deepEqual(problems, [])
    await context.close()
  })

  await t.test('forgot password, follow the reset link, set a new password, sign in', async () => {
    const { page, context, problems } = await openPage(browser, baseUrl)
    const email = uniqueEmail('reset')
    await signUpInBrowser(page, email, uniqueUsername())
    await context.clearCookies()

    await page.goto(`${baseUrl}/forgot-password`)
    await assertAccessible(page)
    await page.getByLabel('Email').fill(email)
    await page.getByRole('button', { name: 'Send reset link' }).click()
    await page.getByRole('status').filter({ hasText: 'If an account with that email exists, a password reset link has been sent' }).waitFor()

    const [mail] = await smtp.waitForMail(email, 'Reset your password')
    await page.goto(`${baseUrl}/reset-password?token=${tokenFrom(mail!, 'reset-password')}`)
    await assertAccessible(page)
    const newPassword = 'a completely different passphrase 7'
    await page.getByLabel('New password').fill(newPassword)
    await page.getByRole('button', { name: 'Set new password' }).click()
    await page.waitForURL(/\/signin\?notice=password_reset/)
    await page.getByRole('status').filter({ hasText: 'Your password was reset' }).waitFor()

    await page.getByLabel('Email').fill(email)
    await page.getByLabel('Password').fill(newPassword)
    await page.getByRole('button', { name: 'Sign in', exact: true }).click()
    await page.waitForURL(`${baseUrl}/account`)
    await page.getByText(`Signed in as ${email}`).waitFor()
    assert.deepEqual(problems, [])
    await context.close()
  })

  await t.test('a wrong password shows the error next to the form, announced', async () => {
    const { page, context, problems } = await openPage(browser, baseUrl)
    const email = uniqueEmail('wrong')
    await signUpInBrowser(page, email, uniqueUsername())
    await context.clearCookies()
    await page.goto(`${baseUrl}/signin`)
    await assertAccessible(page)
    // Keyboard: the email field has focus, Tab follows the visual order, focus is visible.
    const focused = () => page.evaluate(() => {
      const element = (globalThis as unknown as { document: { activeElement: { id: string, textContent: string } & object } }).document.activeElement
      const style = (globalThis as unknown as { getComputedStyle: (e: object) => { outlineStyle: string, outlineWidth: string } }).getComputedStyle(element)
      return { id: element.id || element.textContent.trim(), outline: `${style.outlineStyle} ${style.outlineWidth}` }
    })
    assert.equal((await focused()).id, 'f-email')
    await page.keyboard.press('Tab')
    assert.deepEqual(await focused(), { id: 'f-password', outline: 'solid 3px' })
    await page.keyboard.press('Tab')
    assert.deepEqual(await focused(), { id: 'Sign in', outline: 'solid 3px' })
    await page.getByLabel('Email').fill(email)
    await page.getByLabel('Password').fill('not the password at all')
    await page.getByRole('button', { name: 'Sign in', exact: true }).click()
    const alert = page.getByRole('alert').filter({ hasText: 'Invalid email or password' })
    await alert.waitFor()
    assert.equal(new URL(page.url()).pathname, '/signin')
    // The email is kept, the password is not.
    assert.equal(await page.getByLabel('Email').inputValue(), email)
    assert.equal(await page.getByLabel('Password').inputValue(), '')
    await assertAccessible(page, 'sign-in with an error')
    assert.deepEqual((await context.cookies()).filter((c) => c.name === 'access_token'), [])
    assert.deepEqual(problems, [])
    await context.close()
  })

  await t.test('the pages work with JavaScript disabled', async () => {
    const { page, context, problems } = await openPage(browser, baseUrl, { javaScriptEnabled: false })
    const email = uniqueEmail('nojs')
    await signUpInBrowser(page, email, uniqueUsername())
    // The passkey button needs JavaScript, so it stays hidden.
    await page.goto(`${baseUrl}/signin`)
    assert.equal(await page.getByRole('button', { name: 'Sign in with a passkey' }).isVisible(), false)
    await page.goto(`${baseUrl}/account`)
    await page.getByText('Adding a passkey needs JavaScript.').waitFor()
    assert.equal(await page.getByRole('button', { name: 'Add a passkey' }).isVisible(), false)
    await page.locator('#f-name').fill('Renamed Without Script')
    await page.getByRole('button', { name: 'Save profile' }).click()
    await page.getByRole('status').filter({ hasText: 'Your profile was saved.' }).waitFor()
    assert.equal(await page.locator('#f-name').inputValue(), 'Renamed Without Script')

    await page.getByRole('button', { name: 'Sign out', exact: true }).last().click()
    await page.waitForURL(/\/signin\?notice=signed_out/)
    await page.goto(`${baseUrl}/account`)
    await page.waitForURL(/\/signin/)

    await page.getByLabel('Email').fill(email)
    await page.getByLabel('Password').fill(PASSWORD)
    await page.getByRole('button', { name: 'Sign in', exact: true }).click()
    await page.waitForURL(`${baseUrl}/account`)

    await page.locator('#f-old-password').fill(PASSWORD)
    await page.locator('#f-new-password').fill('short')
    await page.getByRole('button', { name: 'Change password' }).click()
    await page.getByText('Password must be at least 8 characters').first().waitFor()

    await page.goto(`${baseUrl}/forgot-password`)
    await page.getByLabel('Email').fill(email)
    await page.getByRole('button', { name: 'Send reset link' }).click()
    await page.getByRole('status').filter({ hasText: 'a password reset link has been sent' }).waitFor()
    const [mail] = await smtp.waitForMail(email, 'Reset your password')
    await page.goto(`${baseUrl}/reset-password?token=${tokenFrom(mail!, 'reset-password')}`)
    await page.getByLabel('New password').fill('yet another fine passphrase 9')
    await page.getByRole('button', { name: 'Set new password' }).click()
    await page.waitForURL(/\/signin\?notice=password_reset/)
    assert.deepEqual(problems, [])
    await context.close()
  })
})
