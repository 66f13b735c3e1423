import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

/**
 * Loads fleet/v1/telemetry.proto and control.proto once, at module load. The .proto files ship inside the
 * package (see `files` in package.json) and are the only source of the wire format; nothing is generated from it,
 * so the schema and the codecs cannot drift apart.
 */

/** One of the package's .proto files, found from this module: `src/` in the sources, `dist/src/` when compiled. */
function findProtoFile(name: string): string {
  const relative = join('fleet', 'v1', name);
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    const candidate = join(dir, relative);
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error(
    `@edgefleet/proto: ${relative} not found above ${dirname(fileURLToPath(import.meta.url))} (is the package installed with its fleet/ folder?)`,
  );
}

export const TELEMETRY_PROTO_PATH = findProtoFile('telemetry.proto');
export const CONTROL_PROTO_PATH = findProtoFile('control.proto');

const root = protobuf.loadSync([TELEMETRY_PROTO_PATH, CONTROL_PROTO_PATH]);

function type(name: string): protobuf.Type {
  return root.lookupType(`fleet.v1.${name}`);
}

/** Reflected message types of fleet.v1 (protobufjs generates their encoders and decoders on first use). */
export const FleetV1 = {
  DetectionBatch: type('DetectionBatch'),
  DeviceStatus: type('DeviceStatus'),
  DeviceMetrics: type('DeviceMetrics'),
  ModelDescriptor: type('ModelDescriptor'),
  AssignmentSnapshot: type('AssignmentSnapshot'),
  WatchAssignmentsRequest: type('WatchAssignmentsRequest'),
  DownloadModelRequest: type('DownloadModelRequest'),
  ModelChunk: type('ModelChunk'),
  ModelStatusReport: type('ModelStatusReport'),
  ModelStatusAck: type('ModelStatusAck'),
} as const;

/** The gRPC service as declared in control.proto (method names and streaming flags). */
export const FleetControlService = root.lookupService('fleet.v1.FleetControl');
