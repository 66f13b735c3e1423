/**
 * Shared set-up of the model-rollout tests: a test control plane, tiny real ONNX detectors on disk, image
 * sequences made with GStreamer, agent configs pointing at both, and read access to the agent's outbox.
 * Not a test file of its own.
 */
process.env.UV_THREADPOOL_SIZE ??= '16';

import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { ModelStatusReport } from '@edgefleet/proto';
import { constantDetector, type DetectorModelSpec } from '@edgefleet/vision/testing/onnx-builder';
import { Agent } from '../src/agent/agent.js';
import type { AgentConfig } from '../src/config/agent-config-schema.js';
import { parseConfig } from '../src/config/load-config.js';
import { silentLogger, type Logger } from '@edgefleet/service-kit';
import { makeJpegs, repoRoot } from './capture-fixtures.js';
import { TestControlPlane } from './control-plane-fixture.js';

export const DEVICE = 'rollout-dev';

/** A tiny real detector (64×64 input, constant output) whose bytes (and sha256) depend on `tag`. */
export function tinyDetector(tag: string, spec: DetectorModelSpec = {}): Uint8Array {
  return constantDetector({ ...spec, metadata: [['tag', tag], ...(spec.metadata ?? [])] });
}

export interface FrameRow {
  frame_seq: number;
  frame_id: number;
  model_id: string;
  model_version: string;
  arm: string;
  detection_count: number;
}

export interface DetectionRow {
  frame_seq: number;
  model_version: string;
  arm: string;
}

/** The states of a model's reports in order, a run of `downloading` progress reports counted once. */
export const states = (reports: readonly ModelStatusReport[]) =>
  reports.map((r) => r.state).filter((s, i, a) => s !== 'downloading' || a[i - 1] !== 'downloading');

export const BIN = join(repoRoot, 'edge-agent', 'bin', 'edge-agent.js');

/** `edge-agent run` as its own process, the way systemd starts it. */
export function runAgent(config: string) {
  const child = spawn(process.execPath, [BIN, 'run', '--config', config], {
    env: { ...process.env, UV_THREADPOOL_SIZE: '16' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const logs = () =>
    stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { child, exit, logs };
}

/** Every sample of `name` in the agent's /metrics text, keyed by its sorted labels; null when the agent has no such metric. */
async function samples(agent: Agent, name: string): Promise<Map<string, number> | null> {
  const text = await agent.metricsRegistry!.metrics();
  if (!text.split('\n').some((l) => l.startsWith(`# TYPE ${name} `))) return null;
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const labels = (m[2] ?? '')
      .split(/,(?=[a-zA-Z_]+=")/)
      .filter((x) => x !== '')
      .sort()
      .join(',');
    out.set(labels, Number(m[3]));
  }
  return out;
}

const labelKey = (labels: Record<string, string>) =>
  Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort()
    .join(',');

/** A sample's value from the agent's /metrics text (labels must match exactly); throws when there is no such sample. */
export async function metric(agent: Agent, name: string, labels: Record<string, string>): Promise<number> {
  const all = await samples(agent, name);
  const value = all?.get(labelKey(labels));
  if (value === undefined)
    throw new Error(
      `no sample ${name}{${labelKey(labels)}} in /metrics (has: ${[...(all?.keys() ?? [])].join(' | ')})`,
    );
  return value;
}

/**
 * A counter's value, 0 for a label set it never counted (a counter shows a label set from its first
 * increment on); throws when the agent has no such counter at all, so a renamed metric cannot read as 0.
 */
export async function counter(agent: Agent, name: string, labels: Record<string, string>): Promise<number> {
  const all = await samples(agent, name);
  if (all === null) throw new Error(`no metric ${name} in /metrics`);
  return all.get(labelKey(labels)) ?? 0;
}

export class RolloutRig {
  readonly dir: string;
  cp!: TestControlPlane;
  private readonly agents: Agent[] = [];

  private constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'edge-rollout-'));
  }

  static async start(): Promise<RolloutRig> {
    const rig = new RolloutRig();
    rig.cp = await TestControlPlane.start({ deviceId: DEVICE });
    return rig;
  }

  /** Writes a model file into the rig's directory. */
  writeModel(name: string, bytes: Uint8Array): string {
    const path = join(this.dir, name);
    writeFileSync(path, bytes);
    return path;
  }

  /** `count` frames: `distinct` GStreamer test-pattern JPEGs (white ball on black), linked round-robin. */
  async imageSequence(name: string, count: number, distinct = 10, size = [64, 48] as const): Promise<string> {
    const source = join(this.dir, `${name}-src`);
    mkdirSync(source, { recursive: true });
    await makeJpegs(source, distinct, size[0], size[1]);
    const dir = join(this.dir, name);
    mkdirSync(dir, { recursive: true });
    for (let i = 0; i < count; i++)
      symlinkSync(
        join(source, `img-${String(i % distinct).padStart(3, '0')}.jpg`),
        join(dir, `frame-${String(i).padStart(5, '0')}.jpg`),
      );
    return dir;
  }

  /** An agent config: `cameras` on the baseline `modelPath`, the rig's control plane unless `control` is null. */
  config(options: {
    modelPath: string;
    cameras: readonly Record<string, unknown>[];
    dataDir?: string;
    control?: Record<string, unknown> | null;
    model?: Record<string, unknown>;
  }): AgentConfig {
    return parseConfig({
      deviceId: DEVICE,
      dataDir: options.dataDir ?? join(this.dir, 'data'),
      model: { path: options.modelPath, id: 'base', version: 'b0', providers: ['cpu'], ...options.model },
      cameras: options.cameras,
      ...(options.control === null ? {} : { control: this.cp.controlConfig(options.control) }),
      metrics: { enabled: false },
    });
  }

  async startAgent(config: AgentConfig, logger: Logger = silentLogger): Promise<Agent> {
    const agent = new Agent({ config, logger });
    this.agents.push(agent);
    await agent.start();
    return agent;
  }

  /** Read-only view of an outbox (WAL: readable while the agent writes). */
  outbox(dataDir = join(this.dir, 'data')): {
    frames(camera: string): FrameRow[];
    detections(camera: string): DetectionRow[];
    close(): void;
  } {
    const db = new Database(join(dataDir, 'outbox.sqlite'), { readonly: true, fileMustExist: true });
    return {
      frames: (camera) =>
        db
          .prepare<[string], FrameRow>(
            'SELECT frame_seq, frame_id, model_id, model_version, arm, detection_count FROM frames WHERE camera_id = ? ORDER BY frame_seq',
          )
          .all(camera),
      detections: (camera) =>
        db
          .prepare<[string], DetectionRow>(
            'SELECT frame_seq, model_version, arm FROM detections WHERE camera_id = ? ORDER BY seq',
          )
          .all(camera),
      close: () => db.close(),
    };
  }

  async stop(): Promise<void> {
    for (const a of this.agents.splice(0)) await a.stop().catch(() => undefined);
    await this.cp.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
