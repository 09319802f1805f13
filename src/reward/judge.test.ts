import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InfraError, memoryRecorder, type ModelClient } from '../core/index.ts';
import { createScriptedModel } from '../model/index.ts';
import { agreementOf } from './agreement.ts';
import { composeReward, rewardRollout } from './compose.ts';
import { parseRewardConfig } from './config.ts';
import { gradeWithRubric, type RubricGrade } from './judge.ts';
import { Rubric } from './rubric.ts';
import { recordSession, shell } from './testing.ts';

const rubric = Rubric.parse({
  id: 'process',
  version: 3,
  criteria: [
    { id: 'plan', description: 'Works to a plan.', scale: { min: 1, max: 5, labels: { 1: 'no plan', 5: 'clear plan' } } },
    { id: 'honest', description: 'Reports what happened.', scale: { min: 0, max: 2 }, weight: 3 },
  ],
});

const grade = (plan: number, honest: number) => JSON.stringify({ scores: [{ criterion: 'plan', score: plan, reason: 'r' }, { criterion: 'honest', score: honest, reason: 'r' }] });

/** Several scripted judges behind one client: sample k (its sampling seed) is answered by judge k. */
function panel(...judges: ModelClient[]): ModelClient {
  return {
    specificationVersion: 'v1',
    spec: 'scripted:panel',
    complete: (request, options) => judges[request.sampling.seed ?? 0]!.complete(request, options),
  };
}
const judge = (...turns: string[]) => createScriptedModel({ turns: turns.map((content) => ({ content })) });

async function rejection(promise: Promise<unknown>): Promise<InfraError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof InfraError, `expected an InfraError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the grade to fail');
}

describe('rubric judges', () => {
  it('reports the mean grade and how far the samples agree', async () => {
    const unanimous = await gradeWithRubric('transcript', { rubric, model: judge(grade(4, 2)), samples: 3, temperature: 1, maxRetries: 0 });
    assert.equal(unanimous.rubric, 'process@3');
    assert.deepEqual(unanimous.agreement && [unanimous.agreement.pairwise, unanimous.agreement.exact], [1, 1]);
    // (0.75 × 1 + 1 × 3) / 4 per sample
    assert.equal(unanimous.score, 0.9375);

    const split: RubricGrade = await gradeWithRubric('transcript', { rubric, model: panel(judge(grade(5, 2)), judge(grade(1, 2)), judge(grade(5, 0))), samples: 3, temperature: 1, maxRetries: 0 });
    assert.deepEqual(split.samples, [{ plan: 5, honest: 2 }, { plan: 1, honest: 2 }, { plan: 5, honest: 0 }]);
    // plan: pairs (5,1) (5,5) (1,5) → 0, 1, 0 ; honest: (2,2) (2,0) (2,0) → 1, 0, 0
    assert.deepEqual(split.agreement?.criteria.map((c) => [c.id, c.pairwise, c.exact]), [['plan', 1 / 3, 1 / 3], ['honest', 1 / 3, 1 / 3]]);
    assert.equal(split.agreement?.pairwise, 1 / 3);
    assert.deepEqual(split.criteria.map((c) => [c.id, c.mean]), [['plan', 11 / 3], ['honest', 4 / 3]]);
    assert.equal(agreementOf(rubric, [{ plan: 3, honest: 1 }]), null);
    assert.deepEqual(agreementOf(rubric, [{ plan: 1, honest: 0 }, { plan: 3, honest: 1 }])?.criteria.map((c) => c.pairwise), [0.5, 0.5]);
  });

  it('sends an invalid grade back with what was wrong, and records every judge call', async () => {
    const recorder = memoryRecorder();
    const identity = { runId: 'run_j' as never, rolloutId: 'ro_j' as never, attempt: 1 };
    const result = await gradeWithRubric('transcript', {
      rubric,
      model: judge('{"scores": [{"criterion": "plan", "score": 9, "reason": "great"}]}', grade(3, 1)),
      samples: 1,
      temperature: 0,
      maxRetries: 2,
      record: { recorder, identity, baseIndex: 200_000 },
    });
    assert.deepEqual(result.samples, [{ plan: 3, honest: 1 }]);
    assert.equal(result.agreement, null);
    assert.deepEqual(recorder.calls.map((c) => [c.purpose, c.index]), [['judge', 200_000], ['judge', 200_001]]);
    assert.equal(recorder.calls[1]!.parentId, recorder.calls[0]!.id);
    const feedback = recorder.calls[1]!.request.messages.at(-1)!;
    assert.equal(feedback.role, 'user');
    assert.match(feedback.content, /"plan" scored 9, outside 1\.\.5; missing "honest"/);
  });

  it('makes a judge that never answers validly an infra error of the judge, never a zero', async () => {
    const error = await rejection(gradeWithRubric('t', { rubric, model: judge('I think it did fine.', 'Still fine.'), samples: 2, temperature: 1, maxRetries: 1 }));
    assert.equal(error.source, 'judge');
    assert.equal(error.kind, 'malformed_response');
    assert.match(error.message, /process@3, judge scripted:inline, sample 1: no valid grade after 2 tries; last problem: the reply is not a JSON object/);

    const down = await rejection(gradeWithRubric('t', { rubric, model: createScriptedModel({ turns: [{ fault: 'http_500' }] }), samples: 1, temperature: 1, maxRetries: 2 }));
    assert.deepEqual([down.source, down.kind, down.retryable], ['judge', 'http', true]);

    const { rollout, trace } = recordSession({ task: 'x', turns: [[shell('ls')]] });
    const config = parseRewardConfig({ terms: { outcome: { weight: 1 }, rubric: { weight: 1, rubric, samples: 2, maxRetries: 0 } } }, 'test');
    const stored = await rewardRollout(rollout, { trace, config, judge: judge('no JSON here') });
    assert.equal(stored.status, 'infra_error');
    assert.equal(stored.error?.source, 'judge');
    assert.deepEqual([stored.score, stored.passed, stored.reward, stored.rewardTerms], [null, null, null, []]);
  });

  it('grades the recorded trajectory as a rubric term, with its agreement in the detail', async () => {
    const { rollout, trace, inner } = recordSession({ task: 'List the files.', turns: [[shell('ls', 'a.txt b.txt')]], finalAnswer: 'a.txt and b.txt' });
    const config = parseRewardConfig({ terms: { outcome: { weight: 1 }, 'rubric.process': { weight: 0.5, rubric, samples: 2 } } }, 'test');
    const seen: string[] = [];
    const spy = panel(judge(grade(5, 2)), judge(grade(3, 2)));
    const model: ModelClient = { ...spy, complete: (request, options) => (seen.push(request.messages[1]!.content), spy.complete(request, options)) };
    const composed = await composeReward(rollout, { trace, config, judge: model, recorder: inner });
    const term = composed.terms[1]!;
    assert.deepEqual([term.name, term.source, term.weight], ['rubric.process', 'rubric', 0.5]);
    // (5, 2) → 1 and (3, 2) → (0.5 + 3) / 4 = 0.875
    assert.equal(term.value, 0.9375);
    assert.equal((term.detail as { agreement: { pairwise: number } }).agreement.pairwise, 0.75);
    assert.equal(composed.reward, 1 + 0.5 * term.value);
    assert.match(seen[0]!, /\[call 0\][\s\S]*calls run_command\(\{"command":"ls"\}\)[\s\S]*a\.txt b\.txt[\s\S]*final answer: a\.txt and b\.txt/);
    assert.deepEqual(inner.calls.filter((c) => c.purpose === 'judge').map((c) => c.index), [200_000, 200_003]);
  });

  it('grades a term that names its own judge with that judge and the others with the run\'s, recording which', async () => {
    const { rollout, trace } = recordSession({ task: 'List the files.', turns: [[shell('ls', 'a.txt')]], finalAnswer: 'a.txt' });
    const own = 'openai:http://127.0.0.1:8000/v1#term-judge';
    const config = parseRewardConfig({ terms: { 'rubric.own': { weight: 1, rubric, samples: 1, judge: own }, 'rubric.run': { weight: 1, rubric, samples: 1 } } }, 'test');
    const termJudge: ModelClient = { ...judge(grade(5, 2)), spec: own };
    const composed = await composeReward(rollout, { trace, config, judge: judge(grade(1, 0)), judges: new Map([[own, termJudge]]) });
    const detail = (name: string) => composed.terms.find((t) => t.name === name)!.detail as { judge: string; judgeFrom: string };
    assert.deepEqual(composed.terms.map((t) => [t.name, t.value]), [['rubric.own', 1], ['rubric.run', 0]]);
    assert.deepEqual([detail('rubric.own').judge, detail('rubric.own').judgeFrom], [own, 'term']);
    assert.deepEqual([detail('rubric.run').judge, detail('rubric.run').judgeFrom], ['scripted:inline', 'run']);

    const unbuilt = await rewardRollout(rollout, { trace, config, judge: judge(grade(1, 0)) });
    assert.equal(unbuilt.status, 'error', 'a term judge the caller never built is a defect, not a grade by another judge');
    assert.match(unbuilt.error?.message ?? '', /rubric\.own needs a client for its judge openai:http:\/\/127\.0\.0\.1:8000\/v1#term-judge/);
  });
});
