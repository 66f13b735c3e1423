process.env.UV_THREADPOOL_SIZE ??= '16';

/**
 * The agent's health verdict on real runs (capture, model, outbox, metrics server): `ok` while every camera
 * runs, `degraded` (HTTP 200) when some do not, `failing` (HTTP 503) when none does. The dead camera is an
 * RTSP address nothing listens on, so it stays reconnecting.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { constantDetector } from '@edgefleet/vision/testing/onnx-builder';
import { Agent } from '../src/agent/agent.js';
import { parseConfig } from '../src/config/load-config.js';
import { silentLogger } from '@edgefleet/service-kit';
import { freePort, makeJpegs, sleep, waitFor, withTempDir } from './capture-fixtures.js';

interface Camera {
  readonly id: string;
  readonly uri: string;
  readonly realtime?: boolean;
  readonly fps?: number;
}

const live = (id: string): Camera => ({ id, uri: 'testsrc://?fps=10&width=64&height=48' });
const dead = async (id: string): Promise<Camera> => ({ id, uri: `rtsp://127.0.0.1:${await freePort()}/${id}` });

/** Runs an agent with these cameras until each live one processed a frame and each dead one failed once. */
async function withAgent(
  dir: string,
  cameras: Camera[],
  check: (agent: Agent, healthz: () => Promise<Response>) => Promise<void>,
): Promise<void> {
  const modelPath = join(dir, 'model.onnx');
  writeFileSync(modelPath, constantDetector());
  const port = await freePort();
  const config = parseConfig({
    deviceId: 'health-test',
    dataDir: join(dir, `data-${cameras.map((c) => c.id).join('-')}`),
    model: { path: modelPath, providers: ['cpu'] },
    cameras,
    metrics: { enabled: true, host: '127.0.0.1', port },
  });
  const agent = new Agent({ config, logger: silentLogger });
  await agent.start();
  try {
    for (const c of cameras) {
      const camera = () => agent.status().cameras[c.id]!;
      if (!c.uri.startsWith('rtsp:')) await waitFor(`${c.id} processing`, () => camera().framesProcessed >= 1, 60_000);
      else await waitFor(`${c.id} failing to connect`, () => camera().capture.restarts >= 1, 60_000);
    }
    await check(agent, () => fetch(`http://127.0.0.1:${port}/healthz`));
  } finally {
    await agent.stop();
  }
}

/** The verdict from the agent and from GET /healthz, with its HTTP status. */
async function assertHealth(
  agent: Agent,
  healthz: () => Promise<Response>,
  expected: { status: string; code: number },
): Promise<void> {
  assert.equal(agent.health().status, expected.status);
  const res = await healthz();
  assert.equal(res.status, expected.code);
  assert.equal(((await res.json()) as { status: string }).status, expected.status);
}

describe('agent health', () => {
  it('is ok while every camera runs', async () => {
    await withTempDir(async (dir) => {
      await withAgent(dir, [live('a'), live('b')], (agent, healthz) =>
        assertHealth(agent, healthz, { status: 'ok', code: 200 }),
      );
    });
  });

  it('turns degraded, still answering 200, when one camera of two cannot connect', async () => {
    await withTempDir(async (dir) => {
      await withAgent(dir, [live('a'), await dead('b')], async (agent, healthz) => {
        await assertHealth(agent, healthz, { status: 'degraded', code: 200 });
        const { cameras } = agent.status();
        assert.deepEqual([cameras.a!.capture.state, cameras.b!.capture.state], ['running', 'reconnecting']);
      });
    });
  });

  it('turns failing, answering 503, when no camera runs', async () => {
    await withTempDir(async (dir) => {
      await withAgent(dir, [await dead('a'), await dead('b')], (agent, healthz) =>
        assertHealth(agent, healthz, { status: 'failing', code: 503 }),
      );
    });
  });

  it('moves from ok to degraded to failing as its cameras stop running, one after the other', async () => {
    await withTempDir(async (dir) => {
      // Two finite image sequences played in real time: the short one ends first, then the long one.
      const sequence = async (id: string, frames: number): Promise<Camera> => {
        const images = join(dir, id);
        mkdirSync(images);
        await makeJpegs(images, frames, 64, 48);
        return { id, uri: `dir://${images}`, realtime: true, fps: 10 };
      };
      const cameras = [await sequence('short', 20), await sequence('long', 60)];
      await withAgent(dir, cameras, async (agent, healthz) => {
        const seen: string[] = [];
        const codes: number[] = [];
        const deadline = Date.now() + 60_000;
        while (seen.at(-1) !== 'failing' && Date.now() < deadline) {
          const status = agent.health().status;
          if (seen.at(-1) !== status) {
            seen.push(status);
            codes.push((await healthz()).status);
          }
          await sleep(20);
        }
        assert.deepEqual(seen, ['ok', 'degraded', 'failing']);
        assert.deepEqual(codes, [200, 200, 503]);
      });
    });
  });
});
