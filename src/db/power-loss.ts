import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { uptime } from 'node:os'
import { dirname } from 'node:path'

/**
 * SQLite runs in WAL mode with `synchronous = NORMAL` (create-db.ts): a commit reaches the
 * operating system at once but the disk only at the next checkpoint, so it survives a crash
 * of the process, not of the machine. After a power loss or a kernel crash the database comes
 * back as it was a moment before: the last commits are gone, all of them from some point on.
 * For most of them that is harmless (a sign-up to repeat), but not for the security state: a
 * refresh rotation forgotten would make the rotated-out token valid again (a token that works
 * twice), and a forgotten logout or revocation a session that comes back.
 *
 * So the service records, next to the database file, that it has the database open and on
 * which boot of the machine; a clean close records that it closed. At start-up, a record of a
 * run on an earlier boot that never closed means the machine went down under it: the caller
 * then revokes every session and voids every outstanding single-use token (a forced
 * re-sign-in for everyone, never a token that works twice). A crash of the process alone, on
 * the same boot, loses nothing and changes nothing.
 */
export interface PowerLossGuard {
  /** True when the previous run on this database ended with the machine, not the process. */
  readonly machineWentDown: boolean
  /** Records that this run has the database open (durably, before anything is served). */
  opened: () => void
  /** Records a clean close: call after the database is closed (checkpointed). */
  closed: () => void
}

interface RunRecord { boot: string, open: boolean }

/**
 * This boot of the machine: Linux names each boot; elsewhere the boot time (to the minute)
 * serves. Injectable for tests.
 */
export function currentBoot (): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()
  } catch {
    return `booted-${Math.round((Date.now() / 1000 - uptime()) / 60)}`
  }
}

function writeDurably (path: string, content: string): void {
  const temporary = `${path}.tmp`
  writeFileSync(temporary, content)
  const file = openSync(temporary, 'r+')
  try { fsyncSync(file) } finally { closeSync(file) }
  renameSync(temporary, path)
  // The rename itself is durable only once the directory is.
  const directory = openSync(dirname(path), 'r')
  try { fsyncSync(directory) } finally { closeSync(directory) }
}

export function createPowerLossGuard (databasePath: string, boot: string = currentBoot()): PowerLossGuard {
  const recordPath = `${databasePath}-run`
  let previous: RunRecord | undefined
  try {
    previous = JSON.parse(readFileSync(recordPath, 'utf8')) as RunRecord
  } catch {}
  return {
    machineWentDown: previous?.open === true && previous.boot !== boot,
    opened: () => { writeDurably(recordPath, JSON.stringify({ boot, open: true } satisfies RunRecord)) },
    closed: () => { writeDurably(recordPath, JSON.stringify({ boot, open: false } satisfies RunRecord)) }
  }
}
