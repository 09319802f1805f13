import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { declaredTestNames, describeRun, parseTap } from './hidden.ts';

const tap = `TAP version 13
# Subtest: parser
    # Subtest: keeps quotes
    ok 1 - keeps quotes
      ---
      duration_ms: 0.5
      ...
    # Subtest: splits \\# comments
    not ok 2 - splits \\# comments
      ---
      duration_ms: 0.7
      failureType: 'testCodeFailure'
      error: |-
        Expected values to be strictly equal:
        
        1 !== 2
        
      code: 'ERR_ASSERTION'
      expected: 2
      actual: 1
      ...
    1..2
not ok 1 - parser
  ---
  error: '1 subtest failed'
  ...
# Subtest: /work/.gauntlet-hidden-tests/broken.test.mjs
not ok 2 - /work/.gauntlet-hidden-tests/broken.test.mjs
  ---
  error: 'test failed'
  ...
1..2
# fail 2
`;

describe('hidden test output', () => {
  it('finds every declared test name, whatever the quotes', () => {
    const source = "describe('suite', () => {\n  it('one', () => {});\n  test(\"two\", async () => {});\n  it(`three`, () => {});\n});";
    assert.deepEqual(declaredTestNames(source), ['one', 'two', 'three']);
  });

  it('reports failing leaves with their error, not the suites around them', () => {
    const lines = parseTap(tap);
    assert.deepEqual(
      lines.map((l) => [l.ok, l.name, l.leaf]),
      [
        [true, 'keeps quotes', true],
        [false, 'splits # comments', true],
        [false, 'parser', false],
        [false, '/work/.gauntlet-hidden-tests/broken.test.mjs', true],
      ],
    );
    assert.equal(lines[1]?.error, 'Expected values to be strictly equal; expected 2, actual 1');
  });

  it('describes a run in one line', () => {
    const run = { passed: false, failures: ['a (boom)', 'b'], missing: ['c'], total: 3, exitCode: 1, timedOut: false, outputTail: '' };
    assert.equal(describeRun(run), 'failing: a (boom); b | never reported: c');
    assert.equal(describeRun({ ...run, passed: true }), 'all 3 hidden tests pass');
    assert.equal(describeRun({ ...run, timedOut: true }), 'the test run timed out');
  });
});
