/**
 * Cheap checks run before a pipeline is built, so that a camera that is simply not there (host
 * down, file or device missing) fails with a clear EDGE_ERR_SOURCE_UNAVAILABLE instead of a
 * GStreamer error, and, more importantly, without building a pipeline at all: gstreamer-superficial
 * never frees a pipeline, so every rebuild of a dead camera would otherwise leak one (about
 * 100 KB measured for an RTSP pipeline), every backoff period, for as long as the camera is down.
 */
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { connect } from 'node:net';
import { EdgeError } from '../errors.js';
import type { SourceSpec } from './source-spec.js';

export interface PreflightOptions {
  /** TCP connect timeout for network cameras, ms. Default 3000. */
  readonly connectTimeoutMs?: number;
}

/** Resolves when the source looks reachable; rejects with EDGE_ERR_SOURCE_UNAVAILABLE otherwise. */
export async function preflightSource(spec: SourceSpec, options: PreflightOptions = {}): Promise<void> {
  switch (spec.kind) {
    case 'file':
    case 'image':
      return checkAccess(spec.path, constants.R_OK, 'file');
    case 'v4l2':
      return checkAccess(spec.device, constants.R_OK | constants.W_OK, 'V4L2 device');
    case 'rtsp':
      return probeTcp(spec.uri, spec.displayUri, options.connectTimeoutMs ?? 3000);
    case 'image-sequence': // listed (and checked) when its links are created
    case 'csi':
    case 'testsrc':
      return;
  }
}

async function checkAccess(path: string, mode: number, what: string): Promise<void> {
  try {
    await access(path, mode);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new EdgeError('EDGE_ERR_SOURCE_UNAVAILABLE', `${what} ${path} cannot be opened (${code})`, { cause: err });
  }
}

/** The RTSP control connection is TCP whatever the media transport, so a TCP connect tells whether the camera answers. */
function probeTcp(uri: string, displayUri: string, timeoutMs: number): Promise<void> {
  const url = new URL(uri);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = url.port === '' ? (url.protocol === 'rtsps:' ? 322 : 554) : Number(url.port);
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const finish = (err: EdgeError | null): void => {
      clearTimeout(timer);
      socket.destroy();
      if (err === null) resolve();
      else reject(err);
    };
    const timer = setTimeout(() => {
      finish(
        new EdgeError(
          'EDGE_ERR_SOURCE_UNAVAILABLE',
          `no TCP answer from ${host}:${port} within ${timeoutMs} ms (${displayUri})`,
        ),
      );
    }, timeoutMs);
    socket.once('connect', () => finish(null));
    socket.once('error', (err: NodeJS.ErrnoException) => {
      finish(
        new EdgeError(
          'EDGE_ERR_SOURCE_UNAVAILABLE',
          `cannot connect to ${host}:${port}: ${err.code ?? err.message} (${displayUri})`,
          {
            cause: err,
          },
        ),
      );
    });
  });
}
