import type { ConfigErrors } from '@edgefleet/service-kit/config';
import { EdgeError } from '../errors.js';

/** Configuration failures in the agent's catalogue: EDGE_ERR_CONFIG_READ and EDGE_ERR_CONFIG_INVALID (`<source>: N problems`). */
export const agentConfigErrors: ConfigErrors = {
  read: (message, options) => new EdgeError('EDGE_ERR_CONFIG_READ', message, options),
  invalid: ({ source, problems }) =>
    new EdgeError(
      'EDGE_ERR_CONFIG_INVALID',
      `${source}: ${problems.length} problem${problems.length === 1 ? '' : 's'}`,
      {
        details: problems,
      },
    ),
};
