import { readFile } from 'node:fs/promises';
import { Server, ServerCredentials, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { FLEET_CONTROL_SERVER_DEFINITION, MAX_CONTROL_MESSAGE_BYTES } from '@edgefleet/proto';
import { CpError } from '../errors.js';
import type { FleetControlDeps } from './handler-deps.js';
import { downloadModelHandler } from './handlers/download-model.js';
import { reportModelStatusHandler } from './handlers/report-model-status.js';
import { watchAssignmentsHandler } from './handlers/watch-assignments.js';
import type { Component } from '@edgefleet/service-kit';

/**
 * The gRPC server of `fleet.v1.FleetControl` for agents: plaintext, TLS, or mTLS (client certificates
 * must chain to `tlsClientCaFile`; the handlers check that the CN is the calling device). Stop ends
 * every watch stream (OK: agents reconnect), then shuts down, forcing it after a grace period.
 */

export interface FleetControlServerOptions {
  readonly host: string;
  readonly port: number;
  readonly tlsCertFile?: string | undefined;
  readonly tlsKeyFile?: string | undefined;
  readonly tlsClientCaFile?: string | undefined;
  readonly keepaliveTimeMs: number;
}

export type GrpcSecurity = 'insecure' | 'tls' | 'mtls';

const STOP_GRACE_MS = 2_000;

async function readPem(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new CpError('CP_ERR_TLS', `${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
      cause: err,
    });
  }
}

export class FleetControlServer implements Component {
  readonly name = 'grpc-server';
  private server: Server | null = null;
  private boundPort: number | null = null;

  constructor(
    private readonly options: FleetControlServerOptions,
    private readonly deps: FleetControlDeps,
  ) {}

  get security(): GrpcSecurity {
    if (this.options.tlsClientCaFile !== undefined) return 'mtls';
    return this.options.tlsCertFile !== undefined ? 'tls' : 'insecure';
  }

  get port(): number {
    if (this.boundPort === null) throw new Error('gRPC server is not started');
    return this.boundPort;
  }

  private async credentials(): Promise<ServerCredentials> {
    const { tlsCertFile, tlsKeyFile, tlsClientCaFile } = this.options;
    if (tlsCertFile === undefined || tlsKeyFile === undefined) return ServerCredentials.createInsecure();
    const [cert, key, ca] = await Promise.all([
      readPem(tlsCertFile),
      readPem(tlsKeyFile),
      tlsClientCaFile ? readPem(tlsClientCaFile) : Promise.resolve(null),
    ]);
    try {
      return ServerCredentials.createSsl(ca, [{ cert_chain: cert, private_key: key }], ca !== null);
    } catch (err) {
      throw new CpError('CP_ERR_TLS', (err as Error).message, { cause: err });
    }
  }

  async start(_signal?: AbortSignal): Promise<void> {
    const server = new Server({
      'grpc.keepalive_time_ms': this.options.keepaliveTimeMs,
      'grpc.keepalive_timeout_ms': 10_000,
      // Requests are small; responses (snapshots, chunks) stay below the contract's bound.
      'grpc.max_receive_message_length': 1024 * 1024,
      'grpc.max_send_message_length': MAX_CONTROL_MESSAGE_BYTES,
      // Channelz (grpc-js' introspection registry, on by default) is served by nobody here, yet it tracks every
      // connection and counts every message: objects per watch on the heap, work per model chunk.
      'grpc.enable_channelz': 0,
    });
    const implementation: UntypedServiceImplementation = {
      watchAssignments: watchAssignmentsHandler(this.deps),
      downloadModel: downloadModelHandler(this.deps),
      reportModelStatus: reportModelStatusHandler(this.deps),
    };
    server.addService(FLEET_CONTROL_SERVER_DEFINITION as never, implementation);
    const credentials = await this.credentials();
    const host = this.options.host.includes(':') ? `[${this.options.host}]` : this.options.host;
    this.boundPort = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`${host}:${this.options.port}`, credentials, (err, port) =>
        err
          ? reject(
              new CpError('CP_ERR_GRPC', `cannot listen on ${host}:${this.options.port}: ${err.message}`, {
                cause: err,
              }),
            )
          : resolve(port),
      ),
    );
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    this.deps.watches.endAll();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, STOP_GRACE_MS);
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
