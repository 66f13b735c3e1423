import { MAX_ERROR_TEXT_LENGTH, type WatchAssignmentsRequest } from '@edgefleet/proto';
import type { CameraConfig } from '../config/agent-config-schema.js';
import { redactUrl } from '@edgefleet/service-kit';

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
      // What leaves the device shows no user name either.
      source: redactUrl(c.uri, { hideUser: true }).slice(0, MAX_ERROR_TEXT_LENGTH),
    })),
  };
}
