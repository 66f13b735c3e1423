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

/** `{1,NULL,2.5}`: numbers or SQL NULLs; callers pass finite numbers only. */
export function nullableNumberArrayLiteral(values: readonly (number | null)[]): string {
  const parts = new Array<string>(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    parts[i] = v === null || v === undefined ? 'NULL' : String(v);
  }
  return `{${parts.join(',')}}`;
}

/**
 * An array of number arrays as a text[] literal, `{"{1,2}",NULL}`: one element per row (unnest() would
 * flatten a two-dimensional array), cast to `real[]` per row in SQL. Null: the row has none.
 */
export function nestedNumberArrayLiteral(values: readonly (readonly number[] | null)[]): string {
  const parts = new Array<string>(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    parts[i] = v === null || v === undefined ? 'NULL' : `"{${v.join(',')}}"`;
  }
  return `{${parts.join(',')}}`;
}
