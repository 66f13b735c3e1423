/**
 * @edgefleet/service-kit: the runtime pieces both programs share. Each concept lives in one file
 * named for it; this entry re-exports them.
 */
export { type Component, ComponentGroup, ComponentStack, type StopFailure, type Stoppable } from './lifecycle.js';
export { createLogger, type Logger, type LoggerOptions, type LogLevel, SECRET_FIELD, silentLogger } from './logger.js';
export {
  isSecretParameter,
  PARAMETER_MASK,
  PASSWORD_MASK,
  type RedactUrlOptions,
  redactUrl,
} from './redact-url.js';
export {
  type CatalogueError,
  type CatalogueErrorClass,
  type CatalogueErrorOptions,
  defineErrorCatalogue,
  type ErrorCatalogue,
  type ErrorCatalogueOptions,
  type ErrorEntry,
  type ErrorGuard,
  errorGuard,
  type StatusOf,
} from './error-catalogue.js';
export { describeError } from './describe-error.js';
export { Backoff, type BackoffOptions, DEFAULT_BACKOFF } from './backoff.js';
export { type Clock, systemClock, type TimerHandle } from './clock.js';
export { PeriodicTask, type PeriodicTaskOptions } from './periodic-task.js';
export { type AttemptEnd, ReconnectLoop, type ReconnectLoopOptions } from './reconnect-loop.js';
export { WakeableSleep } from './wakeable-sleep.js';
