import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Component, ComponentGroup, ComponentStack, type StopFailure } from '../src/lifecycle.js';

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

test('a ComponentGroup starts and stops its members together, in parallel', async () => {
  const log: string[] = [];
  let release: () => void = () => {};
  const slow: Component = {
    name: 'slow',
    start: async () => {
      log.push('start slow');
    },
    stop: () =>
      new Promise<void>((resolve) => {
        log.push('stop slow begins');
        release = () => {
          log.push('stop slow ends');
          resolve();
        };
      }),
  };
  const group = new ComponentGroup('cameras', [slow, recorder(log, 'fast')]);
  await group.start(new AbortController().signal);
  const stopping = group.stop();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(
    log,
    ['start slow', 'start fast', 'stop slow begins', 'stop fast'],
    'fast stopped while slow was still stopping',
  );
  release();
  await stopping;
  assert.equal(log.at(-1), 'stop slow ends');
});

test('a ComponentGroup stops every member and throws the failures together', async () => {
  const log: string[] = [];
  const group = new ComponentGroup('cameras', [recorder(log, 'a', true), recorder(log, 'b'), recorder(log, 'c', true)]);
  const error = await group.stop().then(
    () => assert.fail('stop must throw'),
    (e: unknown) => e,
  );
  assert.deepEqual(log.sort(), ['stop a', 'stop b', 'stop c']);
  assert.ok(error instanceof AggregateError);
  assert.deepEqual(
    error.errors.map((e: Error) => [e.message, (e.cause as Error).message]),
    [
      ['a failed to stop', 'a broke'],
      ['c failed to stop', 'c broke'],
    ],
  );
});
