// The targets of the bench, in one place: bench/run.ts marks each run against them and
// bench/chart.ts draws them (also over results written before a target existed).

export type Ceiling = 'ceiling_get' | 'ceiling_post' | 'ceiling_hash'

export interface RatioTarget {
  ceiling: Ceiling
  /** Share of the ceiling to reach; undefined: measured, no target. */
  sqlite?: number
  /** On PostgreSQL (+ Redis), where it differs. */
  postgres?: number
}

export const ratioTargets: Record<string, RatioTarget> = {
  me: { ceiling: 'ceiling_get', sqlite: 0.6, postgres: 0.5 },
  me_cookie: { ceiling: 'ceiling_get', sqlite: 0.55 },
  refresh: { ceiling: 'ceiling_post', sqlite: 0.4, postgres: 0.15 },
  // Sign-in and sign-up are one argon2id hash each: the ceiling is the machine's hash rate.
  signin: { ceiling: 'ceiling_hash', sqlite: 0.9 },
  signup: { ceiling: 'ceiling_hash', sqlite: 0.8 },
  token: { ceiling: 'ceiling_hash' },
  mfa_verify: { ceiling: 'ceiling_post', sqlite: 0.3 },
  passkey_signin: { ceiling: 'ceiling_post', sqlite: 0.25 }
}

export function targetFor (scenario: string, postgres: boolean): number | undefined {
  const target = ratioTargets[scenario]
  if (!target) return undefined
  return postgres ? target.postgres ?? target.sqlite : target.sqlite
}

/** `GET /me` p99 at half of its peak rate, in ms. */
export const meHalfPeakP99Ms = 5
/** Peak RSS of the service over the whole bench, in MiB. */
export const peakRssMib = 200
/** Event-loop delay p99 during `signin`, in ms. */
export const signinEventLoopP99Ms = 20
