import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

/**
 * Loads fleet/v1/telemetry.proto once, at module load. The .proto ships inside the package (see
 * `files` in package.json) and is the only source of the wire format; nothing is generated from it,
 * so the schema and the codecs cannot drift apart.
 */

const PROTO_RELATIVE = join('fleet', 'v1', 'telemetry.proto');

/** The package's .proto, found from this module: `src/` in the sources, `dist/src/` when compiled. */
function findProtoFile(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    const candidate = join(dir, PROTO_RELATIVE);
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error(`@edgefleet/proto: ${PROTO_RELATIVE} not found above ${dirname(fileURLToPath(import.meta.url))} (is the package installed with its fleet/ folder?)`);
}

export const TELEMETRY_PROTO_PATH = findProtoFile();

const root = protobuf.loadSync(TELEMETRY_PROTO_PATH);

function type(name: string): protobuf.Type {
  return root.lookupType(`fleet.v1.${name}`);
}

/** Reflected message types of fleet.v1 (protobufjs generates their encoders and decoders on first use). */
export const FleetV1 = {
  DetectionBatch: type('DetectionBatch'),
  DeviceStatus: type('DeviceStatus'),
  DeviceMetrics: type('DeviceMetrics'),
} as const;
