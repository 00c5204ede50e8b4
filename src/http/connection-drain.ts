import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { Errors } from './errors.js'

interface SocketState { inFlight: Set<ServerResponse>, served: number }

export interface ConnectionDrain {
  /** Requests being answered now. */
  inFlight: () => number
  /** Ends every connection at once (the grace period is over). */
  destroyAll: () => void
}

/**
 * Shapes what `server.close()` does to open connections, for a shutdown that loses nothing:
 * - a keep-alive connection with no request in progress is closed at once (its client opens
 *   a new one, to another instance);
 * - a connection with a request in progress stays open until that response is written, which
 *   then says `Connection: close` and ends it;
 * - a connection accepted but whose first request has not been read yet (a burst arrives
 *   faster than it is parsed) gets `firstRequestWaitMs` for it: that request is answered
 *   (503 `service_unavailable` while closing) instead of being reset unseen, as Node's own
 *   `closeIdleConnections()` would do.
 * The listening socket itself closes at once, so new connections are refused.
 */
export function drainConnectionsOnClose (server: Server, options: { firstRequestWaitMs: number }): ConnectionDrain {
  const sockets = new Map<Socket, SocketState>()
  let closing = false

  server.on('connection', (socket: Socket) => {
    sockets.set(socket, { inFlight: new Set(), served: 0 })
    socket.once('close', () => sockets.delete(socket))
  })
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const socket = request.socket
    const state = sockets.get(socket)
    if (!state) return
    state.inFlight.add(response)
    if (closing) response.shouldKeepAlive = false
    response.once('close', () => {
      state.inFlight.delete(response)
      state.served++
      // Written with keep-alive before the shutdown began: end it now that it is idle.
      if (closing && state.inFlight.size === 0 && !socket.destroyed) socket.end()
    })
  })

  // Called by server.close() (Node 19+) and by Fastify's close.
  server.closeIdleConnections = () => {
    closing = true
    for (const [socket, state] of sockets) {
      if (state.inFlight.size > 0) {
        for (const response of state.inFlight) if (!response.headersSent) response.shouldKeepAlive = false
      } else if (state.served > 0) {
        socket.destroy()
      } else {
        setTimeout(() => {
          if (state.served === 0 && state.inFlight.size === 0) socket.destroy()
        }, options.firstRequestWaitMs).unref()
      }
    }
  }

  return {
    inFlight: () => [...sockets.values()].reduce((sum, state) => sum + state.inFlight.size, 0),
    destroyAll: () => { for (const socket of sockets.keys()) socket.destroy() }
  }
}

/**
 * Shutting down: requests that arrive on connections still open (see http/connection-drain.ts)
 * get a 503 the client may retry elsewhere; the ones already in a handler run to the end.
 */
export function registerShutdownRefusal (app: FastifyInstance): void {
  let closing = false
  app.addHook('preClose', async () => { closing = true })
  // Synchronous, as every per-request hook: no promise for the requests that pass.
  app.addHook('onRequest', (_request, reply, done) => {
    if (!closing) { done(); return }
    reply.header('connection', 'close')
    done(Errors.serviceUnavailable(1))
  })
}
