/**
 * A small but real control plane for the model-manager tests: a gRPC server (@grpc/grpc-js) serving
 * fleet.v1.FleetControl from the committed contract (FLEET_CONTROL_SERVER_DEFINITION and its codecs), with
 * real artifacts signed by a real ed25519 key. It checks the device's Basic credential like the real one,
 * records what agents ask and report, and can misbehave on purpose (serve other bytes, cut a download).
 * Not a test file of its own.
 */
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import {
  FLEET_CONTROL_SERVER_DEFINITION,
  ProtoError,
  decodeDownloadModelRequest,
  decodeModelStatusReport,
  decodeWatchAssignmentsRequest,
  modelSignaturePayload,
  signingKeyId,
  type AssignmentSnapshot,
  type CameraAssignment,
  type DownloadModelRequest,
  type ModelChunk,
  type ModelDescriptor,
  type ModelStatusAck,
  type ModelStatusReport,
  type WatchAssignmentsRequest,
} from '@edgefleet/proto';

/** An ed25519 signing key as the control plane holds it. */
export class TestSigner {
  readonly privateKey: KeyObject;
  readonly raw: Buffer;

  constructor() {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    this.privateKey = privateKey;
    this.raw = Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url');
  }

  /** What the agent's `control.publicKey` pins. */
  get publicKeyBase64(): string {
    return this.raw.toString('base64');
  }

  get keyId(): string {
    return signingKeyId(this.raw);
  }

  sign(d: Omit<ModelDescriptor, 'signature' | 'keyId'>): ModelDescriptor {
    return {
      ...d,
      keyId: this.keyId,
      signature: new Uint8Array(sign(null, modelSignaturePayload(d), this.privateKey)),
    };
  }
}

export interface PublishOptions {
  readonly modelId?: string;
  readonly version: string;
  /** Default: the next registry serial. */
  readonly serial?: number;
  /** Signed by another key (the agent pins `signer`). */
  readonly signer?: TestSigner;
  /** No signature: 64 zero bytes, the pinned key's id. */
  readonly unsigned?: boolean;
}

/** How DownloadModel misbehaves for one artifact. */
export interface ServeOverride {
  /** Served instead of the published bytes (tampered or truncated files). */
  readonly bytes?: Uint8Array;
  /** The first download stream of it ends with UNAVAILABLE once this many bytes were sent. */
  readonly cutAfter?: number;
}

/** Server certificate and key (PEM); with `clientCa`, clients must present a certificate it signed (mTLS). */
export interface TestServerTls {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly clientCa?: Buffer;
}

export type AssignmentInput = Pick<CameraAssignment, 'cameraId' | 'primary'> &
  Partial<Omit<CameraAssignment, 'cameraId' | 'primary' | 'revision'>>;

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function waitUntil(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

export class TestControlPlane {
  readonly signer = new TestSigner();
  readonly reports: ModelStatusReport[] = [];
  readonly watches: WatchAssignmentsRequest[] = [];
  readonly downloads: DownloadModelRequest[] = [];
  private readonly artifacts = new Map<string, Uint8Array>();
  private readonly overrides = new Map<string, ServeOverride>();
  private readonly assignments = new Map<string, CameraAssignment>();
  private readonly streams = new Set<grpc.ServerWritableStream<Buffer, AssignmentSnapshot>>();
  private server: grpc.Server | null = null;
  private serial = 0;
  private revision = 0;
  port = 0;

  private constructor(
    readonly deviceId: string,
    readonly password: string,
    private readonly tls: TestServerTls | null,
  ) {}

  /** Listens on 127.0.0.1 (an ephemeral port unless `port` is given); plain text unless `tls` is given. */
  static async start(options: {
    deviceId: string;
    password?: string;
    port?: number;
    tls?: TestServerTls;
  }): Promise<TestControlPlane> {
    const cp = new TestControlPlane(options.deviceId, options.password ?? 'device-secret', options.tls ?? null);
    await cp.listen(options.port ?? 0);
    return cp;
  }

  get url(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** The agent's `control` section for this control plane. */
  controlConfig(extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      url: this.url,
      insecure: true,
      password: this.password,
      publicKey: this.signer.publicKeyBase64,
      reconnectMinMs: 50,
      reconnectMaxMs: 500,
      ...extra,
    };
  }

  private async listen(port: number): Promise<void> {
    const server = new grpc.Server();
    server.addService(FLEET_CONTROL_SERVER_DEFINITION as unknown as grpc.ServiceDefinition, {
      watchAssignments: (call: grpc.ServerWritableStream<Buffer, AssignmentSnapshot>) => this.onWatch(call),
      downloadModel: (call: grpc.ServerWritableStream<Buffer, ModelChunk>) => this.onDownload(call),
      reportModelStatus: (
        call: grpc.ServerUnaryCall<Buffer, ModelStatusAck>,
        done: grpc.sendUnaryData<ModelStatusAck>,
      ) => this.onReport(call, done),
    });
    const credentials = this.tls
      ? grpc.ServerCredentials.createSsl(
          this.tls.clientCa ?? null,
          [{ cert_chain: this.tls.cert, private_key: this.tls.key }],
          this.tls.clientCa !== undefined,
        )
      : grpc.ServerCredentials.createInsecure();
    this.port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`127.0.0.1:${port}`, credentials, (err, bound) => (err ? reject(err) : resolve(bound))),
    );
    this.server = server;
  }

  /** The control plane goes away: every stream and connection is cut. */
  async stop(): Promise<void> {
    for (const s of this.streams) s.emit('error', { code: grpc.status.UNAVAILABLE, details: 'control plane stopping' });
    this.streams.clear();
    this.server?.forceShutdown();
    this.server = null;
  }

  /** Back on the same port, with the same registry and assignments. */
  async restart(): Promise<void> {
    await this.listen(this.port);
  }

  // ---- registry ---------------------------------------------------------------------------------

  /** Registers an artifact and returns its (signed) descriptor. */
  publish(bytes: Uint8Array, o: PublishOptions): ModelDescriptor {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    this.artifacts.set(sha256, bytes);
    const serial = o.serial ?? ++this.serial;
    this.serial = Math.max(this.serial, serial);
    const unsigned = {
      modelId: o.modelId ?? 'det',
      version: o.version,
      serial,
      sha256,
      sizeBytes: bytes.length,
      classNames: ['person', 'car'],
      inputWidth: 64,
      inputHeight: 64,
    };
    if (o.unsigned) return { ...unsigned, keyId: this.signer.keyId, signature: new Uint8Array(64) };
    return (o.signer ?? this.signer).sign(unsigned);
  }

  serve(sha256: string, override: ServeOverride): void {
    this.overrides.set(sha256, override);
  }

  /** Changes the given cameras' assignments (each gets a new revision) and pushes the snapshot to every watcher. */
  assign(...cameras: AssignmentInput[]): number {
    for (const c of cameras) {
      this.revision++;
      this.assignments.set(c.cameraId, {
        splitBasisPoints: 0,
        rollback: false,
        reason: 'test',
        ...c,
        revision: this.revision,
      });
    }
    const snapshot = this.snapshot();
    for (const s of this.streams) s.write(snapshot);
    return this.revision;
  }

  snapshot(): AssignmentSnapshot {
    const cameras = [...this.assignments.values()];
    return {
      deviceId: this.deviceId,
      revision: Math.max(0, ...cameras.map((c) => c.revision)),
      cameras,
      sentAtMs: Date.now(),
    };
  }

  async waitForReport(
    predicate: (r: ModelStatusReport) => boolean,
    what: string,
    timeoutMs = 30_000,
  ): Promise<ModelStatusReport> {
    await waitUntil(() => this.reports.some(predicate), what, timeoutMs);
    return this.reports.find(predicate) as ModelStatusReport;
  }

  reportsFor(sha256: string): ModelStatusReport[] {
    return this.reports.filter((r) => r.sha256 === sha256);
  }

  // ---- handlers ---------------------------------------------------------------------------------

  private authorized(metadata: grpc.Metadata): boolean {
    const expected = `Basic ${Buffer.from(`${this.deviceId}:${this.password}`).toString('base64')}`;
    return metadata.get('authorization')[0] === expected;
  }

  private onWatch(call: grpc.ServerWritableStream<Buffer, AssignmentSnapshot>): void {
    if (!this.authorized(call.metadata)) {
      call.emit('error', { code: grpc.status.UNAUTHENTICATED, details: 'bad device credential' });
      return;
    }
    let request: WatchAssignmentsRequest;
    try {
      request = decodeWatchAssignmentsRequest(call.request);
    } catch (err) {
      call.emit('error', {
        code: grpc.status.INVALID_ARGUMENT,
        details: err instanceof ProtoError ? err.message : String(err),
      });
      return;
    }
    this.watches.push(request);
    this.streams.add(call);
    call.on('cancelled', () => this.streams.delete(call));
    call.on('close', () => this.streams.delete(call));
    call.write(this.snapshot());
  }

  private onDownload(call: grpc.ServerWritableStream<Buffer, ModelChunk>): void {
    if (!this.authorized(call.metadata)) {
      call.emit('error', { code: grpc.status.UNAUTHENTICATED, details: 'bad device credential' });
      return;
    }
    const request = decodeDownloadModelRequest(call.request);
    this.downloads.push(request);
    const override = this.overrides.get(request.sha256);
    const bytes = override?.bytes ?? this.artifacts.get(request.sha256);
    if (!bytes) {
      call.emit('error', { code: grpc.status.NOT_FOUND, details: `no artifact ${request.sha256}` });
      return;
    }
    const cut = override?.cutAfter;
    if (cut !== undefined) this.overrides.set(request.sha256, { ...override, cutAfter: undefined });
    const chunk = Math.min(request.chunkBytes || 64 * 1024, 64 * 1024);
    let sent = 0;
    for (let offset = request.offset; offset < bytes.length; offset += chunk) {
      if (cut !== undefined && sent >= cut) {
        call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'connection cut by the test' });
        return;
      }
      const data = bytes.subarray(offset, Math.min(bytes.length, offset + chunk));
      call.write({ offset, data, totalBytes: bytes.length });
      sent += data.length;
    }
    call.end();
  }

  private onReport(call: grpc.ServerUnaryCall<Buffer, ModelStatusAck>, done: grpc.sendUnaryData<ModelStatusAck>): void {
    if (!this.authorized(call.metadata)) {
      done({ code: grpc.status.UNAUTHENTICATED, details: 'bad device credential' });
      return;
    }
    let report: ModelStatusReport;
    try {
      report = decodeModelStatusReport(call.request);
    } catch (err) {
      done({ code: grpc.status.INVALID_ARGUMENT, details: err instanceof ProtoError ? err.message : String(err) });
      return;
    }
    this.reports.push(report);
    done(null, { accepted: true });
  }
}
