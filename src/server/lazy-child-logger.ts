import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions } from 'pino';

type LogMethod = FastifyBaseLogger['info'];

/**
 * A request logger that creates its pino child only when something is logged. Fastify makes one
 * child per request; most admission answers log nothing at info level, and creating the child was
 * a measurable share of a request's cost (bench/admission).
 */
class LazyChildLogger {
  private created: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly options: ChildLoggerOptions,
  ) {}

  private get logger(): FastifyBaseLogger {
    this.created ??= this.parent.child(this.bindings, this.options);
    return this.created;
  }

  get level(): string {
    return this.created?.level ?? this.parent.level;
  }

  set level(level: string) {
    this.logger.level = level;
  }

  /** A dropped line builds nothing: the threshold is the parent's until a child exists. */
  private enabled(level: string): boolean {
    const logger = (this.created ?? this.parent) as unknown as { isLevelEnabled?: (l: string) => boolean };
    return logger.isLevelEnabled?.(level) ?? true;
  }

  private method(level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace'): LogMethod {
    return ((...args: Parameters<LogMethod>) => {
      if (!this.enabled(level)) return;
      (this.logger[level] as (...a: unknown[]) => void)(...args);
    }) as LogMethod;
  }

  fatal = this.method('fatal');
  error = this.method('error');
  warn = this.method('warn');
  info = this.method('info');
  debug = this.method('debug');
  trace = this.method('trace');
  silent: LogMethod = (() => undefined) as LogMethod;

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.logger.child(bindings, options);
  }
}

/** Fastify `childLoggerFactory` that defers creating each request's child logger until it logs. */
export function lazyChildLoggerFactory(logger: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
  // A route-specific level changes the threshold itself: build that child at once.
  if (options.level !== undefined) return logger.child(bindings, options);
  return new LazyChildLogger(logger, bindings, options) as unknown as FastifyBaseLogger;
}
