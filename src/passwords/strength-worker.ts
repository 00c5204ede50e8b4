/**
 * The password-strength estimator's own thread (see strength-estimator.ts for why). It builds
 * zxcvbn with its dictionaries once, then answers one message per password: `{ id, password,
 * words }` → `{ id, score }`. Nothing here is logged: the messages carry passwords.
 */
import { parentPort } from 'node:worker_threads'
import { ZxcvbnFactory } from '@zxcvbn-ts/core'
import * as zxcvbnCommon from '@zxcvbn-ts/language-common'
import * as zxcvbnEn from '@zxcvbn-ts/language-en'

export interface StrengthRequest { id: number, password: string, words: string[] }
/** `score` is undefined when the estimator threw: the password is then refused (503), never accepted. */
export interface StrengthAnswer { id: number, score: number | undefined }

/**
 * About 40,000 common passwords, names, English words and keyboard patterns. Bounded per call:
 * only the first 64 characters are estimated (a longer password is judged by those), and the
 * l33t matcher gives up on more than 10 substitutable characters (its cost grows with their
 * combinations; such a password is still judged by the other matchers). See
 * bench/password-strength.ts for the figures.
 */
const estimator = new ZxcvbnFactory({
  dictionary: { ...zxcvbnCommon.dictionary, ...zxcvbnEn.dictionary },
  graphs: zxcvbnCommon.adjacencyGraphs,
  translations: zxcvbnEn.translations,
  maxLength: 64,
  l33tMaxSubstitutions: 10
})
// The first check builds the matchers' lookup tables: pay it at start, not on a user's request.
estimator.check('warm-up passphrase')

parentPort?.on('message', (request: StrengthRequest) => {
  let score: number | undefined
  try {
    score = estimator.check(request.password, request.words).score
  } catch {
    // One password's failure is its own: the worker goes on answering the others.
    score = undefined
  }
  const answer: StrengthAnswer = { id: request.id, score }
  parentPort?.postMessage(answer)
})
