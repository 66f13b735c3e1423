import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * REST API bearer tokens. The configuration holds SHA-256 hashes only (`auth.tokens[].tokenSha256`), so
 * a leaked configuration file does not leak a token; `control-plane token` style generation is
 * `generateApiToken()` + `hashApiToken()`.
 */

export const API_ROLES = ['admin', 'viewer'] as const;
export type ApiRole = (typeof API_ROLES)[number];

export interface ApiTokenEntry {
  /** Shown in the audit log as `token:<name>`. */
  readonly name: string;
  readonly role: ApiRole;
  /** Lower-case hex SHA-256 of the token text. */
  readonly tokenSha256: string;
}

export interface ApiPrincipal {
  readonly name: string;
  readonly role: ApiRole;
}

/** 32 random bytes, base64url, with a recognisable prefix (secret scanners, logs review). */
export function generateApiToken(): string {
  return `cpt_${randomBytes(32).toString('base64url')}`;
}

export function hashApiToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Finds the token among the entries, comparing every hash in constant time (no early exit). */
export function matchApiToken(token: string, entries: readonly ApiTokenEntry[]): ApiTokenEntry | null {
  const presented = Buffer.from(hashApiToken(token), 'hex');
  let found: ApiTokenEntry | null = null;
  for (const entry of entries) {
    const stored = Buffer.from(entry.tokenSha256, 'hex');
    if (stored.length === presented.length && timingSafeEqual(stored, presented) && found === null) found = entry;
  }
  return found;
}
