import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  flattenResult,
  mergeSection,
  parseResultLine,
  RESULTS_FILE_HEADER,
  renderSection,
} from '@edgefleet/bench/results-file';

const run = (name: string, result: Record<string, unknown>) =>
  renderSection({ name, result, date: '2026-12-08T00:00:00.000Z', machine: '2 cores, Test CPU', command: 'x' });

describe('bench/results.md writer', () => {
  it('reads the JSON object on the last non-empty stdout line', () => {
    assert.deepEqual(parseResultLine('warming up\n{"bench":"edge","fps":12.5}\n\n'), { bench: 'edge', fps: 12.5 });
  });

  it('refuses a last line that is not a JSON object', () => {
    assert.throws(() => parseResultLine('done\n'), /not JSON: done/);
    assert.throws(() => parseResultLine('[1,2]\n'), /not a JSON object/);
    assert.throws(() => parseResultLine(''), /printed nothing/);
  });

  it('flattens nested objects into dotted keys and keeps arrays as values', () => {
    assert.deepEqual(flattenResult({ a: 1, b: { c: 'x', d: { e: null } }, f: [1, 2] }), [
      ['a', 1],
      ['b.c', 'x'],
      ['b.d.e', null],
      ['f', [1, 2]],
    ]);
  });

  it('renders a section with the date, the machine, the command and one table row per figure', () => {
    const section = run('sync', { rate: 1200, note: 'a|b' });
    assert.match(section, /^<!-- bench:sync:start -->\n## sync\n/);
    assert.match(section, /- date: 2026-12-08T00:00:00.000Z\n- machine: 2 cores, Test CPU\n- command: `x`/);
    assert.match(section, /\| metric \| value \|\n\| --- \| --- \|\n\| rate \| 1200 \|\n\| note \| a\\\|b \|/);
    assert.match(section, /<!-- bench:sync:end -->$/);
  });

  it('starts a new file with the header and appends a benchmark it has not seen', () => {
    const one = mergeSection('', 'edge', run('edge', { fps: 1 }));
    assert.ok(one.startsWith(RESULTS_FILE_HEADER));
    const two = mergeSection(one, 'sync', run('sync', { rate: 2 }));
    assert.ok(two.indexOf('## edge') < two.indexOf('## sync'));
  });

  it('replaces only the section of the benchmark that ran', () => {
    let file = mergeSection('', 'edge', run('edge', { fps: 1 }));
    file = mergeSection(file, 'sync', run('sync', { rate: 2 }));
    file = mergeSection(file, 'train', run('train', { ips: 3 }));
    const updated = mergeSection(file, 'sync', run('sync', { rate: 5 }));
    assert.match(updated, /\| rate \| 5 \|/);
    assert.doesNotMatch(updated, /\| rate \| 2 \|/);
    assert.equal(updated.match(/## sync/g)?.length, 1);
    assert.ok(updated.includes(run('edge', { fps: 1 })) && updated.includes(run('train', { ips: 3 })));
    assert.ok(
      updated.indexOf('## edge') < updated.indexOf('## sync') &&
        updated.indexOf('## sync') < updated.indexOf('## train'),
    );
  });
});
