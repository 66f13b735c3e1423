/**
 * Error classes built from a catalogue of stable codes (fastify's `createError` is the model): each
 * package lists `{ CODE: { message, status? } }` once and gets a class whose instances carry the code, the
 * message `base: detail`, the status, the details and the cause, plus an `isX(err, code?)` guard.
 */

export interface ErrorEntry {
  readonly message: string;
  /** HTTP status the REST layer answers with, where the package has one. */
  readonly status?: number;
}

export type ErrorCatalogue = Readonly<Record<string, ErrorEntry>>;

export interface CatalogueErrorOptions {
  readonly cause?: unknown;
  /** Structured data for callers and logs (not part of the message). */
  readonly details?: unknown;
}

/** `number` when every entry of the catalogue has a status, `number | undefined` otherwise. */
export type StatusOf<T extends ErrorCatalogue> = T[keyof T] extends { readonly status: number }
  ? number
  : number | undefined;

export interface CatalogueError<T extends ErrorCatalogue> extends Error {
  readonly code: keyof T & string;
  readonly status: StatusOf<T>;
  /** The specific part of the message (after the catalogue text), for callers that re-word the error. */
  readonly detail: string | undefined;
  readonly details: unknown;
}

export interface CatalogueErrorClass<T extends ErrorCatalogue> {
  new (code: keyof T & string, detail?: string, options?: CatalogueErrorOptions): CatalogueError<T>;
  readonly prototype: CatalogueError<T>;
}

export type ErrorGuard<E extends { readonly code: string }> = (err: unknown, code?: E['code']) => err is E;

export interface ErrorCatalogueOptions<T extends ErrorCatalogue> {
  /** The class name (`EdgeError`), shown as `err.name` and in stack traces. */
  readonly name: string;
  readonly catalogue: T;
}

/**
 * The error class and guard of one catalogue.
 * @example
 * export const EDGE_ERRORS = { EDGE_ERR_USAGE: { message: 'invalid arguments' } } as const satisfies ErrorCatalogue;
 * export const { ErrorClass: EdgeError, isError: isEdgeError } = defineErrorCatalogue({
 *   name: 'EdgeError',
 *   catalogue: EDGE_ERRORS,
 * });
 * export type EdgeError = InstanceType<typeof EdgeError>;
 */
export function defineErrorCatalogue<T extends ErrorCatalogue>(
  options: ErrorCatalogueOptions<T>,
): { ErrorClass: CatalogueErrorClass<T>; isError: ErrorGuard<CatalogueError<T>> } {
  const { name, catalogue } = options;
  class ErrorClass extends Error {
    readonly code: keyof T & string;
    readonly status: StatusOf<T>;
    readonly detail: string | undefined;
    readonly details: unknown;

    constructor(code: keyof T & string, detail?: string, errorOptions?: CatalogueErrorOptions) {
      const entry = catalogue[code] as ErrorEntry;
      const cause = errorOptions?.cause;
      super(detail ? `${entry.message}: ${detail}` : entry.message, cause === undefined ? undefined : { cause });
      this.name = name;
      this.code = code;
      this.status = entry.status as StatusOf<T>;
      this.detail = detail;
      this.details = errorOptions?.details;
    }
  }
  Object.defineProperty(ErrorClass, 'name', { value: name });
  const errorClass = ErrorClass as unknown as CatalogueErrorClass<T>;
  return { ErrorClass: errorClass, isError: errorGuard(errorClass) };
}

/** `isX(err, code?)` for an error class (also for a subclass that adds fields, like `ProtoError`). */
export function errorGuard<E extends { readonly code: string }>(
  errorClass: abstract new (...args: never[]) => E,
): ErrorGuard<E> {
  return (err: unknown, code?: E['code']): err is E =>
    err instanceof errorClass && (code === undefined || err.code === code);
}
