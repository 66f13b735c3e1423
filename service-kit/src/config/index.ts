export type { ConfigErrors } from './config-errors.js';
export {
  type JsonSyntaxPosition,
  jsonSyntaxPosition,
  type ReadConfigFileOptions,
  readConfigFile,
} from './config-file.js';
export {
  type ConfigDefinition,
  ConfigLoader,
  type ParseConfigOptions,
} from './config-loader.js';
export { formatSchemaErrors, renderValue } from './config-problems.js';
export {
  configReferenceMarkdown,
  type ReferenceOptions,
  type ReferenceRow,
  referenceRows,
} from './config-reference.js';
export { deepFreeze } from './deep-freeze.js';
export { Derived, isDerived, missingDerived, type TDerived } from './derived.js';
export {
  type ApplyEnvOverridesOptions,
  applyEnvOverrides,
  type EnvOverrideResult,
  type EnvOverrideRules,
  overrideNames,
} from './env-overrides.js';
export type { DeepReadonly, Mutable, Resolved } from './resolved.js';
export {
  describeSchema,
  envSegment,
  isArraySchema,
  isObjectSchema,
  type LeafKind,
  leafKind,
  literalValues,
} from './schema-walk.js';
export {
  type LoadOrCreateSecretFileOptions,
  loadOrCreateSecretFile,
  type ReadSecretFileOptions,
  readPasswordFile,
  readSecretFile,
  type SecretFile,
} from './secret-file.js';
