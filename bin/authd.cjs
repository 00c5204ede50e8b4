#!/usr/bin/env node
'use strict'
// libuv's thread pool (where argon2 hashes) is sized when first used, and defaults to 4
// threads: size it to the machine before any module can touch it. This file is CommonJS so
// that nothing is read through the pool before the line below runs.
const { nodeVersionProblem } = require('./node-version.cjs')
const problem = nodeVersionProblem(process.versions.node)
if (problem) {
  // One line instead of the SyntaxError or require() error an old Node.js would stop with.
  process.stderr.write(problem + '\n')
  process.exit(1)
}
const { availableParallelism } = require('node:os')
if (!process.env.UV_THREADPOOL_SIZE) process.env.UV_THREADPOOL_SIZE = String(Math.max(4, availableParallelism()))
import('../dist/server.js')
