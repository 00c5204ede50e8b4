import type { FastifyBaseLogger } from 'fastify'
import type { Bindings, ChildLoggerOptions, Logger, LogFn } from 'pino'

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace'

/**
 * `request.log` without a pino child logger per request. Fastify's default builds one for every
 * request (bindings serialised, redaction set up) although most requests log nothing past the
 * access line, which is written through the parent with the request id (see `logRequest`).
 * This stand-in costs one small object; the real child is made the first time something is
 * logged at an enabled level, and every later call goes to it, so lines look exactly as before.
 */
class RequestLogger {
  #child: FastifyBaseLogger | undefined
  readonly #threshold: number

  constructor (readonly parent: Logger, readonly bindings: Bindings, readonly options: ChildLoggerOptions) {
    this.#threshold = options.level ? parent.levels.values[options.level] ?? parent.levelVal : parent.levelVal
  }

  #real (): FastifyBaseLogger {
    this.#child ??= this.parent.child(this.bindings, this.options)
    return this.#child
  }

  #log (level: Level, args: Parameters<LogFn>): void {
    if (this.parent.levels.values[level]! < this.#threshold) return
    ;(this.#real()[level] as LogFn)(...args)
  }

  get level (): string { return this.#child?.level ?? this.options.level ?? this.parent.level }
  set level (level: string) { this.#real().level = level }

  fatal (...args: Parameters<LogFn>): void { this.#log('fatal', args) }
  error (...args: Parameters<LogFn>): void { this.#log('error', args) }
  warn (...args: Parameters<LogFn>): void { this.#log('warn', args) }
  info (...args: Parameters<LogFn>): void { this.#log('info', args) }
  debug (...args: Parameters<LogFn>): void { this.#log('debug', args) }
  trace (...args: Parameters<LogFn>): void { this.#log('trace', args) }
  silent (): void {}
  child (bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger { return this.#real().child(bindings, options) }
  isLevelEnabled (level: string): boolean { return (this.parent.levels.values[level] ?? Infinity) >= this.#threshold }
}

/** Fastify's `childLoggerFactory`: see `RequestLogger`. */
export function requestLoggerFactory (logger: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
  return new RequestLogger(logger as Logger, bindings, options) as unknown as FastifyBaseLogger
}

/** Whether `log` (the app's pino logger, a request's logger) writes at `level`. */
export function isLevelEnabled (log: FastifyBaseLogger, level: string): boolean {
  return (log as unknown as { isLevelEnabled: (level: string) => boolean }).isLevelEnabled(level)
}
