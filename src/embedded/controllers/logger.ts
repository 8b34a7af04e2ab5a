import type { Logger } from 'pino';

/** The log methods the controllers use; a pino Logger fits. */
export type ControllerLogger = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;
