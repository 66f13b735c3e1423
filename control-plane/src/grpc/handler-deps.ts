import type { ServerUnaryCall } from '@grpc/grpc-js';
import type { ArtifactStore } from '../artifacts/artifact-store.js';
import type { AssignmentService } from '../assignments/assignment-service.js';
import type { EventBus } from '../events/event-bus.js';
import type { Logger } from '@edgefleet/service-kit';
import type { RegistryStore } from '../storage/registry-store.js';
import type { CallIdentity, DeviceAuthenticator } from './device-authenticator.js';
import type { EncodedChunkCache } from './encoded-chunk-cache.js';
import type { WatchRegistry } from './watch-registry.js';
import type { Clock } from '@edgefleet/service-kit';

/** What the FleetControl method handlers (one file each under handlers/) share. */
export interface FleetControlDeps {
  readonly authenticator: DeviceAuthenticator;
  readonly assignments: AssignmentService;
  readonly registry: RegistryStore;
  readonly artifacts: ArtifactStore;
  /** Encoded chunks shared by downloads; without it every download reads and encodes its own. */
  readonly chunks?: EncodedChunkCache;
  readonly bus: EventBus;
  readonly watches: WatchRegistry;
  readonly logger: Logger;
  readonly clock: Clock;
}

/** Metadata and, with mTLS, the verified client certificate's CN. */
export function identityOf(call: Pick<ServerUnaryCall<unknown, unknown>, 'metadata' | 'getAuthContext'>): CallIdentity {
  const cert = call.getAuthContext().sslPeerCertificate;
  const cn = cert?.subject?.CN;
  return { metadata: call.metadata, certificateCommonName: Array.isArray(cn) ? cn[0] : cn };
}
