import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync } from 'fastify';

/**
 * The web dashboard: three static files (control-plane/dashboard/) served at /dashboard, open like /docs
 * because they hold no data; the page calls the REST API with the token the user pastes, so roles apply
 * as for any client. `/` redirects to it. A strict Content-Security-Policy allows only this origin's
 * script and style: the page renders data as text, and no inline script runs.
 */

const DIR = fileURLToPath(new URL('../../../dashboard/', import.meta.url));

const FILES = [
  { url: '/dashboard', file: 'index.html', type: 'text/html; charset=utf-8' },
  { url: '/dashboard/dashboard.js', file: 'dashboard.js', type: 'text/javascript; charset=utf-8' },
  { url: '/dashboard/dashboard.css', file: 'dashboard.css', type: 'text/css; charset=utf-8' },
] as const;

const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
} as const;

export const dashboardRoutes: FastifyPluginAsync = async (app) => {
  // Read once at start: a missing file is a broken install and fails start-up with the path, not a 404 later.
  const bodies = FILES.map((f) => ({ ...f, body: readFileSync(`${DIR}${f.file}`) }));
  for (const f of bodies) {
    app.get(f.url, { config: { access: 'public' }, schema: { hide: true } }, async (_request, reply) =>
      reply.headers(SECURITY_HEADERS).type(f.type).send(f.body),
    );
  }
  app.get('/', { config: { access: 'public' }, schema: { hide: true } }, async (_request, reply) =>
    reply.redirect('/dashboard'),
  );
  // Browsers ask for it on every page; without this route they would get a 401 (unknown routes need a token).
  app.get('/favicon.ico', { config: { access: 'public' }, schema: { hide: true } }, async (_request, reply) =>
    reply.status(204).header('cache-control', 'max-age=86400').send(),
  );
};
