import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { TEST_ENV } from './build-test-app.js'
import { type ProcessResult, runProcess } from './process.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const BUILT_CLI = join(ROOT, 'dist', 'cli', 'main.js')

export type CliResult = ProcessResult

export interface CliRun {
  env?: Record<string, string>
  /** Standard input (a pipe, never a terminal); closed after it is written. */
  stdin?: string
  /** `npm` runs it as an operator would through the package script: `npm run -s cli -- …`. */
  via?: 'node' | 'npm'
}

function newestMtime (dir: string): number {
  return Math.max(0, ...readdirSync(dir, { withFileTypes: true }).map((entry) => {
    const path = join(dir, entry.name)
    return entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs
  }))
}

let checked = false
/** The tests run the built CLI, as it ships: refuse to test a dist/ older than the sources. */
function assertBuilt (): void {
  if (checked) return
  let built = 0
  try {
    built = statSync(BUILT_CLI).mtimeMs
  } catch {}
  if (built < newestMtime(join(ROOT, 'src'))) throw new Error('dist/ is missing or older than src/: run `npm run build` before the CLI tests')
  checked = true
}

/**
 * Runs the real, built `authd-admin` as its own process, with only the given environment
 * (plus the cheap test settings): nothing leaks in from the test runner's environment.
 */
export function runAdminCli (args: string[], run: CliRun = {}): Promise<CliResult> {
  assertBuilt()
  const [command, commandArgs] = run.via === 'npm'
    ? ['npm', ['run', '-s', 'cli', '--', ...args]]
    : [process.execPath, [BUILT_CLI, ...args]]
  return runProcess(command, commandArgs, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? ROOT, ...TEST_ENV, ...run.env } as Record<string, string>
  }, run.stdin ?? '')
}
