import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { DefectError } from '../../../core/index.ts';
import { HIDDEN_DIR } from '../files.ts';
import { encodeValue } from './sandbox/worker.mjs';
import { judgeCase, type ProbeOutcome } from './judge.ts';
import { loadSuite, parseSuite, type ProbeCase } from './suite.ts';

const base = { imports: { m: 'src/m.js' }, cases: [{ name: 'one', run: ({ m }: { m: { f(): number } }) => m.f(), expect: 1 }] };
const problem = (exported: unknown) => {
  try {
    parseSuite('x/y.test.mjs', exported);
    return '';
  } catch (error) {
    return (error as Error).message;
  }
};

describe('hidden suites', () => {
  it('every suite under hidden/ loads, with uniquely named cases that each expect something', async () => {
    let count = 0;
    for (const folder of readdirSync(HIDDEN_DIR)) {
      for (const file of readdirSync(`${HIDDEN_DIR}/${folder}`)) {
        const suite = await loadSuite(`${folder}/${file}`);
        assert.ok(suite.cases.length > 0, `${folder}/${file}`);
        count += suite.cases.length;
      }
    }
    assert.ok(count >= 200, `${count} cases`);
  });

  it('sends the probe source, never the expectation', () => {
    const suite = parseSuite('x/y.test.mjs', { ...base, cases: [{ name: 'one', run: ({ m }: { m: { f(): string } }) => m.f(), expect: 'SECRET-42' }] });
    // (this file is TypeScript, so the loader may have reformatted the source; suites are plain .mjs)
    assert.match(suite.cases[0]?.runSource ?? '', /^\(\{\s*m\s*\}\)\s*=>\s*m\.f\(\)$/);
    assert.doesNotMatch(JSON.stringify({ ...suite, cases: suite.cases.map((c) => c.runSource) }), /SECRET/);
  });

  it('refuses suites the sandbox could not run faithfully', () => {
    assert.match(problem({ ...base, cases: [{ name: 'a', run() {}, expect: 1 }] }), /arrow function or a function expression/);
    assert.match(problem({ ...base, cases: [base.cases[0], base.cases[0]] }), /used twice/);
    assert.match(problem({ ...base, cases: [{ name: 'a', run: () => 1, expect: 1, throws: /x/ }] }), /exactly one of expect, throws or check \(found expect, throws\)/);
    assert.match(problem({ ...base, cases: [{ name: 'a', run: () => 1 }] }), /found none/);
    assert.match(problem({ ...base, data: { when: new Date(0) } }), /plain JSON/);
    assert.match(problem({ ...base, imports: { m: '../outside.js' } }), /relative to the repo root/);
    assert.match(problem({ ...base, imports: { m: '/abs/path.js' } }), /relative to the repo root/);
    assert.match(problem({ ...base, imports: { data: 'src/m.js' } }), /"data" is taken/);
    assert.match(problem({ ...base, extra: 1 }), /extra/);
  });

  it('accepts `expect: undefined` as an expectation of its own', () => {
    const suite = parseSuite('x/y.test.mjs', { ...base, cases: [{ name: 'a', run: () => undefined, expect: undefined }] });
    assert.deepEqual(suite.cases[0]?.expectation, { kind: 'equals', value: undefined });
  });

  it('names the file when a hidden suite cannot be used', async () => {
    await assert.rejects(loadSuite('nope/missing.test.mjs'), (error: unknown) => error instanceof DefectError && /hidden test nope\/missing\.test\.mjs/.test(error.message));
    await assert.rejects(loadSuite('../x.test.mjs'), DefectError);
  });
});

describe('judging an outcome in the grader', () => {
  const probe = (expectation: ProbeCase['expectation']): ProbeCase => ({ name: 'p', runSource: '() => 1', expectation });
  const returned = (value: unknown): ProbeOutcome => ({ kind: 'returned', value: encodeValue(value) });

  it('compares returned values strictly', () => {
    assert.equal(judgeCase(probe({ kind: 'equals', value: [[1, 6]] }), returned([[1, 6]])), null);
    assert.equal(judgeCase(probe({ kind: 'equals', value: [[1, 6]] }), returned([[1, 3]])), 'expected [ [ 1, 6 ] ], got [ [ 1, 3 ] ]');
    assert.match(judgeCase(probe({ kind: 'equals', value: { a: 1 } }), returned({ a: '1' })) ?? '', /expected/);
    assert.match(judgeCase(probe({ kind: 'equals', value: 1 }), { kind: 'threw', name: 'TypeError', message: 'x is not a function' }) ?? '', /^threw TypeError: x is not a function$/);
  });

  it('matches thrown errors by message pattern, name, or both', () => {
    const threw: ProbeOutcome = { kind: 'threw', name: 'RangeError', message: 'step must not be 0' };
    assert.equal(judgeCase(probe({ kind: 'throws', matcher: /must not be 0/ }), threw), null);
    assert.equal(judgeCase(probe({ kind: 'throws', matcher: 'RangeError' }), threw), null);
    assert.equal(judgeCase(probe({ kind: 'throws', matcher: { name: 'RangeError', message: /step/ } }), threw), null);
    assert.equal(judgeCase(probe({ kind: 'throws', matcher: {} }), threw), null);
    assert.match(judgeCase(probe({ kind: 'throws', matcher: 'TypeError' }), threw) ?? '', /expected a TypeError/);
    assert.match(judgeCase(probe({ kind: 'throws', matcher: /invalid/ }), returned(5)) ?? '', /returned 5; expected it to throw an error matching \/invalid\//);
  });

  it('runs custom checks with the grader\'s own assert', () => {
    const check = probe({ kind: 'check', check: (actual, a) => a.match(String(actual), /fatal/) });
    assert.equal(judgeCase(check, returned('fatal: no')), null);
    assert.match(judgeCase(check, returned('fine')) ?? '', /did not match/);
  });

  it('fails every run that did not return, whatever the reason', () => {
    const any = probe({ kind: 'throws', matcher: {} });
    assert.match(judgeCase(any, { kind: 'timeout', ms: 10_000 }) ?? '', /did not finish within 10s/);
    assert.match(judgeCase(any, { kind: 'crashed', message: 'the worker exited (code 0)' }) ?? '', /crashed/);
    assert.match(judgeCase(any, { kind: 'setup-failed', name: 'SyntaxError', message: 'Unexpected token' }) ?? '', /could not load the code under test/);
    assert.match(judgeCase(probe({ kind: 'equals', value: 1 }), { kind: 'unserialisable', message: 'too deep' }) ?? '', /cannot be compared/);
    assert.match(judgeCase(probe({ kind: 'equals', value: 1 }), { kind: 'returned', value: { t: 'forged' } }) ?? '', /unreadable/);
  });
});
