/**
 * PostgreSQL array literals built directly, for unnest() batch inserts. The drivers' generic array
 * serialisers escape element by element through regular expressions and cost about as much as the
 * insert itself on large batches; ingest strings repeat (device, camera, model, label), so quoting
 * each distinct value once is enough.
 */

/** `{"a","b \"q\""}`: every element quoted, `\` and `"` escaped; never NULL. */
export function textArrayLiteral(values: readonly string[]): string {
  const quoted = new Map<string, string>();
  const parts = new Array<string>(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as string;
    let q = quoted.get(v);
    if (q === undefined) {
      q = `"${v.replace(/[\\"]/g, '\\$&')}"`;
      quoted.set(v, q);
    }
    parts[i] = q;
  }
  return `{${parts.join(',')}}`;
}

/** `{1,2.5,-3}`; callers pass finite numbers only (validated before they reach storage). */
export function numberArrayLiteral(values: readonly number[]): string {
  return `{${values.join(',')}}`;
}
