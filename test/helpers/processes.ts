import { type ChildProcess, spawn } from 'node:child_process'
import { type AddressInfo, createServer } from 'node:net'
import type { TestContext } from 'node:test'
import { fileURLToPath } from 'node:url'
import { TEST_ENV, type TestEnv } from './build-test-app.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

/** A port that was free a moment ago on 127.0.0.1 (the OS picks it). */
export async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** Kills a process by PID if it still runs; never by name. */
export function killIfRunning (pid: number | undefined, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (pid === undefined) return
  try {
    process.kill(pid, signal)
  } catch {}
}

export async function waitFor (what: string, condition: () => Promise<boolean> | boolean, timeoutMs = 20_000, everyMs = 25): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`)
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
}

export interface ServiceProcess {
  pid: number
  port: number
  url: string
  child: ChildProcess
  stdout: () => string
  stderr: () => string
  /** Resolves with the exit code (or the signal's name) once the process has ended. */
  exited: Promise<number | string>
}

/**
 * Runs the service as `npm start` would (src/server.ts, through tsx), on a free port, and
 * kills it by PID when the test ends, whatever happened. `waitReady: false` returns at once
 * (for start-ups that are meant to fail).
 */
export async function startService (t: Pick<TestContext, 'after'>, env: TestEnv, options: { waitReady?: boolean } = {}): Promise<ServiceProcess> {
  const port = await freePort()
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, ...TEST_ENV, LOG_LEVEL: 'info', HOST: '127.0.0.1', PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  t.after(() => killIfRunning(child.pid))
  let out = ''
  let err = ''
  child.stdout!.on('data', (chunk: Buffer) => { out += chunk.toString() })
  child.stderr!.on('data', (chunk: Buffer) => { err += chunk.toString() })
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')))
  const service: ServiceProcess = { pid: child.pid!, port, url: `http://127.0.0.1:${port}`, child, stdout: () => out, stderr: () => err, exited }
  if (options.waitReady !== false) {
    let ended = false
    exited.then(() => { ended = true }, () => {})
    await waitFor('the service answers /healthz', async () => {
      if (ended) throw new Error(`the service exited during start-up: ${err}${out.slice(-2000)}`)
      try {
        return (await fetch(`${service.url}/healthz`)).status === 200
      } catch {
        return false
      }
    }, 60_000, 50)
  }
  return service
}
