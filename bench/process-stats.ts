import { readFileSync } from 'node:fs'

// Linux accounts CPU time in clock ticks of 1/100 s (USER_HZ) on every platform we run on.
const TICKS_PER_SECOND = 100

/** CPU seconds (user + system) a process has used so far, from /proc. */
export function cpuSeconds (pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // Fields after the command name, which is in parentheses and may contain spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND
}

function statusKib (pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)
  return match ? Number(match[1]) : 0
}

/** Resident memory now, and the highest it has been since the process started, in MiB. */
export function memoryMib (pid: number): { rss: number, peak: number } {
  return { rss: statusKib(pid, 'VmRSS') / 1024, peak: statusKib(pid, 'VmHWM') / 1024 }
}

/** Samples a process while `work` runs: CPU use as a share of one core, and peak RSS. */
export async function measureProcess<T> (pid: number, work: () => Promise<T>): Promise<{ result: T, cpuPercent: number, peakRssMib: number }> {
  const cpuBefore = cpuSeconds(pid)
  const started = process.hrtime.bigint()
  let peakRssMib = memoryMib(pid).rss
  const sampler = setInterval(() => {
    try {
      peakRssMib = Math.max(peakRssMib, memoryMib(pid).rss)
    } catch {}
  }, 100)
  try {
    const result = await work()
    const wall = Number(process.hrtime.bigint() - started) / 1e9
    const cpuPercent = ((cpuSeconds(pid) - cpuBefore) / wall) * 100
    peakRssMib = Math.max(peakRssMib, memoryMib(pid).rss)
    return { result, cpuPercent, peakRssMib }
  } finally {
    clearInterval(sampler)
  }
}
