// The main job (`./dev fleet`): a local fleet on the embedded defaults.
// For now: one edge agent with a demo camera, printing detections as they happen.
// Until the project's own base model exists, the demo uses the test model in ../shared/models.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

const root = resolve(import.meta.dirname, '..');
const shared = resolve(root, '..', 'shared');
const model = join(shared, 'models', 'yolov8n_int8.onnx');
const images = join(shared, 'images');
if (!existsSync(model) || !existsSync(images)) {
  console.error(`fleet: the demo camera and model come from ${shared} (models/yolov8n_int8.onnx, images/),`);
  console.error('fleet: and that folder is missing. Put the shared test data beside this checkout and run again.');
  process.exit(1);
}

const dataDir = join(root, '.data', 'fleet');
mkdirSync(dataDir, { recursive: true });
const configPath = join(dataDir, 'edge-agent.json');
writeFileSync(
  configPath,
  JSON.stringify(
    {
      deviceId: 'demo-box',
      dataDir: join(dataDir, 'edge-agent'),
      model: { path: model, conf: 0.5 },
      cameras: [{ id: 'demo', uri: `dir://${images}`, loop: true, realtime: true, fps: 2 }],
      metrics: { enabled: true, port: Number(process.env.EDGE_METRICS_PORT ?? 9464) },
      log: { level: 'info' },
    },
    null,
    2,
  ),
);
console.log(`fleet: edge agent 'demo-box', camera 'demo' = ${images} (looping, 2 fps), model ${model}`);
console.log(`fleet: config ${configPath}; outbox ${join(dataDir, 'edge-agent', 'outbox.sqlite')}`);
console.log(`fleet: metrics http://127.0.0.1:${process.env.EDGE_METRICS_PORT ?? 9464}/metrics; Ctrl-C stops`);

const agent = spawn(process.execPath, [join(root, 'edge-agent', 'bin', 'edge-agent.js'), 'run', '--config', configPath, '--print-detections'], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
createInterface({ input: agent.stdout }).on('line', (line) => {
  try {
    const { cameraId, frameId, detections } = JSON.parse(line);
    const text = detections.map((d) => `${d.label} ${d.score.toFixed(2)} [${d.box.map((v) => Math.round(v)).join(',')}]`).join('; ');
    console.log(`[${cameraId}] frame ${frameId}: ${detections.length} detection(s)${text ? ': ' + text : ''}`);
  } catch {
    console.log(line);
  }
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => agent.kill('SIGTERM'));
agent.on('exit', (code) => process.exit(code ?? 0));
