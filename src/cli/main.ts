#!/usr/bin/env node
/**
 * Operator CLI: administers users directly in the service's database (the same DATABASE_URL
 * as the server), for bootstrapping and recovery when no superuser can sign in.
 *
 * Actions go through the same service as the admin API (same validation, same password
 * policy, same audit trail, with no acting user), so the CLI cannot do what the API forbids,
 * except repairing the primary admin (set its password, activate, promote).
 */
import { parseArgs } from 'node:util'
import { createArgon2Hasher } from '../passwords/password-hasher.js'
import { type Config, ConfigError, loadConfig } from '../config/index.js'
import { createDb, type DatabaseHandle } from '../db/create-db.js'
import { migrateDown, migrateToLatest } from '../db/migrate.js'
import { AppError, Errors } from '../http/errors.js'
import { systemClock } from '../lib/clock.js'
import { createSessionLiveness } from '../sessions/session-liveness.js'
import { createRevocationPublisher, revocationChannel } from '../sessions/redis-session-liveness.js'
import { createSessionRevocation } from '../sessions/session-revocation.js'
import { createRedis } from '../kv/redis.js'
import { createValidatorCompiler } from '../http/validation.js'
import { CreateUserBody, type UserDto } from '../users/users.schemas.js'
import { type Actor, createUsersService, type UsersService } from '../users/users.service.js'
import { PasswordInputError, readPassword } from './password-input.js'

const USAGE = `Usage: authd-admin <command> [options]

Commands:
  create-user --email E --username U [--name N] [--role R] [--superuser] [--verified]
                                 create a user (password prompted, or read from stdin)
  set-password <id|email>        set a user's password (prompted, or read from stdin)
  deactivate <id|email>          deactivate a user and end their sessions
  activate <id|email>            reactivate a user
  promote <id|email>             make a user superuser with role admin
  demote <id|email>              make a superuser a member again (ends their sessions)
  list [--search S] [--active|--inactive] [--sort F] [--desc] [--limit N] [--offset N] [--json]
  search <term> [same options as list]
  migrate [down]                 migrate the database to the latest schema (or one step down)

The database is DATABASE_URL, as for the server.`

/** A failure the operator can act on: printed as one line, exit code `exitCode`. */
class CliError extends Error {
  constructor (message: string, readonly exitCode = 1) {
    super(message)
    this.name = 'CliError'
  }
}

const OPERATOR: Actor = { userId: null, ip: null, userAgent: 'authd-admin' }

const OPTIONS = {
  email: { type: 'string' },
  username: { type: 'string' },
  name: { type: 'string' },
  role: { type: 'string' },
  superuser: { type: 'boolean' },
  verified: { type: 'boolean' },
  search: { type: 'string' },
  active: { type: 'boolean' },
  inactive: { type: 'boolean' },
  sort: { type: 'string' },
  desc: { type: 'boolean' },
  limit: { type: 'string' },
  offset: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' }
} as const

type Options = ReturnType<typeof parse>['values']

function parse (argv: string[]) {
  try {
    return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true })
  } catch (error) {
    throw new CliError(`${error instanceof Error ? error.message : String(error)} (see --help)`, 2)
  }
}

function print (line: string): void {
  process.stdout.write(`${line}\n`)
}

function describe (user: UserDto): string {
  return `${user.id} ${user.email} ${user.username} role=${user.role} active=${user.is_active} superuser=${user.is_superuser}`
}

function integerOption (value: string | undefined, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) throw new CliError(`--${name} must be a whole number from ${min} to ${max}`, 2)
  return Number(value)
}

/** The admin API's own body schema, so the CLI accepts exactly what the API accepts. */
function assertValidNewUser (input: Record<string, unknown>): void {
  const validate = createValidatorCompiler()({ schema: CreateUserBody, httpPart: 'body', method: 'POST', url: '/api/v1/users' }) as ((data: unknown) => boolean) & { errors?: Array<{ instancePath: string, message?: string }> | null }
  if (validate(input)) return
  const errors = (validate.errors ?? []).map((e) => ({ field: e.instancePath.replace(/^\//, '') || 'input', message: e.message ?? 'is invalid' }))
  throw Errors.validation(errors)
}

function oneTarget (positionals: string[], command: string): string {
  if (positionals.length !== 1) throw new CliError(`${command} needs exactly one user id or email`, 2)
  return positionals[0]!
}

async function list (users: UsersService, options: Options, search: string | undefined): Promise<void> {
  const sort = options.sort ?? 'created_at'
  if (!['created_at', 'email', 'username', 'name'].includes(sort)) throw new CliError('--sort must be created_at, email, username or name', 2)
  if (options.active && options.inactive) throw new CliError('--active and --inactive exclude each other', 2)
  const page = await users.list({
    limit: integerOption(options.limit, 'limit', 50, 1, 1000),
    offset: integerOption(options.offset, 'offset', 0, 0, 1_000_000_000),
    search,
    sort: sort as 'created_at',
    order: options.desc ? 'desc' : 'asc',
    isActive: options.active ? true : options.inactive ? false : undefined
  })
  if (options.json) {
    print(JSON.stringify(page))
    return
  }
  for (const user of page.items) print(describe(user))
  print(`${page.items.length} of ${page.total} user(s)`)
}

async function run (command: string, positionals: string[], options: Options, config: Config, database: DatabaseHandle): Promise<void> {
  const { db } = database
  const clock = systemClock
  const hasher = createArgon2Hasher(config.password.argon2)
  // No cache in a one-shot process. Running servers learn of its changes from the database
  // (SQLite: they notice another process wrote the file; PostgreSQL without Redis: they do not
  // cache) or, with Redis, from the revocation channel this publishes on.
  const local = createSessionLiveness({ db, clock, ttlMs: 0 })
  const redis = config.redisUrl ? createRedis(config.redisUrl) : undefined
  redis?.on('error', () => {}) // reported through the publisher's onError
  const liveness = redis
    ? createRevocationPublisher(local, redis, revocationChannel(config.redisKeyPrefix), () => {
      process.stderr.write('Warning: could not reach Redis to tell running servers; their session caches expire within SESSION_CACHE_TTL_MS\n')
    })
    : local
  const users = createUsersService({ db, config, clock, hasher, sessions: createSessionRevocation({ db, clock, liveness }) })
  try {
    await runCommand(command, positionals, options, users)
  } finally {
    redis?.disconnect()
  }
}

async function runCommand (command: string, positionals: string[], options: Options, users: UsersService): Promise<void> {
  switch (command) {
    case 'create-user': {
      if (!options.email || !options.username) throw new CliError('create-user needs --email and --username', 2)
      const input = {
        email: options.email.trim(),
        username: options.username,
        ...(options.name !== undefined ? { name: options.name } : {}),
        ...(options.role ?? options.superuser ? { role: options.role ?? 'admin' } : {}),
        is_superuser: options.superuser === true,
        is_verified: options.verified === true
      }
      // Checked before the password is asked for, so a typo costs no typing.
      assertValidNewUser({ ...input, password: 'placeholder' })
      const password = await readPassword('Password for the new user: ')
      const user = await users.create({ ...input, password }, OPERATOR)
      print(`Created ${describe(user)}`)
      return
    }
    case 'set-password': {
      const target = await users.find(oneTarget(positionals, command))
      const password = await readPassword(`New password for ${target.email}: `)
      await users.update(target.id, { password }, OPERATOR)
      print(`Password set for ${target.email}; their sessions were ended`)
      return
    }
    case 'deactivate':
    case 'activate':
    case 'promote':
    case 'demote': {
      const target = await users.find(oneTarget(positionals, command))
      const patch = command === 'deactivate'
        ? { is_active: false }
        : command === 'activate'
          ? { is_active: true }
          : command === 'promote' ? { is_superuser: true, role: 'admin' } : { is_superuser: false, role: 'member' }
      print(`${command === 'activate' ? 'Activated' : command === 'deactivate' ? 'Deactivated' : command === 'promote' ? 'Promoted' : 'Demoted'} ${describe(await users.update(target.id, patch, OPERATOR))}`)
      return
    }
    case 'list':
      if (positionals.length > 0) throw new CliError('list takes no arguments; use --search or the search command', 2)
      return list(users, options, options.search)
    case 'search':
      if (positionals.length !== 1) throw new CliError('search needs exactly one term', 2)
      return list(users, options, positionals[0])
    default:
      throw new CliError(`Unknown command "${command}" (see --help)`, 2)
  }
}

/** The operator-facing line for a service error. */
function messageOf (error: AppError): string {
  if (error.code === 'forbidden') return 'The primary admin cannot be deactivated, demoted or deleted'
  const fields = error.options.errors?.map((e) => `${e.field}: ${e.message}`).join('; ')
  return error.code === 'validation_error' && fields ? `Invalid input: ${fields}` : error.message
}

async function main (argv: string[]): Promise<number> {
  const { values: options, positionals } = parse(argv)
  const [command, ...rest] = positionals
  if (options.help || command === undefined || command === 'help') {
    (command === undefined && !options.help ? process.stderr : process.stdout).write(`${USAGE}\n`)
    return command === undefined && !options.help ? 2 : 0
  }
  const config = loadConfig()
  const database = createDb(config.databaseUrl)
  try {
    if (command === 'migrate') {
      if (rest.length > 1 || (rest[0] !== undefined && rest[0] !== 'down')) throw new CliError('migrate takes no argument but "down"', 2)
      const results = rest[0] === 'down' ? await migrateDown(database.db) : await migrateToLatest(database.db)
      for (const r of results) print(`${r.direction} ${r.migrationName}: ${r.status}`)
      if (results.length === 0) print('Already up to date')
      return 0
    }
    // Every other command needs the current schema; migrating is idempotent and locked.
    await migrateToLatest(database.db)
    await run(command, rest, options, config, database)
    return 0
  } finally {
    await database.close()
  }
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code }, (error: unknown) => {
  if (error instanceof CliError || error instanceof PasswordInputError) {
    process.stderr.write(`Error: ${error.message}\n`)
    process.exitCode = error instanceof CliError ? error.exitCode : 1
  } else if (error instanceof ConfigError) {
    process.stderr.write(`Configuration error: ${error.message}\n`)
    process.exitCode = 2
  } else if (error instanceof AppError) {
    process.stderr.write(`Error: ${messageOf(error)}\n`)
    process.exitCode = 1
  } else {
    // Unexpected (database unreachable, …): still one line, without a stack trace.
    process.stderr.write(`Error: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}\n`)
    process.exitCode = 1
  }
})
