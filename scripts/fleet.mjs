// The main job (`./dev fleet`): a local fleet on the embedded defaults — a control plane (embedded MQTT
// broker, PGlite database, REST API, gRPC, model registry) and one edge agent whose camera's detections flow
// into the database. The model goes through the whole rollout path: uploaded to the registry (validated and
// signed), assigned to the camera over REST, pushed to the agent over gRPC, downloaded, verified against the
// pinned key, warmed up and swapped in; when the night fine-tune of `npm run base-model` is on disk it is
// uploaded too and runs as a shadow candidate beside the base model (per-camera A/B).
// Until the project's own base model (models/base/edgefleet-base.onnx, `npm run base-model`) exists, the
// demo camera uses the test model and photos in ../shared; it says so and stops when that folder is missing.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

const root = resolve(import.meta.dirname, '..');
const shared = resolve(root, '..', 'shared');
const dataDir = join(root, '.data', 'fleet');
const baseModel = join(root, 'models', 'base', 'edgefleet-base.onnx');
mkdirSync(dataDir, { recursive: true });

const log = (m) => console.log(`fleet: ${m}`);

// The camera: with the project's own model, a synthetic street whose weather drifts; otherwise real photos.
let model;
let camera;
if (existsSync(baseModel)) {
  model = baseModel;
  camera = {
    id: 'street',
    uri: 'synthetic://?schedule=day:60,fog:60~20,night:60~20&seed=7&width=640&height=480&fps=2',
    loop: true,
  };
  log(
    `model ${baseModel} (the project's own base model); camera 'street' = synthetic scene drifting day → fog → night`,
  );
} else {
  model = join(shared, 'models', 'yolov8n_int8.onnx');
  const images = join(shared, 'images');
  if (!existsSync(model) || !existsSync(images)) {
    console.error(`fleet: no base model yet (models/base/edgefleet-base.onnx; build it with \`npm run base-model\`),`);
    console.error(`fleet: and the demo fallback in ${shared} (models/yolov8n_int8.onnx, images/) is missing.`);
    process.exit(1);
  }
  camera = { id: 'demo', uri: `dir://${images}`, loop: true, realtime: true, fps: 2 };
  log(
    `model ${model} (test model from ../shared until the base model exists); camera 'demo' = ${images}, looping at 2 fps`,
  );
}

const children = [];
function start(name, args, env) {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  children.push(child);
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`fleet: ${name} exited (${signal ?? code}); stopping`);
      shutdown(1);
    }
  });
  return child;
}

let stopping = false;
async function shutdown(code = 0) {
  if (stopping) return;
  stopping = true;
  // Agent first (it drains its outbox to the broker), then the control plane.
  for (const child of [...children].reverse()) {
    if (child.exitCode !== null) continue;
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
  process.exit(code);
}
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => void shutdown(0));

// 1. Control plane on the embedded defaults (PGlite under .data/fleet/control-plane), loopback only.
const cp = start('control plane', [join(root, 'control-plane', 'bin', 'control-plane.js'), 'start'], {
  CP_DATA_DIR: join(dataDir, 'control-plane'),
  CP_MQTT__HOST: '127.0.0.1',
  CP_MQTT__PORT: process.env.FLEET_MQTT_PORT ?? '0',
  CP_HTTP__PORT: process.env.FLEET_HTTP_PORT ?? '0',
  CP_GRPC__HOST: '127.0.0.1',
  CP_GRPC__PORT: process.env.FLEET_GRPC_PORT ?? '0',
});
cp.stderr.pipe(process.stderr);
const ports = await new Promise((resolvePorts) => {
  const found = {};
  createInterface({ input: cp.stdout }).on('line', (line) => {
    console.log(`[control-plane] ${line}`);
    const m = /^(mqtt|http|grpc) port: (\d+)/.exec(line);
    if (m) found[m[1]] = Number(m[2]);
    const token = /^admin token file: (.+)$/.exec(line);
    if (token) found.tokenFile = token[1];
    const key = /^signing key: (\S+) (\S+)$/.exec(line);
    if (key) found.publicKey = key[2];
    if (line.startsWith('database: ')) resolvePorts(found);
  });
});
const api = `http://127.0.0.1:${ports.http}`;
// The REST API needs a bearer token: the control plane generated an admin token into its data directory.
const auth = { authorization: `Bearer ${readFileSync(ports.tokenFile, 'utf8').trim()}` };

// 2. Enrol the device (a new password each start; only its hash is stored by the control plane).
const res = await fetch(`${api}/api/v1/devices`, {
  method: 'POST',
  headers: { 'content-type': 'application/json', ...auth },
  body: JSON.stringify({ deviceId: 'demo-box', rotate: true }),
});
if (res.status !== 201) {
  console.error(`fleet: enrolment failed: ${res.status} ${await res.text()}`);
  await shutdown(1);
}
const creds = await res.json();
const passwordFile = join(dataDir, 'demo-box.password');
writeFileSync(passwordFile, creds.password, { mode: 0o600 });
chmodSync(passwordFile, 0o600);

// 3. The edge agent, syncing its outbox to the control plane.
const configPath = join(dataDir, 'edge-agent.json');
writeFileSync(
  configPath,
  JSON.stringify(
    {
      deviceId: 'demo-box',
      dataDir: join(dataDir, 'edge-agent'),
      model: { path: model, conf: 0.5, providers: ['cpu'] },
      cameras: [camera],
      metrics: { enabled: true, port: Number(process.env.EDGE_METRICS_PORT ?? 9464) },
      log: { level: 'warn' },
      sync: { url: `mqtt://127.0.0.1:${ports.mqtt}`, username: creds.username, passwordFile, clientId: creds.clientId },
      // Models from the control plane over gRPC (loopback, so plain text), verified against its pinned signing key.
      control: { url: `127.0.0.1:${ports.grpc}`, insecure: true, publicKey: ports.publicKey },
    },
    null,
    2,
  ),
);
const agent = start(
  'edge agent',
  [join(root, 'edge-agent', 'bin', 'edge-agent.js'), 'run', '--config', configPath, '--print-detections'],
  {},
);
agent.stderr.pipe(process.stderr);
createInterface({ input: agent.stdout }).on('line', (line) => {
  try {
    const { cameraId, frameId, detections } = JSON.parse(line);
    const text = detections
      .map((d) => `${d.label} ${d.score.toFixed(2)} [${d.box.map((v) => Math.round(v)).join(',')}]`)
      .join('; ');
    console.log(`[${cameraId}] frame ${frameId}: ${detections.length} detection(s)${text ? `: ${text}` : ''}`);
  } catch {
    console.log(line);
  }
});
log(
  `REST ${api} with the admin token in ${ports.tokenFile} (try curl -H "Authorization: Bearer $(cat ${ports.tokenFile})" ${api}/api/v1/devices/demo-box/cameras/${camera.id}/detections?limit=5), dashboard ${api}/dashboard (paste the token), API docs ${api}/docs, agent metrics http://127.0.0.1:${process.env.EDGE_METRICS_PORT ?? 9464}/metrics`,
);
log(`data in ${dataDir}; Ctrl-C stops the fleet`);

// 4. The rollout path: register the model (validated, signed), assign it to the camera, and follow the agent's reports.
async function rest(method, path, body, contentType = 'application/json') {
  const r = await fetch(`${api}${path}`, {
    method,
    headers: { ...auth, ...(body === undefined ? {} : { 'content-type': contentType }) },
    body,
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : null };
}

async function register(name, version, file) {
  const up = await rest(
    'POST',
    `/api/v1/models?name=${name}&version=${version}`,
    readFileSync(file),
    'application/octet-stream',
  );
  if (up.status === 201) {
    log(
      `registry: ${name}:${version} uploaded, validated and signed (serial ${up.body.serial}, sha256 ${up.body.sha256.slice(0, 12)}…)`,
    );
    return up.body;
  }
  if (up.body?.error?.code === 'CP_ERR_MODEL_EXISTS') {
    const { body } = await rest('GET', '/api/v1/models');
    return body.models.find((m) => m.name === name && m.version === version);
  }
  throw new Error(`upload of ${name}:${version} failed: ${up.status} ${JSON.stringify(up.body)}`);
}

async function rollout() {
  const base = await register(model === baseModel ? 'edgefleet-base' : 'yolov8n-demo', '1', model);
  const nightFile = join(root, '.data', 'base-model', 'finetune-night', 'model.onnx');
  const night =
    model === baseModel && existsSync(nightFile) ? await register('edgefleet-base', '1-night', nightFile) : null;
  // The agent names its cameras when it connects over gRPC; assignments go to known cameras.
  for (let i = 0; ; i++) {
    const { body } = await rest('GET', '/api/v1/devices/demo-box/cameras');
    if (body?.cameras?.some((c) => c.cameraId === camera.id)) break;
    if (i === 300) throw new Error(`the agent's camera '${camera.id}' never reached the control plane`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const assignment = night
    ? { model: base.serial, candidate: night.serial, mode: 'shadow', reason: 'fleet demo: night fine-tune in shadow' }
    : { model: base.serial, reason: 'fleet demo' };
  const res = await rest('PUT', `/api/v1/devices/demo-box/cameras/${camera.id}/assignment`, JSON.stringify(assignment));
  if (res.status !== 200) throw new Error(`assignment failed: ${res.status} ${JSON.stringify(res.body)}`);
  log(
    `rollout: ${base.name}:${base.version} assigned to demo-box/${camera.id}${night ? ` with ${night.name}:${night.version} as a shadow candidate` : ''} (revision ${res.body.revision})`,
  );
  // Follow what the agent reports (received → downloading → verifying → warming → active).
  const seen = new Set();
  const follow = setInterval(async () => {
    try {
      const { body } = await rest('GET', `/api/v1/devices/demo-box/model-status?camera=${camera.id}&historyLimit=20`);
      for (const s of [...(body?.history ?? [])].reverse()) {
        const key = `${s.sha256}/${s.arm}/${s.state}/${s.revision}`;
        if (seen.has(key)) continue;
        seen.add(key);
        log(`agent: ${s.modelId}:${s.version} (${s.arm}) ${s.state}${s.reason ? ` — ${s.reason}` : ''}`);
      }
    } catch (err) {
      if (!stopping) log(`model status unavailable: ${err.message}`);
    }
  }, 500);
  follow.unref();
}
rollout().catch((err) => log(`rollout: ${err.message}`));

// 5. Every few seconds: what the database holds.
setInterval(
  async () => {
    try {
      const stats = await (await fetch(`${api}/api/v1/ingest/stats`, { headers: auth })).json();
      log(
        `database: ${stats.insertedFrames} frames, ${stats.insertedDetections} detections ingested (duplicates ignored: ${stats.duplicateRows}, rejected: ${stats.rejectedTotal})`,
      );
    } catch (err) {
      if (!stopping) log(`stats unavailable: ${err.message}`);
    }
  },
  Number(process.env.FLEET_STATS_EVERY_MS ?? 10_000),
).unref();
