'use strict'
// CommonJS and free of modern syntax, so that it runs (and explains itself) on the old Node.js
// versions it refuses, before any dependency is loaded.

/**
 * The Node.js versions authd runs on, as package.json's "engines" says: 20.19 and 22.12 are
 * the first releases of their lines that load ES modules through require() (cookie@2 and
 * content-disposition@3 need it) and have crypto.hash(). Node 21 is end-of-life and lacks both.
 */
const SUPPORTED = '^20.19.0 || >=22.12.0'

/** Null when `version` (e.g. "20.19.1" or "v22.12.0") is supported, else the one line to print. */
function nodeVersionProblem (version) {
  const match = /^v?(\d+)\.(\d+)\.(\d+)/.exec(String(version))
  if (match) {
    const major = Number(match[1])
    const minor = Number(match[2])
    if ((major === 20 && minor >= 19) || (major === 22 && minor >= 12) || major >= 23) return null
  }
  return 'authd needs Node.js ' + SUPPORTED + ', but this is Node.js ' + String(version) + ': please upgrade Node.js'
}

module.exports = { SUPPORTED, nodeVersionProblem }
