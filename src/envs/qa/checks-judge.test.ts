// The YES/NO judge check against a hostile or broken judge: a reply off the protocol is the
// judge's infrastructure failure (not the graded model's, never a verdict), and what the check
// keeps of the reply is short and whole text.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InfraError } from '../../core/index.ts';
import { grade, qaTask } from './test-support.ts';

const task = qaTask([{ check: 'judge', rubric: 'The answer is 42.' }], { labels: ['needs-judge'] });
const judged = (reply: string) => grade(task, { answer: '42', judge: async () => reply });

async function judgeFailure(reply: string): Promise<InfraError> {
  try {
    await judged(reply);
  } catch (error) {
    assert.ok(error instanceof InfraError, `expected an InfraError, got ${String(error)}`);
    return error;
  }
  assert.fail(`expected ${JSON.stringify(reply)} to be no verdict`);
}

describe('a hostile YES/NO judge', () => {
  it('blames the judge, not the graded model, for a reply without a verdict', async () => {
    for (const reply of ['Maybe.', '', 'Verdict: YES']) {
      const error = await judgeFailure(reply);
      assert.deepEqual([error.source, error.kind, error.retryable], ['judge', 'malformed_response', true], reply);
      assert.match(error.message, /judge reply does not start with YES or NO/);
    }
  });

  it('takes the protocol echoed back ("YES/NO: NO") for no verdict, not for a YES', async () => {
    for (const reply of ['YES/NO: NO, it says 41.', 'Yes or no? No.', '**YES or NO**\nNO']) {
      const error = await judgeFailure(reply);
      assert.equal(error.source, 'judge');
      assert.match(error.message, /repeats the choice "YES or NO" instead of making it/);
    }
    assert.equal((await judged('YES, 42 is right; no doubt.')).passed, true);
    assert.equal((await judged('No. Yes, it says a number, but not 42.')).passed, false);
  });

  it('keeps a short, whole excerpt of a huge reply, never half an emoji', async () => {
    const outcome = await judged(`YES ${'a'.repeat(195)}👍 ${'b'.repeat(1_000_000)}`);
    const detail = outcome.checks[0]!.detail!;
    assert.ok(detail.length <= 'judge: '.length + 200, `${detail.length} characters`);
    assert.doesNotMatch(detail, /[\uD800-\uDFFF]/u, 'no lone surrogate');
  });
});
