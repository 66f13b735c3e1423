/**
 * Classifies database failures for the ingest retry policy. Data errors (a row the database refuses)
 * are permanent: retrying the same rows fails again, so the batch is split to isolate the bad message.
 * Everything else (connection lost, server shutting down, deadlock, out of resources) is transient.
 */

/** SQLSTATE of an error or of any error in its cause chain, or undefined. */
export function sqlStateOf(err: unknown): string | undefined {
  for (
    let e: unknown = err, depth = 0;
    e !== null && e !== undefined && depth < 8;
    e = (e as { cause?: unknown }).cause, depth++
  ) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

/**
 * True when the rows themselves are the problem: class 22 (data exception, e.g. a value out of range or an
 * invalid byte sequence), class 23 (integrity constraint violation) or class 54 (program limit exceeded).
 */
export function isDataError(err: unknown): boolean {
  const state = sqlStateOf(err);
  return state !== undefined && (state.startsWith('22') || state.startsWith('23') || state.startsWith('54'));
}
