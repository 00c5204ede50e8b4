import { readdirSync, readFileSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { sha256 } from '../lib/crypto.js'

export interface PageAsset { body: string, type: string }

/** Templates and assets live outside src/, so the same files serve `tsx` and the built `dist/`. */
export const PAGES_RESOURCES = fileURLToPath(new URL('../../resources/pages/', import.meta.url))

/** Every .js file of a directory tree, keyed by its path relative to `root` with `/` separators. */
function moduleFiles (root: string): Map<string, string> {
  const files = new Map<string, string>()
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name)
      if (statSync(path).isDirectory()) walk(path)
      else if (name.endsWith('.js')) files.set(relative(root, path).split(sep).join('/'), readFileSync(path, 'utf8'))
    }
  }
  walk(root)
  return files
}

/**
 * The pages' static files, read once at start-up and served from memory under /assets/:
 * the stylesheet (with the configured accent colour written into it, since the pages' CSP
 * allows no inline style), the passkey module, and @simplewebauthn/browser's ES modules,
 * served from this origin (no CDN). Only files listed here are served: no path from the
 * request ever reaches the file system.
 */
export function loadPageAssets (options: { accentColor: string }): { assets: Map<string, PageAsset>, stylesheet: string } {
  const assets = new Map<string, PageAsset>()
  const css = readFileSync(join(PAGES_RESOURCES, 'assets', 'pages.css'), 'utf8')
    .replace(/--accent: #[0-9a-f]{6};/, `--accent: ${options.accentColor};`)
  // Versioned by content: the stylesheet can be cached for long and still changes with the config.
  const stylesheet = `pages-${sha256(css).slice(0, 12)}.css`
  assets.set(stylesheet, { body: css, type: 'text/css; charset=utf-8' })
  assets.set('passkeys.js', { body: readFileSync(join(PAGES_RESOURCES, 'assets', 'passkeys.js'), 'utf8'), type: 'text/javascript; charset=utf-8' })
  const require = createRequire(import.meta.url)
  // The package's CommonJS entry sits in script/; its ES modules in the sibling esm/.
  const esmRoot = join(dirname(require.resolve('@simplewebauthn/browser')), '..', 'esm')
  for (const [path, body] of moduleFiles(esmRoot)) assets.set(`webauthn/${path}`, { body, type: 'text/javascript; charset=utf-8' })
  return { assets, stylesheet }
}
