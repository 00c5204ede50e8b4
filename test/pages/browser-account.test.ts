import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import type { Page } from 'playwright-core'
import { assertAccessible, launchChromium, openPage, startPagesServer } from '../helpers/browser.js'
import { PASSWORD, signUp } from '../helpers/factories.js'

/** The account page in Chromium: sessions of another browser, return_to, sign out everywhere. */
test('account page and return_to in a real browser', async (t) => {
  const browser = await launchChromium(t)
  if (!browser) return
  // The "application" that sends users to the sign-in page: an allowed origin of its own.
  const appServer = createServer((_request, response) => { response.end('<!doctype html><title>app</title><p>back in the app</p>') })
  await new Promise<void>((resolve) => appServer.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise<void>((resolve) => appServer.close(() => resolve())))
  const appOrigin = `http://127.0.0.1:${(appServer.address() as AddressInfo).port}`
  const server = await startPagesServer(t, {}, { extraAllowedOrigins: [appOrigin] })
  const { baseUrl, app } = server

  async function signIn (page: Page, email: string, path = '/signin'): Promise<void> {
    await page.goto(`${baseUrl}${path}`)
    await page.getByLabel('Email').fill(email)
    await page.getByLabel('Password').fill(PASSWORD)
    await page.getByRole('button', { name: 'Sign in', exact: true }).click()
  }

  await t.test('the account page revokes the session of another browser', async () => {
    const user = await signUp(app, { name: 'Grace' })
    const first = await openPage(browser, baseUrl, { userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36' })
    const second = await openPage(browser, baseUrl, { userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:140.0) Gecko/20100101 Firefox/140.0' })
    await signIn(first.page, user.email)
    await first.page.waitForURL(`${baseUrl}/account`)
    await signIn(second.page, user.email)
    await second.page.waitForURL(`${baseUrl}/account`)

    await first.page.reload()
    await assertAccessible(first.page, 'account page')
    const other = first.page.locator('.session', { hasText: 'Firefox on Windows' })
    await other.waitFor()
    assert.equal(await other.getByText('This device').count(), 0)
    assert.match(await other.textContent() ?? '', /127\.0\.0\.1/)
    assert.match(await other.textContent() ?? '', /Password/)
    await first.page.locator('.session', { hasText: 'Chrome on Linux' }).getByText('This device').waitFor()
    await other.getByRole('button', { name: /Sign out Firefox on Windows/ }).click()
    await first.page.getByRole('status').filter({ hasText: 'The session was signed out.' }).waitFor()
    assert.equal(await first.page.locator('.session', { hasText: 'Firefox on Windows' }).count(), 0)

    // The other browser's cookie is refused on its very next request.
    await second.page.goto(`${baseUrl}/account`)
    await second.page.waitForURL(/\/signin\?return_to=%2Faccount/)
    await second.page.getByRole('status').filter({ hasText: 'Sign in to continue.' }).waitFor()
    // The first is still signed in, until "sign out everywhere".
    await first.page.goto(`${baseUrl}/account`)
    await first.page.getByRole('button', { name: 'Sign out everywhere' }).click()
    await first.page.waitForURL(/notice=signed_out_everywhere/)
    await first.page.goto(`${baseUrl}/account`)
    await first.page.waitForURL(/\/signin/)
    assert.deepEqual([...first.problems, ...second.problems], [])
    await first.context.close()
    await second.context.close()
  })

  await t.test('return_to is honoured for an allowed origin', async () => {
    const user = await signUp(app)
    const { page, context, problems } = await openPage(browser, baseUrl, { allowOrigins: [appOrigin] })
    await signIn(page, user.email, `/signin?return_to=${encodeURIComponent(`${appOrigin}/welcome?from=signin`)}`)
    await page.waitForURL(`${appOrigin}/welcome?from=signin`)
    await page.getByText('back in the app').waitFor()
    assert.deepEqual(problems, [])
    await context.close()
  })

  await t.test('return_to to a foreign origin lands on /account', async () => {
    const user = await signUp(app)
    for (const target of ['https://evil.example/steal', '//evil.example/', 'javascript:alert(1)', '/\\evil.example', `${appOrigin}@evil.example/`]) {
      const { page, context, problems } = await openPage(browser, baseUrl)
      await signIn(page, user.email, `/signin?return_to=${encodeURIComponent(target)}`)
      await page.waitForURL(`${baseUrl}/account`)
      assert.deepEqual(problems, [], target)
      await context.close()
    }
  })
})
