import { Type, type TOptional, type TSchema } from '@sinclair/typebox';
import { isArraySchema, isObjectSchema } from './schema-walk.js';

/**
 * A setting that is optional in the file and always present once loaded, because the loader derives its
 * default from other settings (`<dataDir>/outbox.sqlite`, `cp-<hostname>`). The `derived` keyword marks it
 * in the schema, so `Resolved<typeof Schema>` types it as required and the loader checks at run time that
 * the program's resolve step really filled it.
 */
export type TDerived<T extends TSchema> = TOptional<T> & { readonly derived: true };

/** Marks `schema` as optional in the file and filled by the loader (see TDerived). */
export function Derived<T extends TSchema>(schema: T): TDerived<T> {
  // TypeBox types Optional of a generic T as a conditional type; for a concrete T it is TOptional<T>.
  return { ...Type.Optional(schema), derived: true } as TDerived<T>;
}

/** Whether a property schema was built with Derived. */
export function isDerived(schema: TSchema): boolean {
  return (schema as { derived?: unknown }).derived === true;
}

/** JSON pointers of Derived properties still unset in `value` (inside sections and list items that are present). */
export function missingDerived(schema: TSchema, value: unknown, pointer = ''): string[] {
  if (isArraySchema(schema) && Array.isArray(value)) {
    return value.flatMap((item, i) => missingDerived(schema.items, item, `${pointer}/${i}`));
  }
  if (!isObjectSchema(schema) || typeof value !== 'object' || value === null) return [];
  const record = value as Record<string, unknown>;
  return Object.entries(schema.properties).flatMap(([key, child]) => {
    const at = `${pointer}/${key}`;
    if (record[key] === undefined) return isDerived(child) ? [at] : [];
    return missingDerived(child, record[key], at);
  });
}
