import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EDGE_ERRORS, configReferenceMarkdown } from '@edgefleet/edge-agent';
import { VISION_ERRORS } from '@edgefleet/vision';
import { parseControlPlaneConfig } from '@edgefleet/control-plane';
import { repoRoot } from '../support/fixtures.js';

const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');

test('every edge agent and vision error code is documented in the README', () => {
  const missing = [...Object.keys(EDGE_ERRORS), ...Object.keys(VISION_ERRORS)].filter(
    (code) => !readme.includes(`\`${code}\``),
  );
  assert.deepEqual(missing, [], `README "Error codes" lacks: ${missing.join(', ')}`);
});

test('docs/edge-agent-config.md matches the configuration schema', () => {
  const doc = readFileSync(join(repoRoot, 'docs', 'edge-agent-config.md'), 'utf8');
  assert.ok(
    doc.includes(configReferenceMarkdown()),
    'docs/edge-agent-config.md is stale: regenerate with `node edge-agent/bin/edge-agent.js config-reference`',
  );
});

test('the shipped control-plane example configuration is valid', () => {
  const config = parseControlPlaneConfig(
    JSON.parse(readFileSync(join(repoRoot, 'fleet-config', 'control-plane.example.json'), 'utf8')),
  );
  assert.equal(config.grpc.tlsClientCaFile, '/etc/control-plane/tls/devices-ca.pem');
  assert.equal(config.auth.tokens.length, 2);
});
