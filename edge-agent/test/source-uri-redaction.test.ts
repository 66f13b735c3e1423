/**
 * A camera URI carrying a password and a `token` query parameter never shows them: not in the agent's
 * log lines, not on /healthz, not in the status it reports (in process and as published over MQTT), not in
 * its metrics. A real agent run: RTSP camera on a port nobody listens on (so the source fails and its
 * error text, which names the source, is shown everywhere), the real YOLOv8n model, an in-process broker.
 */
process.env.UV_THREADPOOL_SIZE ??= '16';

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { it } from 'node:test';
import { createLogger } from '@edgefleet/service-kit';
import { Cleanups, sharedModel, tempDir } from '@edgefleet/service-kit/testing';
import { Agent } from '../src/agent/agent.js';
import { parseConfig } from '../src/config/load-config.js';
import { AedesBroker, DEVICE, freePort, RawSubscriber, uniquePrefix, waitUntil } from './sync-harness.js';

const PASSWORD = 'hunter2pw';
const TOKEN = 's3cr3tT0ken';

it('a camera URI carrying a password and a token is masked in the logs, /healthz, status report and metrics', async (t) => {
  // Stopped in reverse of start order by this one list.
  const cleanups = new Cleanups();
  const stops: (() => Promise<void>)[] = [];
  t.after(async () => {
    for (const stop of stops.reverse()) await stop();
    cleanups.run();
  });
  const broker = await AedesBroker.start();
  stops.push(() => broker.kill());
  const prefix = uniquePrefix();
  const subscriber = await RawSubscriber.connect(broker.url, prefix);
  stops.push(() => subscriber.close());
  const port = await freePort();
  const uri = `rtsp://admin:${PASSWORD}@127.0.0.1:${port}/live?token=${TOKEN}&channel=1`;
  const shown = `rtsp://admin:***@127.0.0.1:${port}/live?token=redacted&channel=1`;

  const lines: string[] = [];
  const config = parseConfig({
    deviceId: DEVICE,
    dataDir: join(tempDir(cleanups, 'edge-redaction-'), 'data'),
    model: { path: sharedModel('yolov8n_int8.onnx'), providers: ['cpu'] },
    cameras: [{ id: 'door', uri }],
    metrics: { enabled: true, host: '127.0.0.1', port: 0 },
    sync: { url: broker.url, topicPrefix: prefix, statusIntervalMs: 200 },
  });
  const agent = new Agent({ config, logger: createLogger({ level: 'debug', write: (line) => lines.push(line) }) });
  stops.push(() => agent.stop());
  await agent.start();

  const camera = () => agent.status().cameras.door!;
  const named = `127.0.0.1:${port}/live`;
  await waitUntil(() => (camera().capture.lastError ?? '').includes(named), 'the refused camera reported', 60_000);
  await waitUntil(
    () => subscriber.statuses.some((s) => s.status.cameras.some((c) => c.lastError.includes(named))),
    'a published status naming the camera',
    30_000,
  );

  const metricsUrl = lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'metrics listening')?.url as string;
  const healthz = await (await fetch(`${metricsUrl}/healthz`)).text();
  const metrics = await (await fetch(`${metricsUrl}/metrics`)).text();
  const shownEverywhere = {
    logs: lines.join('\n'),
    healthz,
    status: JSON.stringify(agent.status()),
    statusLine: agent.statusLine(),
    published: JSON.stringify(subscriber.statuses),
    metrics,
  };
  for (const [where, text] of Object.entries(shownEverywhere)) {
    assert.ok(!text.includes(PASSWORD), `${where} shows the camera password`);
    assert.ok(!text.includes(TOKEN), `${where} shows the camera token`);
  }
  // The source is still shown, masked, where a source is shown.
  assert.equal((camera().capture as { source?: string }).source, shown);
  assert.ok(healthz.includes(shown), 'healthz names the masked source');
  assert.ok(shownEverywhere.logs.includes(shown), 'the logs name the masked source');
  assert.match(metrics, /edge_camera_state\{camera="door"/);
});
