import { Errors } from '../../http/errors.js'
import { toIso } from '../../lib/clock.js'
import { pruneRetiredKeys } from '../../tokens/key-rotation.js'
import { listSigningKeys } from '../../tokens/signing-keys.repository.js'
import { noArgs } from '../args.js'
import { type CliContext, defineCommand, type GroupSpec } from '../command.js'

function assertManagedKeys (ctx: CliContext): void {
  if (ctx.config.tokens.jwtSecret !== undefined) throw Errors.invalidConfig('JWT_SECRET is set: tokens are signed with that shared secret, so there is no signing key to rotate')
}

/** `keys …`: signing keys for access tokens. Never prints key material, only ids and dates. */
export const keysGroup: GroupSpec = {
  summary: 'signing keys of access tokens',
  commands: {
    list: defineCommand({
      synopsis: '',
      summary: 'signing keys: id, algorithm, created, active or retired (never key material)',
      parse: (input) => noArgs(input, 'keys list'),
      run: async (ctx) => {
        // No service lists keys (the signer holds only the usable ones): the table is read as is.
        const keys = (await listSigningKeys(ctx.db)).map((row) => ({
          kid: row.kid,
          alg: row.alg,
          created_at: toIso(row.created_at),
          retired_at: row.retired_at === null ? null : toIso(row.retired_at),
          state: row.retired_at === null ? 'active' as const : 'retired' as const
        }))
        const text = keys.map((key) => `${key.kid} ${key.alg} created ${key.created_at} ${key.retired_at === null ? 'active' : `retired ${key.retired_at}`}`)
        return { json: { keys }, text: keys.length > 0 ? text.join('\n') : 'No signing keys (the first is made when the service starts)' }
      }
    }),
    rotate: defineCommand({
      synopsis: '',
      summary: 'a new signing key now; tokens of the old one keep verifying until they expire',
      details: 'Running instances switch to the new key at their next key reload (within a minute).',
      parse: (input) => noArgs(input, 'keys rotate'),
      run: async (ctx) => {
        assertManagedKeys(ctx)
        const kid = await (await ctx.signer()).rotate()
        return { json: { kid }, text: `rotated: new signing key ${kid}` }
      }
    }),
    prune: defineCommand({
      synopsis: '',
      summary: 'delete retired keys whose tokens have all expired',
      parse: (input) => noArgs(input, 'keys prune'),
      run: async (ctx) => {
        const pruned = await pruneRetiredKeys({ db: ctx.db, config: ctx.config, clock: ctx.clock })
        return { json: { pruned }, text: `pruned: ${pruned} retired key(s)` }
      }
    })
  }
}
