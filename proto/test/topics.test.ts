import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_TOPIC_PREFIX,
  ProtoError,
  detectionsTopic,
  deviceTopicRoot,
  kindFilter,
  metricsTopic,
  parseTopic,
  sharedSubscription,
  statusTopic,
} from '../src/index.js';

describe('topic layout', () => {
  it('builds fleet/v1/{device}/{kind} topics', () => {
    assert.equal(DEFAULT_TOPIC_PREFIX, 'fleet/v1');
    assert.equal(detectionsTopic('edge-lab.01'), 'fleet/v1/edge-lab.01/detections');
    assert.equal(statusTopic('edge-lab.01'), 'fleet/v1/edge-lab.01/status');
    assert.equal(metricsTopic('edge-lab.01'), 'fleet/v1/edge-lab.01/metrics');
    assert.equal(detectionsTopic('d1', 'test-7f3a/fleet/v1'), 'test-7f3a/fleet/v1/d1/detections');
    assert.equal(deviceTopicRoot('d1'), 'fleet/v1/d1/');
  });

  it('refuses device ids that would break the topic tree', () => {
    for (const bad of ['', 'a/b', 'a+b', 'a#', 'a b', '$SYS', 'x'.repeat(129)]) {
      assert.throws(
        () => detectionsTopic(bad),
        (err: unknown) => err instanceof ProtoError && err.code === 'PROTO_ERR_INVALID' && err.field === 'topic',
        bad,
      );
    }
  });

  it('refuses prefixes with wildcards, empty levels or a $ system prefix', () => {
    for (const bad of ['', 'fleet/', '/fleet', 'fleet//v1', 'fleet/+', 'fleet/#', '$SYS/fleet']) {
      assert.throws(() => statusTopic('d1', bad), { code: 'PROTO_ERR_INVALID' }, bad);
    }
  });

  it('parses its own topics and returns null for anything else', () => {
    assert.deepEqual(parseTopic('fleet/v1/d1/detections'), { deviceId: 'd1', kind: 'detections' });
    assert.deepEqual(parseTopic('fleet/v1/gate.7/status'), { deviceId: 'gate.7', kind: 'status' });
    assert.deepEqual(parseTopic('run-1/fleet/v1/d1/metrics', 'run-1/fleet/v1'), { deviceId: 'd1', kind: 'metrics' });
    for (const other of [
      'fleet/v2/d1/detections',
      'fleet/v1/d1/commands',
      'fleet/v1/d1/detections/extra',
      'fleet/v1/detections',
      'fleet/v1//detections',
      'fleet/v1/+/detections',
      'fleet/v1/d 1/status',
      'fleet/v1d1/status',
      '',
    ]) {
      assert.equal(parseTopic(other), null, other);
    }
    assert.equal(parseTopic(42 as unknown as string), null);
  });

  it('builds the subscription filters the ingest uses, shared ones included', () => {
    assert.equal(kindFilter('detections'), 'fleet/v1/+/detections');
    assert.equal(sharedSubscription('ingest'), '$share/ingest/fleet/v1/+/detections');
    assert.equal(sharedSubscription('ingest', 'status', 'p/fleet/v1'), '$share/ingest/p/fleet/v1/+/status');
    for (const bad of ['', 'a/b', 'a+', '#'])
      assert.throws(() => sharedSubscription(bad), { code: 'PROTO_ERR_INVALID' }, bad);
  });
});
