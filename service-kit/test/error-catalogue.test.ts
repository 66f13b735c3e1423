import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeError } from '../src/describe-error.js';
import { defineErrorCatalogue, errorGuard } from '../src/error-catalogue.js';

const WITH_STATUS = {
  T_ERR_NOT_FOUND: { message: 'thing not found', status: 404 },
  T_ERR_BROKEN: { message: 'thing broke', status: 500 },
} as const;
const { ErrorClass: TestError, isError: isTestError } = defineErrorCatalogue({
  name: 'TestError',
  catalogue: WITH_STATUS,
});
const { ErrorClass: PlainError } = defineErrorCatalogue({
  name: 'PlainError',
  catalogue: { P_ERR_X: { message: 'x failed' } },
});

describe('error catalogue', () => {
  it('builds errors with code, `base: detail` message, status, detail, details and cause', () => {
    const cause = new Error('disk full');
    const err = new TestError('T_ERR_BROKEN', 'while saving', { cause, details: ['a'] });
    assert.ok(err instanceof TestError);
    assert.ok(err instanceof Error);
    assert.equal(err.name, 'TestError');
    assert.equal(TestError.name, 'TestError');
    assert.equal(err.code, 'T_ERR_BROKEN');
    assert.equal(err.message, 'thing broke: while saving');
    assert.equal(err.status, 500);
    assert.equal(err.detail, 'while saving');
    assert.deepEqual(err.details, ['a']);
    assert.equal(err.cause, cause);
    assert.match(String(err.stack), /TestError: thing broke: while saving/);
  });

  it('uses the catalogue message alone without a detail, and no status where the catalogue has none', () => {
    const err = new PlainError('P_ERR_X');
    assert.equal(err.message, 'x failed');
    assert.equal(err.status, undefined);
    assert.equal('cause' in err, false);
  });

  it('guards by class and, optionally, by code', () => {
    const err = new TestError('T_ERR_NOT_FOUND');
    assert.equal(isTestError(err), true);
    assert.equal(isTestError(err, 'T_ERR_NOT_FOUND'), true);
    assert.equal(isTestError(err, 'T_ERR_BROKEN'), false);
    assert.equal(isTestError(new PlainError('P_ERR_X')), false);
    assert.equal(isTestError(new Error('x')), false);
    assert.equal(isTestError(undefined), false);
  });

  it('lets a subclass add fields and have its own guard', () => {
    class FieldError extends TestError {
      readonly field: string;
      constructor(field: string) {
        super('T_ERR_BROKEN', field);
        this.field = field;
      }
    }
    const isFieldError = errorGuard(FieldError);
    const err = new FieldError('score');
    assert.ok(err instanceof TestError);
    assert.equal(isFieldError(err, 'T_ERR_BROKEN'), true);
    assert.equal(isFieldError(new TestError('T_ERR_BROKEN')), false);
  });
});

describe('describeError', () => {
  it('renders catalogue errors as `CODE: message (cause: ...)`', () => {
    const err = new TestError('T_ERR_BROKEN', 'saving', { cause: new Error('disk full') });
    assert.equal(describeError(err), 'T_ERR_BROKEN: thing broke: saving (cause: disk full)');
  });

  it('shows the code of any package catalogue, not other codes', () => {
    assert.equal(describeError(Object.assign(new Error('m'), { code: 'VISION_ERR_CLOSED' })), 'VISION_ERR_CLOSED: m');
    assert.equal(describeError(Object.assign(new Error('m'), { code: 'ENOENT' })), 'm');
  });

  it('renders anything else as a string', () => {
    assert.equal(describeError('plain'), 'plain');
    assert.equal(describeError(42), '42');
  });
});
