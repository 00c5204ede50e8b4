import type { AuthService } from '../auth/auth.service.js'
import type { Config } from '../config/index.js'
import type { AuthRateLimits } from '../rate-limits/rate-limit.js'
import type { RecoveryService } from '../recovery/recovery.service.js'
import type { Authenticate } from '../sessions/authenticate.js'
import type { PasskeysPort, TwoStepPort } from './mfa-pages.js'

/** What the hosted pages are built from: the API's own services. */
export interface PagesOptions {
  config: Config
  auth: AuthService
  recovery: RecoveryService
  rateLimits: AuthRateLimits
  authenticate: Authenticate
  /** The second step of a two-step sign-in and the account's TOTP set-up (absent: not offered). */
  twoStep?: TwoStepPort | undefined
  /** Passkeys (absent: not offered); the sign-in itself runs in the browser against the API. */
  passkeys?: PasskeysPort | undefined
}
