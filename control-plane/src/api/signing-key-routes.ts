import type { FastifyPluginAsync } from 'fastify';
import { errors } from './schemas.js';

/** The public half of the model signing key, for pinning in agent configurations. */
export const signingKeyRoutes: FastifyPluginAsync = async (app) => {
  app.get(
    '/api/v1/signing-key',
    {
      schema: {
        tags: ['models'],
        summary: 'The ed25519 public key that model signatures verify with',
        response: {
          200: {
            type: 'object',
            properties: {
              algorithm: { type: 'string', enum: ['ed25519'] },
              keyId: { type: 'string', description: 'First 16 hex digits of SHA-256 over the raw public key.' },
              publicKey: { type: 'string', description: 'The raw 32-byte public key, base64.' },
              publicKeyPem: { type: 'string', description: 'SubjectPublicKeyInfo PEM.' },
            },
          },
          ...errors(),
        },
      },
    },
    async () => {
      const k = app.cp.signingKey;
      return { algorithm: 'ed25519', keyId: k.keyId, publicKey: k.publicKeyBase64, publicKeyPem: k.publicKeyPem };
    },
  );
};
