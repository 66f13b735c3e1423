import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Component, ComponentStack, type StopFailure } from '../src/lifecycle.js';

function recorder(log: string[], name: string, failStop = false): Component {
  return {
    name,
    start: async () => {
      log.push(`start ${name}`);
    },
    stop: async () => {
      log.push(`stop ${name}`);
      if (failStop) throw new Error(`${name} broke`);
    },
  };
}

test('stopAll stops started and adopted components in reverse order', async () => {
  const log: string[] = [];
  const stack = new ComponentStack();
  const signal = new AbortController().signal;
  await stack.start(recorder(log, 'a'), signal);
  stack.adopt(recorder(log, 'b'));
  await stack.start(recorder(log, 'c'), signal);
  await stack.stopAll(() => assert.fail('nothing fails'));
  assert.deepEqual(log, ['start a', 'start c', 'stop c', 'stop b', 'stop a']);
  assert.equal(stack.size, 0);
});

test('a component that fails to stop is reported and the others still stop', async () => {
  const log: string[] = [];
  const failures: StopFailure[] = [];
  const stack = new ComponentStack();
  stack.adopt(recorder(log, 'a'));
  stack.adopt(recorder(log, 'b', true));
  stack.adopt(recorder(log, 'c'));
  await stack.stopAll((f) => failures.push(f));
  assert.deepEqual(log, ['stop c', 'stop b', 'stop a']);
  assert.deepEqual(
    failures.map((f) => [f.name, (f.error as Error).message]),
    [['b', 'b broke']],
  );
});

test('a component whose start fails is still stopped, so what it acquired before failing is released', async () => {
  const log: string[] = [];
  const stack = new ComponentStack();
  const broken: Component = {
    name: 'broken',
    start: async () => {
      throw new Error('cannot listen');
    },
    stop: async () => {
      log.push('stop broken');
    },
  };
  stack.adopt(recorder(log, 'a'));
  await assert.rejects(stack.start(broken, new AbortController().signal), /cannot listen/);
  await stack.stopAll(() => assert.fail('nothing fails'));
  assert.deepEqual(log, ['stop broken', 'stop a']);
});

test('stopAll twice stops each component once', async () => {
  const log: string[] = [];
  const stack = new ComponentStack();
  stack.adopt(recorder(log, 'a'));
  await stack.stopAll(() => {});
  await stack.stopAll(() => {});
  assert.deepEqual(log, ['stop a']);
});
