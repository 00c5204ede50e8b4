/** Where a request came from, as sessions and audit events record it. */
export interface ClientInfo {
  ip: string | null
  userAgent: string | null
  /**
   * The OAuth client the request names (`client_id` at the token endpoint). Public clients
   * only: it is recorded in the tokens (RFC 9068), not authenticated. Absent: the default client.
   */
  clientId?: string | undefined
}
