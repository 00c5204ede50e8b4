import type { Config } from '../config/index.js'
import type { Db } from '../database.js'
import type { Clock } from '../lib/clock.js'
import type { TokenSigner } from '../tokens/jwt.js'
import type { UsersService } from '../users/users.service.js'
import type { MfaAdminService } from '../mfa/mfa-admin.service.js'

/**
 * The shape of every operator command. A command parses its arguments first (usage errors
 * come out before anything is opened), then runs against the database the runner opened, and
 * returns its result once, for people (`text`) and for programs (`json`): the runner prints
 * exactly one of them on stdout.
 */

export type OptionSpecs = Record<string, { type: 'string' | 'boolean', short?: string }>

export interface CommandInput {
  /** Positional arguments after `<group> <command>`. */
  args: string[]
  options: Record<string, string | boolean | undefined>
}

export interface CommandOutput {
  /** What `--json` prints: one JSON document. */
  json: unknown
  /** What a person reads on stdout. */
  text: string
  /** Human notes for stderr (e.g. rejected import rows), left out with `--json`, whose document holds them. */
  notes?: string[]
  /** The command ran but did not fully succeed (exit code 1), e.g. an import with rejected rows. */
  failed?: boolean
}

/** What commands run with: one config, one database, services built on first use. */
export interface CliContext {
  readonly config: Config
  readonly db: Db
  readonly clock: Clock
  users: () => UsersService
  /** Two-step verification of other users (reset after a lost device). */
  mfaAdmin: () => MfaAdminService
  signer: () => Promise<TokenSigner>
  readPassword: (prompt: string) => Promise<string>
  /** A human line on stderr (never a secret). */
  warn: (line: string) => void
}

export interface CommandSpec<P = unknown> {
  /** Arguments and options after `<group> <command>`, as shown by `--help`. */
  synopsis: string
  summary: string
  /** More lines for `<group> <command> --help`. */
  details?: string
  options?: OptionSpecs
  /** Checks the arguments before the configuration or the database is touched; throws `Errors.usage`. */
  parse: (input: CommandInput) => P
  /** `migrate` manages the schema itself; every other command first brings it to the latest version. */
  managesSchema?: boolean
  run: (ctx: CliContext, params: P) => Promise<CommandOutput>
}

export interface GroupSpec {
  summary: string
  /** Run when the group is given without a command (`migrate` alone is `migrate up`). */
  defaultCommand?: string
  commands: Record<string, CommandSpec<any>>
}

/** Keeps each command's parameter type between its `parse` and its `run`. */
export function defineCommand<P> (spec: CommandSpec<P>): CommandSpec<P> {
  return spec
}
