import type { ConfigErrors } from '@edgefleet/service-kit/config';
import { CpError } from '../errors.js';

/** Configuration failures in the control plane's catalogue; CP_ERR_CONFIG_INVALID names every problem in its message. */
export const controlPlaneConfigErrors: ConfigErrors = {
  read: (message, options) => new CpError('CP_ERR_CONFIG_READ', message, options),
  invalid: ({ source, problems }) =>
    new CpError('CP_ERR_CONFIG_INVALID', `${source}: ${problems.join('; ')}`, { details: problems }),
};
