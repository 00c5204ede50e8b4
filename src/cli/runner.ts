import { parseArgs } from 'node:util'
import { ConfigError, loadConfig } from '../config/index.js'
import { createDb } from '../db/create-db.js'
import { migrateToLatest } from '../db/migrate.js'
import { AppError, Errors } from '../http/errors.js'
import type { CommandSpec, GroupSpec } from './command.js'
import { importGroup } from './commands/import.js'
import { keysGroup } from './commands/keys.js'
import { migrateGroup } from './commands/migrate.js'
import { outboxGroup } from './commands/outbox.js'
import { usersGroup } from './commands/users.js'
import { createCliContext } from './context.js'
import { PasswordInputError } from './password-input.js'

/** The one exit-code rule of `authd-admin`. */
export const EXIT = {
  ok: 0,
  /** The command ran and failed or was refused: not found, conflict, invalid input, rejected import rows, database unreachable. */
  failed: 1,
  /** Nothing was done: unknown command or option, missing or malformed argument, invalid configuration. */
  usage: 2
} as const

const GROUPS: Record<string, GroupSpec> = {
  users: usersGroup,
  keys: keysGroup,
  outbox: outboxGroup,
  import: importGroup,
  migrate: migrateGroup
}

/** Commands of the earlier separate CLIs, so an old habit gets a pointer instead of a bare "unknown". */
const RENAMED: Record<string, string> = {
  'create-user': 'users create',
  'set-password': 'users set-password',
  deactivate: 'users deactivate',
  activate: 'users activate',
  promote: 'users promote',
  demote: 'users demote',
  list: 'users list',
  search: 'users search',
  'import-users': 'import users'
}

const GLOBAL_OPTIONS = { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const

const EXIT_CODES_HELP = `Exit codes:
  0  success
  1  the command failed or was refused (not found, conflict, invalid input, weak password,
     rejected import rows, database unreachable)
  2  usage or configuration error (unknown command or option, missing or malformed argument,
     invalid environment): nothing was done`

const OUTPUT_HELP = `Output:
  The result goes to stdout; errors (one line each), warnings and prompts go to stderr.
  --json  prints the result as one JSON document on stdout; on failure that document is the
          API's error body {"detail", "code"[, "errors"]} and stderr still has the line.
  Through npm, add -s so that npm prints no banner on stdout: npm run -s cli -- users list --json`

function synopsis (group: string, name: string, spec: CommandSpec): string {
  return `${group} ${name}${spec.synopsis ? ` ${spec.synopsis}` : ''}`
}

function globalHelp (): string {
  const lines = ['Usage: authd-admin <group> <command> [arguments] [--json]', '',
    'Administers authd directly in its database: DATABASE_URL and the other settings are read',
    'from the environment, as for the server. Every command but `migrate` first migrates the',
    'schema to the latest version (safe beside running servers).', '', 'Commands:']
  for (const [group, spec] of Object.entries(GROUPS)) {
    for (const [name, command] of Object.entries(spec.commands)) lines.push(`  ${synopsis(group, name, command)}`, `      ${command.summary}`)
  }
  lines.push('', '`authd-admin <group> --help` and `authd-admin <group> <command> --help` say more.', '', OUTPUT_HELP, '', EXIT_CODES_HELP)
  return lines.join('\n')
}

function groupHelp (group: string, spec: GroupSpec): string {
  const lines = [`Usage: authd-admin ${group} <command> [arguments] [--json]`, '', `${group}: ${spec.summary}`, '', 'Commands:']
  for (const [name, command] of Object.entries(spec.commands)) lines.push(`  ${synopsis(group, name, command)}`, `      ${command.summary}`)
  if (spec.defaultCommand) lines.push('', `\`authd-admin ${group}\` alone runs \`${group} ${spec.defaultCommand}\`.`)
  lines.push('', EXIT_CODES_HELP)
  return lines.join('\n')
}

function commandHelp (group: string, name: string, spec: CommandSpec): string {
  return [`Usage: authd-admin ${synopsis(group, name, spec)} [--json]`, '', spec.summary, ...(spec.details ? ['', spec.details] : []), '', OUTPUT_HELP, '', EXIT_CODES_HELP].join('\n')
}

type Invocation =
  | { kind: 'help', text: string, json: boolean }
  | { kind: 'run', spec: CommandSpec, params: unknown, json: boolean }

/** Reads `[--json|--help] <group> [<command>] [arguments and options]`; every mistake is a usage error. */
function resolve (argv: string[]): Invocation {
  let i = 0
  let json = false
  let help = false
  const globals = (): void => {
    for (; i < argv.length && argv[i]!.startsWith('-'); i++) {
      if (argv[i] === '--json') json = true
      else if (argv[i] === '--help' || argv[i] === '-h') help = true
      else throw Errors.usage(`Unknown option '${argv[i]}' before the command (see --help)`)
    }
  }
  globals()
  let groupName = argv[i++]
  if (groupName === 'help') {
    help = true
    groupName = argv[i++]
  }
  if (groupName === undefined) {
    if (help) return { kind: 'help', text: globalHelp(), json }
    throw Errors.usage('No command given (see authd-admin --help)')
  }
  const group = GROUPS[groupName]
  if (!group) {
    const renamed = RENAMED[groupName]
    throw Errors.usage(`Unknown command "${groupName}"${renamed ? `: it is now \`${renamed}\`` : ''} (see --help)`)
  }
  let name = argv[i]
  if (name === undefined || name.startsWith('-')) {
    const wantsHelp = help || argv.slice(i).some((a) => a === '--help' || a === '-h')
    if (wantsHelp || !group.defaultCommand) {
      if (wantsHelp) return { kind: 'help', text: groupHelp(groupName, group), json: json || argv.includes('--json') }
      throw Errors.usage(`${groupName} needs a command: ${Object.keys(group.commands).join(', ')} (see authd-admin ${groupName} --help)`)
    }
    name = group.defaultCommand
  } else {
    i++
  }
  const spec = group.commands[name]
  if (!spec) throw Errors.usage(`Unknown command "${groupName} ${name}" (see authd-admin ${groupName} --help)`)
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({ args: argv.slice(i), options: { ...spec.options, ...GLOBAL_OPTIONS }, allowPositionals: true, strict: true })
  } catch (error) {
    throw Errors.usage(`${error instanceof Error ? error.message : String(error)} (see authd-admin ${groupName} ${name} --help)`)
  }
  const { json: jsonOption, help: helpOption, ...options } = parsed.values
  json ||= jsonOption === true
  if (help || helpOption === true) return { kind: 'help', text: commandHelp(groupName, name, spec), json }
  return { kind: 'run', spec, params: spec.parse({ args: parsed.positionals, options: options as Record<string, string | boolean | undefined> }), json }
}

/** Any failure as the catalogue's error, which decides the exit code and the JSON body. */
function toAppError (error: unknown): AppError {
  if (error instanceof AppError) return error
  if (error instanceof ConfigError) return Errors.invalidConfig(error.message)
  if (error instanceof PasswordInputError) return Errors.validation([{ field: 'password', message: error.message }])
  return Errors.internal(error)
}

export function exitCodeOf (error: AppError): number {
  return error.code === 'usage_error' || error.code === 'config_error' ? EXIT.usage : EXIT.failed
}

/** The operator-facing line. An unexpected failure (database unreachable, …) shows its cause's first line, never a stack. */
function messageOf (error: AppError): string {
  if (error.code === 'internal_error' && error.cause !== undefined) {
    return (error.cause instanceof Error ? error.cause.message : String(error.cause)).split('\n')[0] ?? error.message
  }
  const fields = error.options.errors?.map((e) => `${e.field}: ${e.message}`).join('; ')
  return error.code === 'validation_error' && fields ? `Invalid input: ${fields}` : error.message
}

export interface CliIo {
  stdout: (text: string) => void
  stderr: (text: string) => void
}

/**
 * The one start-up path of every command: parse, load the configuration once, open the
 * database, bring the schema up to date, run, close. Returns the exit code.
 */
export async function runCli (argv: string[], io: CliIo): Promise<number> {
  let json = argv.includes('--json')
  try {
    const invocation = resolve(argv)
    json = invocation.json
    if (invocation.kind === 'help') {
      io.stdout(json ? `${JSON.stringify({ usage: invocation.text })}\n` : `${invocation.text}\n`)
      return EXIT.ok
    }
    const config = loadConfig()
    const database = createDb(config.databaseUrl)
    const context = createCliContext(config, database.db, (line) => io.stderr(`${line}\n`))
    try {
      if (invocation.spec.managesSchema !== true) await migrateToLatest(database.db)
      const output = await invocation.spec.run(context, invocation.params)
      if (json) io.stdout(`${JSON.stringify(output.json)}\n`)
      else {
        for (const note of output.notes ?? []) io.stderr(`${note}\n`)
        io.stdout(`${output.text}\n`)
      }
      return output.failed === true ? EXIT.failed : EXIT.ok
    } finally {
      context.close()
      await database.close()
    }
  } catch (caught) {
    const error = toAppError(caught)
    const message = messageOf(error)
    io.stderr(`${error.code === 'config_error' ? 'Configuration error' : 'Error'}: ${message}\n`)
    if (json) {
      const body: Record<string, unknown> = { detail: message, code: error.code }
      if (error.options.errors) body.errors = error.options.errors
      io.stdout(`${JSON.stringify(body)}\n`)
    }
    return exitCodeOf(error)
  }
}
