import { buildApp } from './app.js'
import { ConfigError, loadConfig } from './config/index.js'
import { drainConnectionsOnClose } from './http/connection-drain.js'

/** Process entry: config → app → listen, and a graceful close on SIGINT/SIGTERM. */
async function main (): Promise<void> {
  let config
  try {
    config = loadConfig()
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`Configuration error: ${error.message}\n`)
      process.exit(2)
    }
    throw error
  }
  const app = await buildApp(config)
  const connections = drainConnectionsOnClose(app.server, { firstRequestWaitMs: Math.min(1000, config.http.shutdownGraceMs) })
  let closing = false
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (closing) return
      closing = true
      app.log.info({ signal, inFlight: connections.inFlight() }, 'shutting down: no new connections, finishing accepted requests')
      // Exit 0 only when every accepted request finished within the grace period.
      const force = setTimeout(() => {
        app.log.error({ inFlight: connections.inFlight(), graceMs: config.http.shutdownGraceMs }, 'requests still running after SHUTDOWN_GRACE_MS: closing their connections')
        connections.destroyAll()
        process.exit(1)
      }, config.http.shutdownGraceMs)
      force.unref()
      app.close().then(() => process.exit(0), (error: unknown) => {
        app.log.error({ err: error }, 'error while closing')
        process.exit(1)
      })
    })
  }
  await app.listen({ host: config.host, port: config.port })
}

main().catch((error: unknown) => {
  // One line: the message names the variable (see DatabaseStartupError); never a driver's
  // whole error object or a stack.
  process.stderr.write(`Failed to start: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(1)
})
