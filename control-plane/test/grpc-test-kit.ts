import * as grpc from '@grpc/grpc-js';
import {
  FLEET_CONTROL_CLIENT_DEFINITION,
  type AssignmentSnapshot,
  type DownloadModelRequest,
  type ModelChunk,
  type ModelStatusAck,
  type ModelStatusReport,
  type WatchAssignmentsRequest,
} from '@edgefleet/proto';

/**
 * A real grpc-js client of fleet.v1.FleetControl built from the contract's client definition, as an
 * agent would build it, plus helpers to read streams in tests.
 */

type After = { after: (fn: () => void | Promise<void>) => void };

export interface FleetControlClient extends grpc.Client {
  watchAssignments(
    request: WatchAssignmentsRequest,
    metadata: grpc.Metadata,
  ): grpc.ClientReadableStream<AssignmentSnapshot>;
  downloadModel(request: DownloadModelRequest, metadata: grpc.Metadata): grpc.ClientReadableStream<ModelChunk>;
  reportModelStatus(
    request: ModelStatusReport,
    metadata: grpc.Metadata,
    callback: (err: grpc.ServiceError | null, ack?: ModelStatusAck) => void,
  ): grpc.ClientUnaryCall;
}

const FleetControlClientCtor = grpc.makeGenericClientConstructor(
  FLEET_CONTROL_CLIENT_DEFINITION as unknown as grpc.ServiceDefinition,
  'FleetControl',
);

export function fleetControlClient(
  t: After,
  address: string,
  credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure(),
  options: grpc.ClientOptions = {},
): FleetControlClient {
  const client = new FleetControlClientCtor(address, credentials, options) as unknown as FleetControlClient;
  t.after(() => client.close());
  return client;
}

export function basicAuth(deviceId: string, password: string): grpc.Metadata {
  const md = new grpc.Metadata();
  md.set('authorization', `Basic ${Buffer.from(`${deviceId}:${password}`).toString('base64')}`);
  return md;
}

export function watchRequest(
  deviceId: string,
  cameras: readonly string[] = ['cam-1'],
  extra: Partial<WatchAssignmentsRequest> = {},
): WatchAssignmentsRequest {
  return {
    deviceId,
    knownRevision: 0,
    agentVersion: '0.5.0-test',
    hardware: 'x86_64 test',
    providers: ['cpu'],
    cameras: cameras.map((cameraId) => ({ cameraId, source: `rtsp://10.0.0.9/${cameraId}` })),
    ...extra,
  };
}

/** The messages of a server stream as an async queue: `next()` resolves with the next one or rejects with the stream's error. */
export class StreamReader<T> {
  private readonly items: T[] = [];
  private readonly waiters: { resolve: (v: T) => void; reject: (e: unknown) => void }[] = [];
  private error: unknown = null;
  private ended = false;

  constructor(readonly call: grpc.ClientReadableStream<T>) {
    call.on('data', (item: T) => {
      const w = this.waiters.shift();
      if (w) w.resolve(item);
      else this.items.push(item);
    });
    call.on('error', (err) => {
      this.error = err;
      for (const w of this.waiters.splice(0)) w.reject(err);
    });
    call.on('end', () => {
      this.ended = true;
      for (const w of this.waiters.splice(0)) w.reject(new Error('stream ended'));
    });
  }

  next(timeoutMs = 10_000): Promise<T> {
    const item = this.items.shift();
    if (item !== undefined) return Promise.resolve(item);
    if (this.error) return Promise.reject(this.error);
    if (this.ended) return Promise.reject(new Error('stream ended'));
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.waiters.findIndex((w) => w.resolve === done);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new Error(`no message within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (v: T) => {
        clearTimeout(timer);
        resolve(v);
      };
      this.waiters.push({
        resolve: done,
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
  }

  /** Messages already received and not read. */
  get buffered(): number {
    return this.items.length;
  }

  cancel(): void {
    this.call.cancel();
  }
}

/** Resolves with the status code the stream fails with (rejects when it ends without an error). */
export function streamError(call: grpc.ClientReadableStream<unknown>): Promise<grpc.ServiceError> {
  return new Promise((resolve, reject) => {
    call.on('data', () => undefined);
    call.on('error', (err: grpc.ServiceError) => resolve(err));
    call.on('end', () => reject(new Error('stream ended without an error')));
  });
}

export function report(
  client: FleetControlClient,
  request: ModelStatusReport,
  metadata: grpc.Metadata,
): Promise<ModelStatusAck> {
  return new Promise((resolve, reject) =>
    client.reportModelStatus(request, metadata, (err, ack) => (err ? reject(err) : resolve(ack as ModelStatusAck))),
  );
}

export { grpc };
