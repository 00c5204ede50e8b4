import { escapeHtml } from './escape-html.js'

export interface RenderedMail { subject: string, text: string, html: string }

/** The templates the service sends; the outbox stores the name next to each mail. */
export type TemplateName =
  | 'welcome' | 'verify_email' | 'password_reset' | 'password_changed' | 'email_verified' | 'email_changed'
  | 'account_exists' | 'username_taken'
  | 'mfa_enabled' | 'mfa_disabled' | 'mfa_reset' | 'mfa_recovery_codes_regenerated' | 'passkey_added' | 'passkey_removed'

function greeting (name: string | null): string {
  return name ? `Hello ${name},` : 'Hello,'
}

/**
 * Plain text and HTML from the same paragraphs. Paragraphs are text: every one is escaped for
 * HTML, and a link is given separately so only its URL (built by us) becomes an href.
 */
function compose (subject: string, name: string | null, paragraphs: string[], link?: { label: string, url: string }, after: string[] = []): RenderedMail {
  const textParts = [greeting(name), ...paragraphs, ...(link ? [`${link.label}:\n${link.url}`] : []), ...after]
  const htmlParagraphs = [greeting(name), ...paragraphs].map((p) => `<p>${escapeHtml(p)}</p>`)
  if (link) htmlParagraphs.push(`<p><a href="${escapeHtml(link.url)}">${escapeHtml(link.label)}</a></p>`)
  htmlParagraphs.push(...after.map((p) => `<p>${escapeHtml(p)}</p>`))
  return {
    subject,
    text: textParts.join('\n\n') + '\n',
    html: `<!doctype html><html><body>${htmlParagraphs.join('')}</body></html>`
  }
}

/** "45 minutes", "1 hour", "48 hours" */
function hours (seconds: number): string {
  if (seconds < 3600) {
    const m = Math.max(1, Math.round(seconds / 60))
    return m === 1 ? '1 minute' : `${m} minutes`
  }
  const h = Math.round(seconds / 360) / 10
  return h === 1 ? '1 hour' : `${h} hours`
}

export const templates = {
  // Welcome and verification mail go to an address nobody has proven yet: they carry no
  // text the person signing up chose (no name, no username), since that person may not own
  // the address and could otherwise write inside our trusted template.
  welcome: (a: { verifyUrl: string, ttlSeconds: number }) => compose(
    'Welcome! Please verify your email',
    null,
    ['Your account has been created. Please confirm that this address is yours.'],
    { label: 'Verify your email', url: a.verifyUrl },
    [`The link is valid for ${hours(a.ttlSeconds)}. If you did not sign up, ignore this email.`]),

  verify_email: (a: { verifyUrl: string, ttlSeconds: number }) => compose(
    'Verify your email',
    null,
    ['Please confirm that this address is yours.'],
    { label: 'Verify your email', url: a.verifyUrl },
    [`The link is valid for ${hours(a.ttlSeconds)}. If you did not ask for it, ignore this email.`]),

  password_reset: (a: { name: string | null, resetUrl: string, ttlSeconds: number }) => compose(
    'Reset your password',
    a.name,
    ['Someone (hopefully you) asked to reset the password of your account.'],
    { label: 'Choose a new password', url: a.resetUrl },
    [`The link is valid for ${hours(a.ttlSeconds)} and works once. If you did not ask for it, ignore this email: your password stays as it is.`]),

  password_changed: (a: { name: string | null, forgotUrl: string }) => compose(
    'Your password was changed',
    a.name,
    ['The password of your account was just changed, and every session was signed out.',
      'If this wasn\'t you, reset your password right away and review your account.'],
    { label: 'Reset your password', url: a.forgotUrl }),

  // Sent to the address the account had before: the one its owner still reads. The new
  // address is not named (it may be an attacker's, and this mail must not help them).
  email_changed: (a: { name: string | null }) => compose(
    'The email address of your account was changed',
    a.name,
    ['An administrator just changed the email address of your account: sign-in and mail now use the new address, and this one no longer reaches the account.',
      'If you did not ask for this, contact your administrator right away.']),

  email_verified: (a: { name: string | null }) => compose(
    'Your email is verified',
    a.name,
    ['Thank you: your email address is now verified.']),

  account_exists: (a: { forgotUrl: string }) => compose(
    'You already have an account',
    null,
    ['Someone (hopefully you) tried to sign up with this address, but it already has an account.',
      'If you forgot your password, you can reset it.'],
    { label: 'Reset your password', url: a.forgotUrl },
    ['If this wasn\'t you, you can ignore this email.']),

  username_taken: () => compose(
    'Finish signing up',
    null,
    ['Someone (hopefully you) tried to sign up with this address and a username that is already taken.',
      'Please sign up again with another username. If this wasn\'t you, ignore this email.']),

  // Two-step verification. `name` is null for an unverified address: the person
  // who signed up with it may not own it.
  mfa_enabled: (a: { name: string | null, forgotUrl: string }) => compose(
    'Two-step verification turned on',
    a.name,
    ['Two-step verification was just turned on for your account: signing in now also asks for a code from your authenticator app.',
      'Keep your recovery codes somewhere safe. If this wasn\'t you, reset your password right away.'],
    { label: 'Reset your password', url: a.forgotUrl }),

  mfa_disabled: (a: { name: string | null, forgotUrl: string }) => compose(
    'Two-step verification turned off',
    a.name,
    ['Two-step verification was just turned off for your account: signing in now needs only your password.',
      'If this wasn\'t you, reset your password right away and turn two-step verification on again.'],
    { label: 'Reset your password', url: a.forgotUrl }),

  mfa_reset: (a: { name: string | null, forgotUrl: string }) => compose(
    'Two-step verification turned off by an administrator',
    a.name,
    ['An administrator turned two-step verification off for your account, as asked when a device is lost, and signed out every session.',
      'Sign in with your password and turn two-step verification on again. If you did not ask for this, reset your password right away.'],
    { label: 'Reset your password', url: a.forgotUrl }),

  mfa_recovery_codes_regenerated: (a: { name: string | null, forgotUrl: string }) => compose(
    'New recovery codes for your account',
    a.name,
    ['A new set of recovery codes was just made for your account; the codes you had before no longer work.',
      'If this wasn\'t you, reset your password right away: someone who made them can sign in with them.'],
    { label: 'Reset your password', url: a.forgotUrl }),

  // No passkey name: it is text the account's user typed, and the address may not be theirs.
  passkey_added: (a: { name: string | null, forgotUrl: string }) => compose(
    'A passkey was added to your account',
    a.name,
    ['A new passkey was just added to your account: it signs in without your password or a code.',
      'If this wasn\'t you, sign in, remove it under Passkeys, and reset your password right away.'],
    { label: 'Reset your password', url: a.forgotUrl }),

  passkey_removed: (a: { name: string | null, forgotUrl: string }) => compose(
    'A passkey was removed from your account',
    a.name,
    ['A passkey was just removed from your account and no longer signs in.',
      'If this wasn\'t you, reset your password right away.'],
    { label: 'Reset your password', url: a.forgotUrl })
} satisfies Record<TemplateName, (args: never) => RenderedMail>
