import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { InferenceSession } from 'onnxruntime-node';
import { VisionError } from '../src/errors.js';
import { parseProviderList } from '../src/execution-providers.js';
import { createOnnxSession, setOnnxRuntimeLogLevel, type VisionLogger } from '../src/onnx-session.js';
import { YOLOV8_MODEL, YOLOX_MODEL } from './shared-data.js';
import { tempDir } from '@edgefleet/service-kit/testing';

// ONNX Runtime prints its own native errors for providers it cannot load; the warnings under test are ours.
setOnnxRuntimeLogLevel('fatal');

interface Warning {
  msg: string;
  fields: Record<string, unknown> | undefined;
}

function recordingLogger(): VisionLogger & { warnings: Warning[] } {
  const warnings: Warning[] = [];
  return { warnings, warn: (msg, fields) => warnings.push({ msg, fields }) };
}

/** Whether this machine's onnxruntime-node can use CUDA (CPU-only packages cannot). */
async function cudaAvailable(): Promise<boolean> {
  try {
    const s = await InferenceSession.create(YOLOX_MODEL(), { executionProviders: ['cuda'] });
    await s.release();
    return true;
  } catch {
    return false; // the probe's answer is the failure itself
  }
}

describe('createOnnxSession', () => {
  let hasCuda = false;
  before(async () => {
    hasCuda = await cudaAvailable();
  });

  it('loads a model on CPU and reports the SHA-256 of the file it loaded', async () => {
    const loaded = await createOnnxSession(YOLOX_MODEL(), { providers: ['cpu'] });
    try {
      assert.equal(loaded.provider, 'cpu');
      assert.equal(loaded.sha256, 'e8af074932d4ed7e232278e3055cefcdea3edf178874a3694ae292649fb464dd');
      assert.deepEqual(loaded.session.inputNames, ['images']);
    } finally {
      await loaded.session.release();
    }
  });

  it('falls back from an unavailable provider to the next one and logs a warning', async (t) => {
    if (hasCuda) {
      t.skip('CUDA is available on this machine, so there is nothing to fall back from');
      return;
    }
    const logger = recordingLogger();
    const loaded = await createOnnxSession(YOLOX_MODEL(), { providers: ['cuda', 'cpu'], logger });
    await loaded.session.release();
    assert.equal(loaded.provider, 'cpu');
    assert.equal(logger.warnings.length, 1);
    assert.match(logger.warnings[0]!.msg, /'cuda' could not be used, falling back to 'cpu'/);
    assert.equal(logger.warnings[0]!.fields?.provider, 'cuda');
    assert.match(String(logger.warnings[0]!.fields?.error), /Cuda/);
  });

  it('walks the default chain tensorrt → cuda → cpu', async (t) => {
    if (hasCuda) {
      t.skip('CUDA is available on this machine; the default chain does not reach CPU');
      return;
    }
    const logger = recordingLogger();
    const loaded = await createOnnxSession(YOLOX_MODEL(), { logger });
    await loaded.session.release();
    assert.equal(loaded.provider, 'cpu');
    assert.deepEqual(
      logger.warnings.map((w) => [w.fields?.provider, w.fields?.next]),
      [
        ['tensorrt', 'cuda'],
        ['cuda', 'cpu'],
      ],
    );
  });

  it('fails with VISION_ERR_PROVIDER_UNAVAILABLE when no provider of the chain can be used', async (t) => {
    if (hasCuda) {
      t.skip('CUDA is available on this machine');
      return;
    }
    await assert.rejects(createOnnxSession(YOLOX_MODEL(), { providers: ['cuda'], logger: recordingLogger() }), {
      code: 'VISION_ERR_PROVIDER_UNAVAILABLE',
      message: /cuda/,
    });
  });

  it('reports a missing file as VISION_ERR_MODEL_NOT_FOUND', async (t) => {
    const dir = await tempDir(t);
    await assert.rejects(createOnnxSession(join(dir, 'missing.onnx'), { providers: ['cpu'] }), {
      code: 'VISION_ERR_MODEL_NOT_FOUND',
      message: /missing\.onnx/,
    });
  });

  it('reports random bytes as VISION_ERR_MODEL_CORRUPT with ONNX Runtime’s message as cause', async (t) => {
    const path = join(await tempDir(t), 'random.onnx');
    await writeFile(path, randomBytes(4096));
    await assert.rejects(createOnnxSession(path, { providers: ['cpu'] }), (err: unknown) => {
      assert.ok(err instanceof VisionError);
      assert.equal(err.code, 'VISION_ERR_MODEL_CORRUPT');
      assert.ok(err.cause instanceof Error);
      assert.match(err.message, new RegExp(err.cause.message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
      return true;
    });
  });

  it('reports a truncated copy of a real model as VISION_ERR_MODEL_CORRUPT', async (t) => {
    const path = join(await tempDir(t), 'truncated.onnx');
    const bytes = await readFile(YOLOV8_MODEL());
    await writeFile(path, bytes.subarray(0, Math.floor(bytes.length / 2)));
    await assert.rejects(createOnnxSession(path, { providers: ['cpu'] }), { code: 'VISION_ERR_MODEL_CORRUPT' });
  });

  it('rejects bad provider options before touching the file', async () => {
    await assert.rejects(createOnnxSession('/nonexistent.onnx', { providers: [] }), { code: 'VISION_ERR_BAD_OPTION' });
    await assert.rejects(createOnnxSession('/nonexistent.onnx', { providers: ['cpu', 'cpu'] }), {
      code: 'VISION_ERR_BAD_OPTION',
    });
    await assert.rejects(createOnnxSession('/nonexistent.onnx', { deviceId: -1 }), { code: 'VISION_ERR_BAD_OPTION' });
    await assert.rejects(createOnnxSession('/nonexistent.onnx', { intraOpNumThreads: 1.5 }), {
      code: 'VISION_ERR_BAD_OPTION',
    });
  });
});

describe('parseProviderList', () => {
  it('parses a comma-separated chain', () => {
    assert.deepEqual(parseProviderList('CUDA, cpu'), ['cuda', 'cpu']);
  });

  it('rejects unknown providers', () => {
    assert.throws(() => parseProviderList('cuda,rocm'), {
      code: 'VISION_ERR_BAD_OPTION',
      message: /unknown execution provider 'rocm'/,
    });
  });
});
