/**
 * Error catalogue of the scenes package. Every failure carries a stable code so callers
 * (the CLI, the control plane, the edge agent's synthetic source) can react without parsing text.
 */

import { defineErrorCatalogue, type ErrorCatalogue } from '@edgefleet/service-kit';

export const SCENES_ERRORS = {
  SCENES_ERR_ARGS: { message: 'invalid arguments' },
  SCENES_ERR_DOMAIN: { message: 'invalid domain spec' },
  SCENES_ERR_SCHEDULE: { message: 'invalid domain schedule' },
  SCENES_ERR_SCENE: { message: 'invalid scene description' },
  SCENES_ERR_PNG_DECODE: { message: 'PNG cannot be decoded' },
  SCENES_ERR_PNG_ENCODE: { message: 'PNG cannot be encoded' },
  SCENES_ERR_OUTPUT: { message: 'dataset output cannot be written' },
} as const satisfies ErrorCatalogue;

export type ScenesErrorCode = keyof typeof SCENES_ERRORS;

export const { ErrorClass: ScenesError, isError: isScenesError } = defineErrorCatalogue({
  name: 'ScenesError',
  catalogue: SCENES_ERRORS,
});
export type ScenesError = InstanceType<typeof ScenesError>;
