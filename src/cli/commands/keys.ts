import { Errors } from '../../http/errors.js'
import { toDate, toIso } from '../../lib/clock.js'
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
        // A key is published from its creation, signs from `activates_at` (tokens/key-timeline.ts)
        // and stops signing at `retired_at`, which may lie ahead.
        const now = ctx.clock.now().getTime()
        const keys = (await listSigningKeys(ctx.db)).map((row) => {
          const activatesAt = row.activates_at ?? row.created_at
          const state = toDate(activatesAt).getTime() > now
            ? 'pending' as const
            : row.retired_at === null || toDate(row.retired_at).getTime() > now ? 'active' as const : 'retired' as const
          return {
            kid: row.kid,
            alg: row.alg,
            created_at: toIso(row.created_at),
            activates_at: toIso(activatesAt),
            retired_at: row.retired_at === null ? null : toIso(row.retired_at),
            state
          }
        })
        const describe = (key: typeof keys[number]): string => key.state === 'pending'
          ? `pending, signs from ${key.activates_at}`
          : key.state === 'retired' ? `retired ${key.retired_at ?? ''}` : key.retired_at === null ? 'active' : `active until ${key.retired_at}`
        const text = keys.map((key) => `${key.kid} ${key.alg} created ${key.created_at} ${describe(key)}`)
        return { json: { keys }, text: keys.length > 0 ? text.join('\n') : 'No signing keys (the first is made when the service starts)' }
      }
    }),
    rotate: defineCommand({
      synopsis: '',
      summary: 'publish a new signing key; it signs after the publication lead (7 minutes)',
      details: 'The key is in the JWKS at once and signs on every instance from its activation time, so verifiers that cache the JWKS never meet it unannounced; tokens of the old key keep verifying until they expire.',
      parse: (input) => noArgs(input, 'keys rotate'),
      run: async (ctx) => {
        assertManagedKeys(ctx)
        const kid = await (await ctx.signer()).rotate()
        const row = (await listSigningKeys(ctx.db)).find((key) => key.kid === kid)
        const activatesAt = toIso(row?.activates_at ?? row?.created_at ?? ctx.clock.now())
        return { json: { kid, activates_at: activatesAt }, text: `rotated: new signing key ${kid} published now, signs from ${activatesAt}` }
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
