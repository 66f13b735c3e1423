import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger, silentLogger } from '../src/logger.js';

function capture(level?: 'debug' | 'info') {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ level, write: (line) => lines.push(JSON.parse(line)) });
  return { logger, lines };
}

describe('logger', () => {
  it('writes one JSON object per line with time, level, message and fields', () => {
    const { logger, lines } = capture();
    logger.info('started', { port: 9464 });
    assert.equal(lines.length, 1);
    assert.equal(lines[0]?.level, 'info');
    assert.equal(lines[0]?.msg, 'started');
    assert.equal(lines[0]?.port, 9464);
    assert.match(String(lines[0]?.t), /^\d{4}-\d\d-\d\dT/);
  });

  it('drops lines below its level', () => {
    const { logger, lines } = capture('info');
    logger.debug('noise');
    logger.warn('kept');
    assert.deepEqual(
      lines.map((l) => l.msg),
      ['kept'],
    );
  });

  it('redacts fields whose names look like secrets, in fields and in child bases', () => {
    const { logger, lines } = capture();
    const names = [
      'password',
      'dbPass',
      'clientSecret',
      'token',
      'refresh_token',
      'credentials',
      'authorization',
      'Authorization',
      'cookie',
      'set-cookie',
      'apiKey',
      'api_key',
      'x-api-key',
      'privateKey',
      'private_key',
    ];
    logger.child({ adminToken: 'base-secret' }).info('x', Object.fromEntries(names.map((n) => [n, 'hunter2'])));
    const line = lines[0] ?? {};
    for (const n of [...names, 'adminToken']) assert.equal(line[n], '[redacted]', n);
    assert.ok(!JSON.stringify(line).includes('hunter2'));
  });

  it('keeps ordinary fields and renders errors as message and code', () => {
    const { logger, lines } = capture();
    logger.error('failed', { camera: 'front', keyframes: 3, error: Object.assign(new Error('boom'), { code: 'E_X' }) });
    assert.equal(lines[0]?.camera, 'front');
    assert.equal(lines[0]?.keyframes, 3);
    assert.deepEqual(lines[0]?.error, { message: 'boom', code: 'E_X' });
  });

  it('has a silent logger whose children are silent', () => {
    silentLogger.error('nothing');
    assert.equal(silentLogger.child({ a: 1 }), silentLogger);
  });
});
