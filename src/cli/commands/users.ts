import { AppError, Errors } from '../../http/errors.js'
import { CreateUserBody, type UserDto } from '../../users/users.schemas.js'
import type { Actor, UpdateUserInput, UsersService } from '../../users/users.service.js'
import { choiceOption, flag, integerOption, noArgs, oneArg, stringOption } from '../args.js'
import { type CommandInput, defineCommand, type GroupSpec } from '../command.js'
import { bodyValidator } from '../validate.js'

/**
 * `users …`: the admin API's actions through the same users service (same validation, password
 * policy and audit trail, with no acting user), so the CLI cannot do what the API forbids,
 * except repairing the primary admin (set its password, activate, promote).
 */

export const OPERATOR: Actor = { userId: null, ip: null, userAgent: 'authd-admin' }

const validateNewUser = bodyValidator(CreateUserBody)

function describe (user: UserDto): string {
  return `${user.id} ${user.email} ${user.username} role=${user.role} active=${user.is_active} superuser=${user.is_superuser}`
}

/** The service refuses changes to the primary admin as `forbidden`; say why in the operator's terms. */
async function guarded<T> (action: Promise<T>): Promise<T> {
  try {
    return await action
  } catch (error) {
    if (error instanceof AppError && error.code === 'forbidden') {
      throw new AppError(error.statusCode, error.code, 'The primary admin cannot be deactivated, demoted or deleted', { cause: error })
    }
    throw error
  }
}

const FILTER_OPTIONS = {
  active: { type: 'boolean' },
  inactive: { type: 'boolean' },
  sort: { type: 'string' },
  desc: { type: 'boolean' },
  limit: { type: 'string' },
  offset: { type: 'string' }
} as const

const LIST_SYNOPSIS = '[--active|--inactive] [--sort created_at|email|username|name] [--desc] [--limit N] [--offset N]'

function listQuery (input: CommandInput, search: string | undefined) {
  if (flag(input, 'active') && flag(input, 'inactive')) throw Errors.usage('--active and --inactive exclude each other')
  return {
    limit: integerOption(input, 'limit', { fallback: 50, min: 1, max: 1000 }),
    offset: integerOption(input, 'offset', { fallback: 0, min: 0, max: 1_000_000_000 }),
    search,
    sort: choiceOption(input, 'sort', ['created_at', 'email', 'username', 'name'] as const, 'created_at'),
    order: flag(input, 'desc') ? 'desc' as const : 'asc' as const,
    isActive: flag(input, 'active') ? true : flag(input, 'inactive') ? false : undefined
  }
}

async function listOutput (users: UsersService, query: ReturnType<typeof listQuery>) {
  const page = await users.list(query)
  return { json: page, text: [...page.items.map(describe), `${page.items.length} of ${page.total} user(s)`].join('\n') }
}

/** activate, deactivate, promote, demote: one target, one patch. */
function changeCommand (name: string, summary: string, patch: UpdateUserInput, done: string) {
  return defineCommand({
    synopsis: '<id|email>',
    summary,
    parse: (input) => oneArg(input, `users ${name}`, 'user id or email'),
    run: async (ctx, target) => {
      const users = ctx.users()
      const user = await guarded(users.update((await users.find(target)).id, patch, OPERATOR))
      return { json: user, text: `${done} ${describe(user)}` }
    }
  })
}

export const usersGroup: GroupSpec = {
  summary: 'create, change, list and search users',
  commands: {
    create: defineCommand({
      synopsis: '--email E --username U [--name N] [--role R] [--superuser] [--verified]',
      summary: 'create a user (password prompted, or the first line of stdin)',
      details: '--superuser also sets role admin unless --role is given. The input is checked as POST /api/v1/users checks it.',
      options: { email: { type: 'string' }, username: { type: 'string' }, name: { type: 'string' }, role: { type: 'string' }, superuser: { type: 'boolean' }, verified: { type: 'boolean' } },
      parse: (input) => {
        noArgs(input, 'users create')
        const email = stringOption(input, 'email')
        const username = stringOption(input, 'username')
        if (email === undefined || username === undefined) throw Errors.usage('users create needs --email and --username')
        const name = stringOption(input, 'name')
        const role = stringOption(input, 'role') ?? (flag(input, 'superuser') ? 'admin' : undefined)
        return {
          email: email.trim(),
          username,
          ...(name !== undefined ? { name } : {}),
          ...(role !== undefined ? { role } : {}),
          is_superuser: flag(input, 'superuser'),
          is_verified: flag(input, 'verified')
        }
      },
      run: async (ctx, fields) => {
        // Checked before the password is asked for, so a typo costs no typing.
        const errors = validateNewUser({ ...fields, password: 'placeholder' })
        if (errors.length > 0) throw Errors.validation(errors)
        const password = await ctx.readPassword('Password for the new user: ')
        const user = await ctx.users().create({ ...fields, password }, OPERATOR)
        return { json: user, text: `Created ${describe(user)}` }
      }
    }),
    'set-password': defineCommand({
      synopsis: '<id|email>',
      summary: "set a user's password (prompted, or the first line of stdin); ends their sessions",
      parse: (input) => oneArg(input, 'users set-password', 'user id or email'),
      run: async (ctx, target) => {
        const users = ctx.users()
        const found = await users.find(target)
        const password = await ctx.readPassword(`New password for ${found.email}: `)
        const user = await users.update(found.id, { password }, OPERATOR)
        return { json: user, text: `Password set for ${user.email}; their sessions were ended` }
      }
    }),
    deactivate: changeCommand('deactivate', 'deactivate a user and end their sessions', { is_active: false }, 'Deactivated'),
    activate: changeCommand('activate', 'reactivate a user', { is_active: true }, 'Activated'),
    promote: changeCommand('promote', 'make a user superuser with role admin', { is_superuser: true, role: 'admin' }, 'Promoted'),
    demote: changeCommand('demote', 'make a superuser a member again (ends their sessions)', { is_superuser: false, role: 'member' }, 'Demoted'),
    'reset-mfa': defineCommand({
      synopsis: '<id|email>',
      summary: "turn a user's two-step verification off (lost device); ends their sessions and mails them",
      details: 'As DELETE /api/v1/users/{id}/mfa: the TOTP secret and recovery codes are deleted; passkeys are kept.',
      parse: (input) => oneArg(input, 'users reset-mfa', 'user id or email'),
      run: async (ctx, target) => {
        const user = await ctx.users().find(target)
        await ctx.mfaAdmin().resetMfa(user.id, OPERATOR)
        return { json: { ...user, mfa_enabled: false }, text: `Two-step verification turned off for ${user.email}; their sessions were ended and they were told by mail` }
      }
    }),
    show: defineCommand({
      synopsis: '<id|email>',
      summary: 'one user',
      parse: (input) => oneArg(input, 'users show', 'user id or email'),
      run: async (ctx, target) => {
        const user = await ctx.users().find(target)
        return { json: user, text: describe(user) }
      }
    }),
    list: defineCommand({
      synopsis: `[--search S] ${LIST_SYNOPSIS}`,
      summary: 'one page of users (default 50, oldest first)',
      options: { search: { type: 'string' }, ...FILTER_OPTIONS },
      parse: (input) => {
        noArgs(input, 'users list', '; use --search or users search')
        return listQuery(input, stringOption(input, 'search'))
      },
      run: (ctx, query) => listOutput(ctx.users(), query)
    }),
    search: defineCommand({
      synopsis: `<term> ${LIST_SYNOPSIS}`,
      summary: 'users whose email, username or name contains the term (any case)',
      options: FILTER_OPTIONS,
      parse: (input) => listQuery(input, oneArg(input, 'users search', 'term')),
      run: (ctx, query) => listOutput(ctx.users(), query)
    })
  }
}
