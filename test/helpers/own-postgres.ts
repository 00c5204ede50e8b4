import { execFileSync, spawnSync } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { freePort, killIfRunning, waitFor } from './processes.js'

/**
 * A PostgreSQL cluster of the test's own (initdb + pg_ctl on a free 127.0.0.1 port), for
 * fault injection — restart, freeze — that must never touch the machine's server. It runs as
 * a non-root user (PostgreSQL refuses root): the current user, else `postgres`, else one
 * created with useradd. Stopped by PID when the test ends, whatever happened.
 */
export interface OwnPostgres {
  url: string
  port: number
  /** The postmaster's PID (changes after a restart). */
  pid: () => number
  stop: () => void
  start: () => void
  /** SIGSTOP to the postmaster and every backend: the server accepts TCP but never answers. */
  freeze: () => void
  thaw: () => void
}

function postgresBinaries (): string | undefined {
  const root = '/usr/lib/postgresql'
  if (!existsSync(root)) return undefined
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a))
  return versions[0] ? join(root, versions[0], 'bin') : undefined
}

function runAsUser (): { uid: number, gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined
  const ids = (name: string): { uid: number, gid: number } | undefined => {
    const result = spawnSync('id', ['-u', name], { encoding: 'utf8' })
    if (result.status !== 0) return undefined
    return { uid: Number(result.stdout.trim()), gid: Number(spawnSync('id', ['-g', name], { encoding: 'utf8' }).stdout.trim()) }
  }
  const existing = ids('postgres') ?? ids('authd-pgtest')
  if (existing) return existing
  execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', 'authd-pgtest'])
  return ids('authd-pgtest')
}

/** Why the cluster cannot be started here, or undefined when it can. Under CI=true it must. */
export function ownPostgresUnavailable (): string | undefined {
  if (postgresBinaries()) return undefined
  const reason = 'no PostgreSQL binaries under /usr/lib/postgresql/*/bin'
  if (process.env.CI === 'true') throw new Error(`CI=true: ${reason}`)
  return reason
}

export async function startOwnPostgres (t: Pick<TestContext, 'after'>): Promise<OwnPostgres> {
  const bin = postgresBinaries()
  if (!bin) throw new Error('no PostgreSQL binaries')
  const user = runAsUser()
  const dir = mkdtempSync(join(tmpdir(), 'authd-pg-'))
  const data = join(dir, 'data')
  if (user) chownSync(dir, user.uid, user.gid)
  const port = await freePort()
  const asUser = { ...(user ?? {}), encoding: 'utf8' as const, env: { PATH: process.env.PATH, LC_ALL: 'C' } }
  const run = (command: string, args: string[]): void => {
    const result = spawnSync(join(bin, command), args, { ...asUser, timeout: 60_000 })
    if (result.status !== 0) throw new Error(`${command} failed: ${result.stderr}${result.stdout}`)
  }
  const pid = (): number => Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0])
  let lastPid: number | undefined
  t.after(() => {
    // Whatever state the test left it in: thawed, stopped, its files removed.
    if (lastPid !== undefined) for (const p of [lastPid, ...children(lastPid)]) killIfRunning(p, 'SIGCONT')
    spawnSync(join(bin, 'pg_ctl'), ['-D', data, 'stop', '-m', 'immediate', '-w', '-t', '10'], { ...asUser, timeout: 15_000 })
    if (lastPid !== undefined) killIfRunning(lastPid)
    rmSync(dir, { recursive: true, force: true })
  })
  run('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8'])
  const start = (): void => {
    run('pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '60', 'start', '-o',
      `-p ${port} -c listen_addresses=127.0.0.1 -k ${dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off`])
    lastPid = pid()
  }
  start()
  await waitFor('the test cluster accepts connections', () => spawnSync(join(bin, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port)]).status === 0, 30_000, 50)
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    pid,
    stop: () => run('pg_ctl', ['-D', data, 'stop', '-m', 'fast', '-w', '-t', '30']),
    start,
    freeze: () => { for (const p of [pid(), ...children(pid())]) process.kill(p, 'SIGSTOP') },
    thaw: () => { for (const p of [pid(), ...children(pid())]) process.kill(p, 'SIGCONT') }
  }
}

/** PIDs whose parent is `parent` (the postmaster's backends and helpers), from /proc. */
function children (parent: number): number[] {
  const pids: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      // /proc/PID/stat: "pid (comm) state ppid ..."; comm may hold spaces, so split after ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      if (ppid === parent) pids.push(Number(entry))
    } catch {}
  }
  return pids
}
