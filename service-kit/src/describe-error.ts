/** Codes of the error catalogues (`EDGE_ERR_*`, `CP_ERR_*`, `VISION_ERR_*`, …). */
const CATALOGUE_CODE = /^[A-Z]+_ERR_/;

/**
 * One-line rendering for logs, status and CLI output: `CODE: message (cause: ...)`. The code prefix is
 * shown for errors from any package's catalogue; the cause for any error that has one.
 */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as { code?: unknown }).code;
  const prefix = typeof code === 'string' && CATALOGUE_CODE.test(code) ? `${code}: ` : '';
  const cause = err.cause instanceof Error ? ` (cause: ${err.cause.message})` : '';
  return `${prefix}${err.message}${cause}`;
}
