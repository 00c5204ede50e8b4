import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { test } from 'node:test'

const require = createRequire(import.meta.url)
const { SUPPORTED, nodeVersionProblem } = require('../../bin/node-version.cjs') as {
  SUPPORTED: string
  nodeVersionProblem: (version: string) => string | null
}

test('the start-up check accepts exactly the versions package.json promises', () => {
  const engines = (JSON.parse(readFileSync('package.json', 'utf8')) as { engines: { node: string } }).engines.node
  assert.equal(engines, SUPPORTED)
  for (const version of ['20.19.0', '20.20.2', 'v22.12.0', '22.13.1', '24.0.0']) {
    assert.equal(nodeVersionProblem(version), null, version)
  }
  // 20.11 lacks crypto.hash; 20.18 and 22.11 cannot require() the ES-module-only dependencies.
  for (const version of ['18.20.4', '20.11.1', '20.18.1', '21.7.3', '22.11.0', 'garbage']) {
    assert.match(nodeVersionProblem(version) ?? '', /^authd needs Node\.js \^20\.19\.0 \|\| >=22\.12\.0, but this is Node\.js .+: please upgrade Node\.js$/, version)
  }
})

test('bin/authd.cjs on an older Node.js prints one line and exits 1 before loading anything', () => {
  // The real entry point, with the version this process reports replaced before it runs.
  const fakeOldNode = "Object.defineProperty(process, 'versions', { value: { ...process.versions, node: '20.11.1' } })"
  const result = spawnSync(process.execPath, ['-e', `${fakeOldNode}; require('./bin/authd.cjs')`], { encoding: 'utf8', timeout: 20_000 })
  assert.equal(result.status, 1, result.stderr)
  assert.equal(result.stdout, '')
  const lines = result.stderr.trimEnd().split('\n')
  assert.equal(lines.length, 1, result.stderr)
  assert.match(lines[0]!, /^authd needs Node\.js .* but this is Node\.js 20\.11\.1/)
})
