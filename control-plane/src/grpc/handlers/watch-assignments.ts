import type { ServerWritableStream } from '@grpc/grpc-js';
import { decodeWatchAssignmentsRequest, type AssignmentSnapshot } from '@edgefleet/proto';
import { CpError, describeError } from '../../errors.js';
import { identityOf, type FleetControlDeps } from '../handler-deps.js';
import { isServerFault, toGrpcStatus } from '../grpc-status.js';

/**
 * WatchAssignments: authenticate, record what the agent says about itself (version, hardware,
 * providers, cameras), send the device's current snapshot, then one snapshot per change of its
 * assignments (bus events from this replica's changes and from the resync) until the agent cancels or
 * the server stops. Changes that arrive while a snapshot is being built are folded into the next one;
 * a snapshot identical to the last one sent (same cameras and revisions) is not sent again.
 */
export function watchAssignmentsHandler(deps: FleetControlDeps) {
  return (call: ServerWritableStream<Buffer, AssignmentSnapshot>): void => {
    void watch(deps, call);
  };
}

async function watch(deps: FleetControlDeps, call: ServerWritableStream<Buffer, AssignmentSnapshot>): Promise<void> {
  const cleanups: (() => void)[] = [];
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    for (const fn of cleanups.splice(0)) fn();
  };
  call.on('cancelled', close);
  call.on('close', close);
  call.on('finish', close);
  const fail = (err: unknown): void => {
    if (closed) return;
    if (isServerFault(err)) deps.logger.error('watch failed', { error: describeError(err) });
    close();
    call.emit('error', toGrpcStatus(err));
  };

  try {
    const deviceId = await deps.authenticator.authenticate(identityOf(call));
    const request = decodeWatchAssignmentsRequest(call.request);
    if (request.deviceId !== deviceId)
      throw new CpError('CP_ERR_FORBIDDEN', `device ${deviceId} may not watch the assignments of ${request.deviceId}`);
    if (closed) return;
    const seenAt = deps.clock.now();
    await deps.registry.recordAgent({
      deviceId,
      agentVersion: request.agentVersion,
      hardware: request.hardware,
      providers: request.providers,
      seenAt,
    });
    await deps.registry.upsertCameras(
      deviceId,
      request.cameras.map((c) => ({ cameraId: c.cameraId, source: c.source })),
      seenAt,
    );

    let lastSent = '';
    let building = false;
    let again = false;
    const send = async (): Promise<void> => {
      if (building) {
        again = true;
        return;
      }
      building = true;
      try {
        do {
          again = false;
          const snapshot = await deps.assignments.snapshot(deviceId);
          if (closed) return;
          const signature = JSON.stringify(snapshot.cameras.map((c) => [c.cameraId, c.revision]));
          if (signature !== lastSent) {
            lastSent = signature;
            call.write(snapshot);
          }
        } while (again && !closed);
      } finally {
        building = false;
      }
    };
    // Subscribe before the first snapshot is read, so a change committed meanwhile is not missed.
    cleanups.push(
      deps.bus.on('assignment.changed', (event) => {
        if (event.deviceId === deviceId && !closed) send().catch(fail);
      }),
    );
    cleanups.push(
      deps.watches.add({
        deviceId,
        end: () => {
          if (closed) return;
          close();
          call.end();
        },
      }),
    );
    deps.logger.debug('watch opened', {
      deviceId,
      knownRevision: request.knownRevision,
      cameras: request.cameras.length,
    });
    cleanups.push(() => deps.logger.debug('watch closed', { deviceId }));
    await send();
  } catch (err) {
    fail(err);
  }
}
