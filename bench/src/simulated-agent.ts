import * as grpc from '@grpc/grpc-js';
import {
  FLEET_CONTROL_CLIENT_DEFINITION,
  type AssignmentSnapshot,
  type CameraAssignment,
  type ModelStatusAck,
} from '@edgefleet/proto';
import { epochMs } from './bench-util.js';
import { basicAuthorization, type AckRecord, type SimulatedDevice } from './rollout-ipc.js';

const methods = FLEET_CONTROL_CLIENT_DEFINITION;

/**
 * Deadline of one report. The real agent's is `control.callTimeoutMs` (10 s by default), after which it
 * retries; the benchmark waits longer so that a slow acknowledgement is measured, not retried.
 */
const REPORT_DEADLINE_MS = 120_000;

export interface SimulatedAgentEvents {
  /** The watch delivered its first snapshot: the stream is open and the control plane knows the camera. */
  onFirstSnapshot(): void;
  onAck(ack: AckRecord): void;
  /** The watch ended or a report failed: the run is invalid. */
  onFailure(message: string): void;
}

/** The real agent's channel options (edge-agent ControlClient) plus one that is this agent's alone. */
function channelOptions(index: number): grpc.ChannelOptions {
  return {
    'grpc.keepalive_time_ms': 30_000,
    'grpc.keepalive_timeout_ms': 10_000,
    'grpc.max_receive_message_length': 8 * 1024 * 1024,
    // grpc-js shares one connection among channels whose target and options are equal: an option of its
    // own gives every simulated agent its own HTTP/2 connection, as separate devices have.
    'bench.simulated_agent': index,
  };
}

function describeGrpc(err: unknown): string {
  const e = err as Partial<grpc.ServiceError>;
  return typeof e?.code === 'number'
    ? `${grpc.status[e.code] ?? e.code}: ${e.details ?? e.message ?? ''}`
    : String(err);
}

/**
 * One device as the control plane sees it on gRPC: its own channel, Basic credentials, a WatchAssignments
 * stream naming one camera, and for each snapshot with a new revision of that camera the report an agent
 * sends first (`received`), whose ModelStatusAck is the acknowledgement measured.
 */
export class SimulatedAgent {
  private readonly client: grpc.Client;
  private readonly metadata = new grpc.Metadata();
  private call: grpc.ClientReadableStream<AssignmentSnapshot> | null = null;
  /** Highest camera revision reported. */
  private reported: number;
  private delivered = false;
  private closing = false;

  constructor(
    private readonly index: number,
    target: string,
    private readonly device: SimulatedDevice,
    private readonly events: SimulatedAgentEvents,
  ) {
    this.client = new grpc.Client(target, grpc.credentials.createInsecure(), channelOptions(index));
    this.metadata.set('authorization', basicAuthorization(device.deviceId, device.password));
    this.reported = device.knownRevision;
  }

  watch(): void {
    const m = methods.watchAssignments;
    const call = this.client.makeServerStreamRequest(
      m.path,
      m.requestSerialize,
      m.responseDeserialize,
      {
        deviceId: this.device.deviceId,
        knownRevision: this.reported,
        agentVersion: 'bench-simulated-agent',
        hardware: 'simulated',
        providers: ['cpu'],
        cameras: [{ cameraId: this.device.cameraId, source: 'videotestsrc' }],
      },
      this.metadata,
    );
    this.call = call;
    call.on('data', (snapshot: AssignmentSnapshot) => this.onSnapshot(snapshot, epochMs()));
    call.on('error', (err: grpc.ServiceError) => {
      if (!this.closing) this.events.onFailure(`${this.device.deviceId}: watch failed: ${describeGrpc(err)}`);
    });
    call.on('status', (status: grpc.StatusObject) => {
      if (!this.closing && status.code === grpc.status.OK)
        this.events.onFailure(`${this.device.deviceId}: the control plane ended the watch`);
    });
  }

  close(): void {
    this.closing = true;
    this.call?.cancel();
    this.client.close();
  }

  private onSnapshot(snapshot: AssignmentSnapshot, at: number): void {
    if (!this.delivered) {
      this.delivered = true;
      this.events.onFirstSnapshot();
    }
    const camera = snapshot.cameras.find((c) => c.cameraId === this.device.cameraId);
    if (!camera || camera.revision <= this.reported) return;
    this.reported = camera.revision;
    this.report(camera, at);
  }

  private report(camera: CameraAssignment, snapshotAt: number): void {
    const m = methods.reportModelStatus;
    const { primary, revision } = camera;
    this.client.makeUnaryRequest(
      m.path,
      m.requestSerialize,
      m.responseDeserialize,
      {
        deviceId: this.device.deviceId,
        cameraId: this.device.cameraId,
        sha256: primary.sha256,
        modelId: primary.modelId,
        version: primary.version,
        arm: 'primary',
        state: 'received',
        reason: '',
        revision,
        atMs: Date.now(),
        rolledBackTo: '',
        bytesDone: 0,
      },
      this.metadata,
      { deadline: Date.now() + REPORT_DEADLINE_MS },
      (err: grpc.ServiceError | null, ack?: ModelStatusAck) => {
        const ackAt = epochMs();
        if (err)
          this.events.onFailure(`${this.device.deviceId}: report of revision ${revision} failed: ${describeGrpc(err)}`);
        else if (!ack?.accepted)
          this.events.onFailure(`${this.device.deviceId}: report of revision ${revision} not accepted`);
        else this.events.onAck({ device: this.index, revision, snapshotAt, ackAt });
      },
    );
  }
}
