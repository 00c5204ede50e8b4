// Passkeys on the hosted pages: the only script, served from this origin as an ES module.
// Without JavaScript every other form works; these buttons stay hidden.
import { browserSupportsWebAuthn, startAuthentication, startRegistration } from './webauthn/index.js'

async function postJson (path, body) {
  const response = await fetch(path, {
    method: 'POST',
    credentials: 'same-origin',
    // The pages' policy is no-referrer, under which a POST carries "Origin: null" and the
    // API's CSRF check refuses it; for our own origin, send the real Origin.
    referrerPolicy: 'same-origin',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(body ?? {})
  })
  const data = response.status === 204 ? {} : await response.json().catch(() => ({}))
  if (!response.ok) {
    const error = new Error(data.detail || 'Something went wrong')
    error.status = response.status
    error.retryAfter = response.headers.get('retry-after')
    throw error
  }
  return data
}

function show (element, message) {
  if (!element) return
  element.textContent = message
  element.hidden = false
}

function problem (error) {
  if (error && error.name === 'NotAllowedError') return 'The passkey request was cancelled or timed out.'
  if (error && error.status === 429 && error.retryAfter) return `Too many requests. Try again in ${error.retryAfter} seconds.`
  return (error && error.message) || 'Something went wrong'
}

function safeNext (value) {
  // The server decided this address (an allowed origin or /account); only http(s) is followed.
  try {
    const url = new URL(value, window.location.href)
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : '/account'
  } catch {
    return '/account'
  }
}

function setUpSignin () {
  const box = document.querySelector('[data-passkey-signin]')
  const button = document.getElementById('passkey-signin')
  if (!box || !button || !browserSupportsWebAuthn()) return
  box.hidden = false
  const errorBox = document.getElementById('passkey-error')
  button.addEventListener('click', async () => {
    errorBox.hidden = true
    button.disabled = true
    try {
      const options = await postJson('/api/v1/auth/passkeys/signin/options', {})
      const response = await startAuthentication({ optionsJSON: options })
      await postJson('/api/v1/auth/passkeys/signin', { response })
      window.location.assign(safeNext(box.dataset.next || '/account'))
    } catch (error) {
      show(errorBox, problem(error))
    } finally {
      button.disabled = false
    }
  })
}

function setUpRegistration () {
  const form = document.querySelector('[data-passkey-register]')
  if (!form || !browserSupportsWebAuthn()) return
  form.hidden = false
  for (const note of document.querySelectorAll('[data-passkey-needs-script]')) note.hidden = true
  const errorBox = document.getElementById('passkey-register-error')
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    errorBox.hidden = true
    const button = form.querySelector('button')
    button.disabled = true
    try {
      const options = await postJson('/api/v1/auth/passkeys/register/options', {})
      const response = await startRegistration({ optionsJSON: options })
      const name = form.querySelector('input[name="name"]').value.trim()
      await postJson('/api/v1/auth/passkeys/register', { response, ...(name ? { name } : {}) })
      window.location.assign('/account?notice=passkey_added')
    } catch (error) {
      show(errorBox, problem(error))
    } finally {
      button.disabled = false
    }
  })
}

setUpSignin()
setUpRegistration()

// The recovery codes' "Print" button (without JavaScript, the browser's own Print command
// does the same: the print stylesheet shows only the codes).
for (const button of document.querySelectorAll('[data-print]')) {
  button.hidden = false
  button.addEventListener('click', () => window.print())
}
