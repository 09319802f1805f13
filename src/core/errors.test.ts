import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorMessage } from './errors.ts';

describe('errorMessage', () => {
  it('reads the message of errors and of error-like objects, and prints anything else', () => {
    assert.equal(errorMessage(new TypeError('bad type')), 'bad type');
    // What a WebSocket client rejects with when the server refuses the upgrade.
    assert.equal(errorMessage({ type: 'error', message: 'Unexpected server response: 400', error: {} }), 'Unexpected server response: 400');
    assert.equal(errorMessage('plain text'), 'plain text');
    assert.equal(errorMessage({ message: '' }), '[object Object]');
    assert.equal(errorMessage(null), 'null');
    assert.equal(errorMessage(42), '42');
  });
});
