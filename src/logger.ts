/** Console-compatible logger; pass `console` to see everything. Every method is optional. */
export interface Logger {
  debug?(...args: unknown[]): void;
  info?(...args: unknown[]): void;
  warn?(...args: unknown[]): void;
  error?(...args: unknown[]): void;
}

export interface FullLogger {
  debug(...args: unknown[]): void;
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}

const noop = () => {};

/** Fills the missing methods with no-ops; silent when no logger is given. */
export function toFullLogger(logger: Logger | undefined): FullLogger {
  if (!logger) return SILENT;
  return {
    debug: logger.debug?.bind(logger) ?? noop,
    info: logger.info?.bind(logger) ?? noop,
    warn: logger.warn?.bind(logger) ?? noop,
    error: logger.error?.bind(logger) ?? noop,
  };
}

export const SILENT: FullLogger = { debug: noop, info: noop, warn: noop, error: noop };
