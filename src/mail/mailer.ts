/** One mail as the outbox hands it to a transport. */
export interface OutgoingMail {
  /** The outbox row id; also the Message-ID's local part, so a resend is recognisable. */
  id: string
  template: string
  to: string
  subject: string
  text: string
  html: string
}

/** The transport behind the outbox: SMTP in production, the log in development. */
export interface Mailer {
  /**
   * 'smtp' hands mail to a server, after which the outbox forgets the body (it may carry a live
   * one-time link); 'log' keeps the body in the outbox, where the operator command reads it.
   */
  readonly kind: 'smtp' | 'log'
  /** Resolves once the mail is accepted; rejects on any failure (the outbox retries). */
  send: (mail: OutgoingMail) => Promise<void>
  close: () => Promise<void>
}
