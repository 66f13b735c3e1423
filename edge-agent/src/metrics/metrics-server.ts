import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { EdgeError, describeError } from '../errors.js';
import type { Component } from '@edgefleet/service-kit';

/** What /healthz reports; `failing` answers 503 so a plain HTTP probe sees it. */
export interface HealthReport {
  readonly status: 'ok' | 'degraded' | 'failing';
  readonly [key: string]: unknown;
}

export interface MetricsServerDeps {
  /** Default '127.0.0.1': metrics stay on the device unless configured otherwise. */
  readonly host?: string;
  /** Default 9464 (the OpenTelemetry/Prometheus exporter port); 0 picks a free port. */
  readonly port?: number;
  /** Served at /metrics (AgentMetrics.registry). */
  readonly registry: Pick<Registry, 'metrics' | 'contentType'>;
  readonly health: () => HealthReport | Promise<HealthReport>;
}

/** Local HTTP endpoint: GET /metrics (Prometheus text) and GET /healthz (JSON). */
export class MetricsServer implements Component {
  readonly name = 'metrics-server';
  private server: Server | null = null;

  constructor(private readonly deps: MetricsServerDeps) {}

  /** Listens (`address()` tells where). Throws EDGE_ERR_METRICS_LISTEN (e.g. port in use). */
  async start(_signal?: AbortSignal): Promise<void> {
    if (this.server) return;
    const host = this.deps.host ?? '127.0.0.1';
    const port = this.deps.port ?? 9464;
    const server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        // handle() answers its own errors; this only fires if writing the answer itself failed.
        res.destroy(err instanceof Error ? err : new Error(String(err)));
      });
    });
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => {
        reject(new EdgeError('EDGE_ERR_METRICS_LISTEN', `${host}:${port}: ${err.code ?? err.message}`, { cause: err }));
      };
      server.once('error', onError);
      server.listen(port, host, () => {
        server.off('error', onError);
        resolve();
      });
    });
    this.server = server;
  }

  /** Base URL while running, e.g. `http://127.0.0.1:9464`. */
  get url(): string {
    const { host, port } = this.address();
    return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  }

  address(): { host: string; port: number } {
    if (!this.server) throw new Error('metrics server is not running');
    const a = this.server.address() as AddressInfo;
    return { host: a.address, port: a.port };
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    const closed = new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    // Scrapers keep connections alive; do not let them hold up shutdown.
    server.closeAllConnections();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path !== '/metrics' && path !== '/healthz') {
      return send(
        res,
        404,
        'text/plain; charset=utf-8',
        'not found: try /metrics or /healthz\n',
        req.method === 'HEAD',
      );
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n', false);
    }
    const head = req.method === 'HEAD';
    if (path === '/metrics') {
      try {
        const body = await this.deps.registry.metrics();
        return send(res, 200, this.deps.registry.contentType, body, head);
      } catch (err) {
        return send(res, 500, 'text/plain; charset=utf-8', `metrics collection failed: ${describeError(err)}\n`, head);
      }
    }
    let report: HealthReport;
    try {
      report = await this.deps.health();
    } catch (err) {
      report = { status: 'failing', error: `health check failed: ${describeError(err)}` };
    }
    const code = report.status === 'failing' ? 503 : 200;
    return send(res, code, 'application/json; charset=utf-8', `${JSON.stringify(report)}\n`, head);
  }
}

function send(res: ServerResponse, status: number, contentType: string, body: string, head: boolean): void {
  res.writeHead(status, {
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
  });
  res.end(head ? undefined : body);
}
