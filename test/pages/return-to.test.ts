import assert from 'node:assert/strict'
import { test } from 'node:test'
import { DEFAULT_RETURN_TO, safeReturnTo } from '../../src/pages/return-to.js'

const options = { publicUrl: 'http://localhost:8000', allowedOrigins: ['http://localhost:8000', 'https://app.example.com'] }

test('return_to: allowed origins and own paths are kept, as the parser serialises them', () => {
  assert.equal(safeReturnTo('https://app.example.com/after?x=1#top', options), 'https://app.example.com/after?x=1#top')
  assert.equal(safeReturnTo('https://APP.example.com:443/', options), 'https://app.example.com/')
  assert.equal(safeReturnTo('/account', options), 'http://localhost:8000/account')
  assert.equal(safeReturnTo('http://localhost:8000/account?tab=sessions', options), 'http://localhost:8000/account?tab=sessions')
  // Dot segments cannot climb out of the origin.
  assert.equal(safeReturnTo('/../../account', options), 'http://localhost:8000/account')
})

test('return_to: every open-redirect trick falls back to /account', () => {
  const refused = [
    undefined, '', 42, ['https://app.example.com/'],
    'https://evil.example/',
    'https://app.example.com.evil.example/',
    'https://evil.example/https://app.example.com/',
    'http://app.example.com/', // another scheme is another origin
    'https://app.example.com:8443/',
    '//evil.example/',
    '///evil.example/',
    '/\\evil.example',
    '\\\\evil.example',
    '/\\/evil.example',
    'https:\\\\evil.example',
    'javascript:alert(1)',
    'JavaScript:alert(1)',
    ' javascript:alert(1)',
    'data:text/html,<script>alert(1)</script>',
    'vbscript:msgbox',
    'https://app.example.com@evil.example/',
    'https://user:pass@app.example.com/',
    'https://evil.example#@app.example.com',
    '/\t/evil.example',
    '/\n/evil.example',
    '\u0000https://app.example.com/',
    'http://localhost:8000//evil.example/'.replace('localhost:8000//', 'localhost:8000\\\\'),
    'evil.example',
    'account',
    '?next=x',
    'https://' + 'a'.repeat(3000) + '.example/'
  ]
  for (const value of refused) assert.equal(safeReturnTo(value, options), DEFAULT_RETURN_TO, String(value))
})

test('return_to: a same-origin path that reads as a host stays on this origin', () => {
  // "http://localhost:8000//evil.example" is a path on this origin: the answer is absolute,
  // so the Location header cannot be read as the scheme-relative "//evil.example".
  assert.equal(safeReturnTo('http://localhost:8000//evil.example/', options), 'http://localhost:8000//evil.example/')
})
