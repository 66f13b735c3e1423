import { dirname, resolve } from 'node:path';
import type { Static, TObject } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import type { ConfigErrors } from './config-errors.js';
import { readConfigFile } from './config-file.js';
import { formatSchemaErrors } from './config-problems.js';
import { deepFreeze } from './deep-freeze.js';
import { missingDerived } from './derived.js';
import { applyEnvOverrides, type EnvOverrideRules } from './env-overrides.js';
import type { Mutable, Resolved } from './resolved.js';

/** What a program says about its configuration; the loader does the rest the same way for every program. */
export interface ConfigDefinition<S extends TObject> {
  /** The single source of types, defaults, validation and the reference. */
  readonly schema: S;
  readonly env: EnvOverrideRules;
  readonly errors: ConfigErrors;
  /**
   * Rules the schema cannot say (unique ids, combinations of settings), as problem lines. They run on
   * invalid input too, so the problems come all at once: be defensive about shape.
   */
  readonly rules?: (value: unknown) => string[];
  /** Resolves relative paths against `baseDir` and fills every Derived setting, in place, once valid. */
  readonly resolve?: (config: Mutable<Static<S>>, context: { readonly baseDir: string }) => void;
}

export interface ParseConfigOptions {
  /** Default: no overrides. */
  readonly env?: NodeJS.ProcessEnv;
  /** Relative paths in the configuration are resolved against it; default process.cwd(). */
  readonly baseDir?: string;
  /** Named in error messages; default 'configuration'. */
  readonly source?: string;
}

/**
 * Loading order: read the JSON file → apply the environment overrides → fill schema defaults → validate,
 * every problem collected and none thrown early (overrides, schema, the program's rules) → resolve paths
 * and derived defaults → freeze. JSON only: YAML would need a parser dependency.
 */
export class ConfigLoader<S extends TObject> {
  private checker: TypeCheck<S> | null = null;

  constructor(readonly definition: ConfigDefinition<S>) {}

  /** Reads the file, then as parse, with relative paths resolved against the file's directory. */
  load(path: string, env: NodeJS.ProcessEnv = process.env): Resolved<S> {
    const raw = readConfigFile({ path, errors: this.definition.errors });
    return this.parse(raw, { env, baseDir: dirname(resolve(path)), source: path });
  }

  /** Validates an already parsed configuration value; `raw` is not modified. */
  parse(raw: unknown, options: ParseConfigOptions = {}): Resolved<S> {
    const { schema, rules, errors } = this.definition;
    const value = structuredClone(raw);
    const env = applyEnvOverrides({ raw: value, env: options.env ?? {}, schema, rules: this.definition.env });
    const defaulted: unknown = Value.Default(schema, value);
    this.checker ??= TypeCompiler.Compile(schema);
    const problems = [
      ...env.problems,
      ...formatSchemaErrors(this.checker.Errors(defaulted), env.sources),
      ...(rules?.(defaulted) ?? []),
    ];
    if (problems.length > 0) throw errors.invalid({ source: options.source ?? 'configuration', problems });
    return this.resolved(defaulted as Mutable<Static<S>>, options.baseDir ?? process.cwd());
  }

  private resolved(config: Mutable<Static<S>>, baseDir: string): Resolved<S> {
    this.definition.resolve?.(config, { baseDir });
    const missing = missingDerived(this.definition.schema, config);
    if (missing.length > 0) throw new Error(`the configuration's resolve step left derived settings unset: ${missing}`);
    // Safe: validated against the schema, and every Derived setting checked present just above.
    return deepFreeze(config) as unknown as Resolved<S>;
  }
}
