import type { Static, TArray, TObject, TOptional, TProperties, TSchema } from '@sinclair/typebox';
import type { TDerived } from './derived.js';

/** The schema as the loader leaves it: every Derived property required, the rest unchanged. */
type ResolvedSchema<T extends TSchema> =
  T extends TDerived<infer S>
    ? ResolvedSchema<S>
    : T extends TOptional<infer S>
      ? TOptional<ResolvedSchema<S>>
      : T extends TObject<infer P>
        ? TObject<ResolvedProperties<P>>
        : T extends TArray<infer I>
          ? TArray<ResolvedSchema<I>>
          : T;

type ResolvedProperties<P extends TProperties> = { [K in keyof P]: ResolvedSchema<P[K]> };

export type DeepReadonly<T> = T extends (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

export type Mutable<T> = T extends readonly (infer U)[]
  ? Mutable<U>[]
  : T extends object
    ? { -readonly [K in keyof T]: Mutable<T[K]> }
    : T;

/**
 * What a loader returns: validated, with every schema default and every Derived default applied, frozen.
 * Properties with a schema default are required in TypeBox's Static already; Derived ones become so here.
 */
export type Resolved<T extends TSchema> = DeepReadonly<Static<ResolvedSchema<T>>>;
