import { MAX_ERROR_TEXT_LENGTH, type WatchAssignmentsRequest } from '@edgefleet/proto';
import type { CameraConfig } from '../config/agent-config-schema.js';
import { redactUrl } from '../sync/sync-options.js';

const SECRET_PARAM = /pass|secret|token|key|auth|cred/i;

/**
 * A camera source as the control plane may see it: no user info (`rtsp://user:pw@host` → `rtsp://host`)
 * and secret-looking query parameters masked (`?token=…` → `?token=redacted`).
 */
export function redactSourceUri(uri: string): string {
  const bare = redactUrl(uri);
  const q = bare.indexOf('?');
  if (q < 0) return bare;
  const params = bare
    .slice(q + 1)
    .split('&')
    .map((p) => {
      const eq = p.indexOf('=');
      return eq > 0 && SECRET_PARAM.test(p.slice(0, eq)) ? `${p.slice(0, eq)}=redacted` : p;
    });
  return `${bare.slice(0, q)}?${params.join('&')}`;
}

export interface WatchRequestInput {
  readonly deviceId: string;
  readonly knownRevision: number;
  readonly agentVersion: string;
  readonly providers: readonly string[];
  readonly cameras: readonly Pick<CameraConfig, 'id' | 'uri'>[];
}

/** The hello of a WatchAssignments call: who the device is, what it can run, which cameras it has. */
export function watchRequest(input: WatchRequestInput): WatchAssignmentsRequest {
  return {
    deviceId: input.deviceId,
    knownRevision: input.knownRevision,
    agentVersion: input.agentVersion,
    hardware: `${process.platform}-${process.arch}`,
    providers: [...new Set(input.providers)],
    cameras: input.cameras.map((c) => ({
      cameraId: c.id,
      source: redactSourceUri(c.uri).slice(0, MAX_ERROR_TEXT_LENGTH),
    })),
  };
}
