import { extname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Worker, type WorkerOptions } from 'node:worker_threads'
import { Errors } from '../http/errors.js'
import { strengthWorkerExits } from '../metrics/metrics.js'
import type { StrengthAnswer, StrengthRequest } from './strength-worker.js'

/**
 * zxcvbn runs in a worker thread of its own, for two reasons:
 * - a check costs about 20 ms of CPU for a typical passphrase and up to about 60 ms for a long
 *   pattern (bench/password-strength.ts), which on the event loop would stall every other
 *   request for as long;
 * - it allocates heavily, and on the main thread its garbage was promoted to the old space
 *   and kept there: the heap in use rose from 73 to 172 MiB in 8 s of sign-ups. The worker's
 *   heap has a ceiling of its own (`resourceLimits`), so V8 collects it instead of growing,
 *   and the main heap, whose caches are the operator's to size, keeps no cap.
 *
 * One worker per process, shared by every app built in it (with its dictionaries it holds
 * about 55 MiB; one copy is enough). It keeps the process alive only while a check is pending.
 */

/**
 * The worker's old space, in MiB. Its live data (the built dictionaries and matchers) is
 * about 31 MiB; the rest is room for the checks' garbage (48 MiB made them 25 % slower). If a check ever outgrows it the
 * worker dies, a new one starts, and the check is tried once more there.
 */
const WORKER_OLD_SPACE_MB = 96
/** A check's garbage is short-lived; a young generation of 8 MiB made the slowest checks slower (bench/password-strength.ts). */
const WORKER_YOUNG_SPACE_MB = 16

interface Pending {
  request: StrengthRequest
  resolve: (score: number) => void
  reject: (error: unknown) => void
  /** Workers this request has been sent to; a request that killed two is refused. */
  attempts: number
}

/** The worker module beside this one, with this module's own extension (.js built, .ts under tsx). */
const workerUrl = new URL(`./strength-worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url)

function startWorker (options: WorkerOptions): Worker {
  if (!workerUrl.pathname.endsWith('.ts')) return new Worker(workerUrl, options)
  // The sources run under tsx (the tests, `npm run dev`), whose loader a worker does not
  // inherit: the worker registers it before it loads its module. The build never takes this path.
  const tsx = import.meta.resolve('tsx/esm/api')
  return new Worker(`import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(workerUrl.href)}) })`, { ...options, eval: true })
}

let worker: Worker | undefined
let nextId = 1
const pending = new Map<number, Pending>()

function send (entry: Pending): void {
  entry.attempts++
  workerThread().postMessage(entry.request)
}

function workerThread (): Worker {
  if (worker) return worker
  const started = startWorker({
    resourceLimits: { maxOldGenerationSizeMb: WORKER_OLD_SPACE_MB, maxYoungGenerationSizeMb: WORKER_YOUNG_SPACE_MB },
    // Its own stdout/stderr would be piped through the main thread; it writes nothing.
    stdout: false,
    stderr: false
  })
  started.on('message', (answer: StrengthAnswer) => {
    const entry = pending.get(answer.id)
    if (!entry) return
    pending.delete(answer.id)
    if (pending.size === 0) started.unref()
    if (answer.score === undefined) entry.reject(Errors.serviceUnavailable(1))
    else entry.resolve(answer.score)
  })
  // An 'error' (out of memory, an exception) is followed by 'exit': both end this worker.
  started.on('error', () => { /* handled on exit */ })
  started.on('exit', () => {
    if (worker === started) worker = undefined
    // Nothing ends it on purpose (it never keeps the process alive), so every exit is a failure.
    strengthWorkerExits.inc()
    // Whatever the dead worker held goes to a new one, once; a second death refuses the check.
    for (const [id, entry] of pending) {
      if (entry.attempts >= 2) {
        pending.delete(id)
        entry.reject(Errors.serviceUnavailable(1))
      } else {
        send(entry)
      }
    }
  })
  worker = started
  return started
}

/** zxcvbn's score (0–4) of `password`, with `words` as extra dictionary entries. */
export function strengthScore (password: string, words: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const entry: Pending = { request: { id: nextId++, password, words }, resolve, reject, attempts: 0 }
    pending.set(entry.request.id, entry)
    send(entry)
    worker?.ref()
  })
}

/** Starts the worker and waits until it has built its dictionaries (a start-up cost, not a first-user cost). */
export async function preloadStrengthEstimator (): Promise<void> {
  await strengthScore('warm-up passphrase', [])
}

/**
 * Ends the current worker as a crash would: checks in flight move to a new one. For the tests
 * of that path; nothing else needs to stop it (it never keeps the process alive when idle).
 */
export async function terminateStrengthWorker (): Promise<void> {
  await worker?.terminate()
}
