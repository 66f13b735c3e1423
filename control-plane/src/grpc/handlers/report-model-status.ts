import type { sendUnaryData, ServerUnaryCall } from '@grpc/grpc-js';
import { decodeModelStatusReport, type ModelStatusAck } from '@edgefleet/proto';
import { CpError, describeError } from '../../errors.js';
import { identityOf, type FleetControlDeps } from '../handler-deps.js';
import { isServerFault, toGrpcStatus } from '../grpc-status.js';

/**
 * ReportModelStatus: a device reports on the models of its own cameras. The report is stored (latest and
 * history) and audited; a `failed` or `rolled_back` report about the camera's current primary or candidate
 * returns the assignment to what the device runs, with a new revision that its watch stream delivers.
 */
export function reportModelStatusHandler(deps: FleetControlDeps) {
  return (call: ServerUnaryCall<Buffer, ModelStatusAck>, callback: sendUnaryData<ModelStatusAck>): void => {
    void report(deps, call).then(
      (ack) => callback(null, ack),
      (err: unknown) => {
        if (isServerFault(err)) deps.logger.error('model status report failed', { error: describeError(err) });
        callback(toGrpcStatus(err));
      },
    );
  };
}

async function report(deps: FleetControlDeps, call: ServerUnaryCall<Buffer, ModelStatusAck>): Promise<ModelStatusAck> {
  const deviceId = await deps.authenticator.authenticate(identityOf(call));
  const status = decodeModelStatusReport(call.request);
  if (status.deviceId !== deviceId)
    throw new CpError('CP_ERR_FORBIDDEN', `device ${deviceId} may not report for ${status.deviceId}`);
  // A camera the device reports on is one of its cameras, whether or not it listed it before.
  await deps.registry.upsertCameras(deviceId, [{ cameraId: status.cameraId }], deps.clock.now());
  await deps.assignments.recordDeviceReport(status);
  return { accepted: true };
}
