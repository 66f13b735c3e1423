import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { matchApiToken } from '../auth/api-token.js';
import { CpError } from '../errors.js';

/**
 * Bearer-token authentication and role check for every route (`onRequest`, before the body is read).
 * Missing or unknown token: 401 CP_ERR_UNAUTHENTICATED with `WWW-Authenticate: Bearer`; a viewer calling
 * a route that changes something: 403 CP_ERR_FORBIDDEN. Routes say `config: { access }`; the default is
 * viewer for GET/HEAD and admin for everything else, so a new mutating route is admin-only unless it says
 * otherwise. Unknown routes need a token too (no route discovery without one).
 */
export const authHookPlugin = fp(
  async (app: FastifyInstance) => {
    app.addHook('onRequest', async (request, reply) => {
      const access =
        request.routeOptions.config?.access ??
        (request.method === 'GET' || request.method === 'HEAD' ? 'viewer' : 'admin');
      if (access === 'public') return;
      const header = request.headers.authorization;
      const match = typeof header === 'string' ? /^Bearer +(\S+) *$/i.exec(header) : null;
      const entry = match ? matchApiToken(match[1] as string, app.cp.tokens) : null;
      if (!entry) {
        void reply.header('www-authenticate', 'Bearer realm="edgefleet-control-plane"');
        throw new CpError(
          'CP_ERR_UNAUTHENTICATED',
          match ? 'unknown bearer token' : 'send "Authorization: Bearer <token>"',
        );
      }
      request.principal = { name: entry.name, role: entry.role };
      if (access === 'admin' && entry.role !== 'admin') {
        throw new CpError(
          'CP_ERR_FORBIDDEN',
          `${request.method} ${request.routeOptions.url ?? request.url} needs the admin role; token "${entry.name}" is a ${entry.role}`,
        );
      }
    });
  },
  { name: 'cp-auth', fastify: '5.x', dependencies: ['cp-api-context'] },
);
