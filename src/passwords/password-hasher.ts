import { availableParallelism } from 'node:os'
import argon2 from 'argon2'
import bcrypt from 'bcryptjs'
import { Errors } from '../http/errors.js'
import { createConcurrencyLimit, QueueFullError } from '../lib/concurrency-limit.js'
import { randomToken } from '../lib/crypto.js'

export interface PasswordHasher {
  hash: (password: string) => Promise<string>
  /** Never throws for a malformed or unknown hash: it simply does not verify. */
  verify: (hash: string, password: string) => Promise<boolean>
  /** True when the hash was made with other (older) parameters or another algorithm. */
  needsRehash: (hash: string) => boolean
  /**
   * Spends the same time as a real verification, for sign-ins of unknown emails: an attacker
   * must not learn from the response time whether an account exists.
   */
  verifyDummy: (password: string) => Promise<void>
  /** Hashes running and waiting for a core (argon2 only), for the metrics. */
  queueState?: () => { running: number, waiting: number }
}

/** Seconds to suggest in Retry-After when the hashing queue is full: about its drain time. */
const QUEUE_FULL_RETRY_AFTER_SECONDS = 2

/** bcrypt as most frameworks write it (passlib, Django, Rails, Laravel/PHP, Spring): $2a$, $2b$, $2y$. */
export const BCRYPT_HASH = /^\$2[aby]\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$/

/** Hash formats this service can verify: its own argon2id, and bcrypt for imported users. */
export function isSupportedHash (hash: string): boolean {
  return BCRYPT_HASH.test(hash) || /^\$argon2(id|i|d)\$v=\d+\$[a-z]=\d+(,[a-z]=\d+)*\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/.test(hash)
}

/**
 * Verifies a bcrypt hash imported from another system. The password is checked as that
 * system received it (no NFKC: it hashed the raw string). bcryptjs is pure JavaScript; its
 * async compare yields to the event loop between rounds, so a slow legacy cost cannot
 * freeze the server, and every such hash becomes argon2id at the user's next sign-in.
 */
async function verifyBcrypt (hash: string, password: string): Promise<boolean> {
  if (!BCRYPT_HASH.test(hash)) return false
  try {
    return await bcrypt.compare(password, hash)
  } catch {
    return false
  }
}

export interface Argon2Params { memoryKib: number, timeCost: number, parallelism: number }

/** NIST SP 800-63B: passwords are compared after Unicode normalisation (NFKC). */
export function normalizePassword (password: string): string {
  return password.normalize('NFKC')
}

/**
 * argon2id through the native binding, which runs on libuv's thread pool: hashing never
 * blocks the event loop. Parameters live inside each hash, so raising them later upgrades
 * users one sign-in at a time.
 */
export function createArgon2Hasher (params: Argon2Params, options: { concurrency?: number, maxQueue?: number } = {}): PasswordHasher {
  const argon2Options = { type: argon2.argon2id as 0 | 1 | 2, memoryCost: params.memoryKib, timeCost: params.timeCost, parallelism: params.parallelism }
  let dummyHash: Promise<string> | undefined
  // One hash per core at most. More in flight cannot hash faster (the work is CPU-bound), but
  // each holds its memory cost (19 MiB by default) and a pool thread: queued here instead,
  // they leave the thread pool to file and DNS work, keep memory bounded, and give the event
  // loop fewer busy threads to compete with for the cores.
  //
  // The queue itself is bounded too (PASSWORD_HASH_QUEUE_MAX): a flood of guesses would
  // otherwise make everyone's sign-in wait behind it for seconds. Past the bound the caller
  // gets 503 with Retry-After at once. This is the one place every hashing path goes through
  // (sign-in, sign-up, change and reset of passwords, admin writes).
  const bounded = createConcurrencyLimit(Math.max(1, options.concurrency ?? availableParallelism()), options.maxQueue)
  async function limit<T> (task: () => Promise<T>): Promise<T> {
    try {
      return await bounded(task)
    } catch (error) {
      if (error instanceof QueueFullError) throw Errors.serviceUnavailable(QUEUE_FULL_RETRY_AFTER_SECONDS)
      throw error
    }
  }

  const hasher: PasswordHasher = {
    hash: (password) => limit(() => argon2.hash(normalizePassword(password), argon2Options)),
    async verify (hash, password) {
      if (hash.startsWith('$2')) return verifyBcrypt(hash, password)
      if (!hash.startsWith('$argon2')) return false
      try {
        return await bounded(() => argon2.verify(hash, normalizePassword(password)))
      } catch (error) {
        // A full queue is an outage, not a wrong password: it must not read as one.
        if (error instanceof QueueFullError) throw Errors.serviceUnavailable(QUEUE_FULL_RETRY_AFTER_SECONDS)
        return false
      }
    },
    queueState: bounded.state,
    needsRehash (hash) {
      if (!hash.startsWith('$argon2id$')) return true
      try {
        return argon2.needsRehash(hash, argon2Options)
      } catch {
        return true
      }
    },
    async verifyDummy (password) {
      dummyHash ??= argon2.hash(randomToken(), argon2Options)
      await hasher.verify(await dummyHash, password)
    }
  }
  return hasher
}
