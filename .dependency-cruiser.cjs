/**
 * Architecture rules (see docs/ARCHITECTURE.md), checked by `npm run check`.
 * "No cycle between src/ folders" (type-only imports included; the files directly in src/
 * are the composition root and stay outside it) is checked by scripts/check-architecture.mjs
 * on the folder graph of this cruise; `no-folder-cycle` below catches module cycles early.
 */
const DOMAIN = '(users|roles|sessions|tokens|passwords|audit|mail|rate-limits|kv|metrics)'
const FLOWS = '(auth|recovery|admin|health|mfa|pages)'

module.exports = {
  forbidden: [
    {
      name: 'no-folder-cycle',
      severity: 'error',
      comment: 'src/ folders import one way: config, lib → db → domain → flows → composition root',
      from: { path: '^src/[^/]+/' },
      to: { circular: true, pathNot: '^src/[^/]+\\.ts$' }
    },
    {
      name: 'http-is-plumbing',
      severity: 'error',
      comment: 'http/ holds HTTP plumbing only: it imports no domain module and no flow',
      from: { path: '^src/http/' },
      to: { path: `^src/(${DOMAIN}|${FLOWS}|db|cli)/` }
    },
    {
      name: 'lib-config-stand-alone',
      severity: 'error',
      comment: 'lib/ and config/ import nothing of the project',
      from: { path: '^src/(lib|config)/' },
      to: { path: '^src/', pathNot: '^src/$1/' }
    },
    {
      name: 'domain-not-on-flows',
      severity: 'error',
      comment: 'domain modules never import a flow; flows build on them',
      from: { path: `^src/${DOMAIN}/` },
      to: { path: `^src/${FLOWS}/` }
    },
    {
      name: 'only-root-imports-root',
      severity: 'error',
      comment: 'below the root only the Database type (src/database.ts) may be imported',
      from: { path: '^src/[^/]+/' },
      to: { path: '^src/[^/]+\\.ts$', pathNot: '^src/database\\.ts$' }
    }
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^(node_modules|dist)' }
  }
}
