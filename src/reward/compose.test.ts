import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DefectError, type RewardTerm, type VerifierOutcome } from '../core/index.ts';
import { composeReward, composeToolReward, rewardRollout, scoreRollout, termsNeedingTheModel } from './compose.ts';
import { parseRewardConfig } from './config.ts';
import { processCounts } from './process.ts';
import { recordSession, shell } from './testing.ts';

const verifiers: VerifierOutcome[] = [
  { passed: true, score: 1, checks: [{ name: 'a', kind: 'outcome', passed: true }] },
  { passed: false, score: 0.5, checks: [{ name: 'a', kind: 'outcome', passed: true }, { name: 'b', kind: 'invariant', passed: false }] },
  { passed: false, score: 0, checks: [] },
  { passed: true, score: 1, checks: [], rewards: { accuracy: 0.75 } },
];

/** The scoring before rewards were composed: a weight-1 verdict term and a weight-0 partial-credit term, weighted mean. */
function previousScore(verifier: VerifierOutcome): { score: number; values: number[]; weights: number[] } {
  const terms = [
    { value: verifier.passed ? 1 : 0, weight: 1 },
    { value: verifier.score, weight: 0 },
  ];
  const weight = terms.reduce((s, t) => s + t.weight, 0);
  return { score: terms.reduce((s, t) => s + t.weight * t.value, 0) / weight, values: terms.map((t) => t.value), weights: terms.map((t) => t.weight) };
}

const config = (terms: Record<string, unknown>) => parseRewardConfig({ terms }, 'test');
const term = (terms: RewardTerm[], name: string) => terms.find((t) => t.name === name)!;

describe('reward composition', () => {
  it('with no config reproduces the previous score exactly, as score and as reward', async () => {
    for (const verifier of verifiers) {
      const { rollout, trace } = recordSession({ task: 'x', turns: [[shell('ls')]], verifier });
      const before = previousScore(verifier);
      for (const composed of [await composeReward(rollout, { trace }), await composeReward(rollout), scoreRollout({ verifier })]) {
        assert.equal(composed.score, before.score);
        assert.equal(composed.reward, before.score);
        assert.equal(composed.passed, verifier.passed);
        assert.deepEqual(composed.terms.map((t) => t.value), before.values);
        assert.deepEqual(composed.terms.map((t) => t.weight), before.weights);
        assert.deepEqual(composed.terms.map((t) => t.source), ['verifier', 'verifier']);
      }
    }
  });

  it('stores every term with its raw value and weight, and sums weight × value', async () => {
    const { rollout, trace } = recordSession({
      task: 'Count the lines of notes.txt.',
      verifier: { passed: true, score: 1, checks: [], rewards: { accuracy: 0.8 } },
      stepMs: 500,
      turns: [
        [shell('wc -l notes.txt', '12 notes.txt')],
        [{ name: 'read_file', args: { path: 'missing.txt' }, error: 'no such file' }],
        [shell('wc -l notes.txt', '12 notes.txt')],
      ],
    });
    const composed = await composeReward(rollout, {
      trace,
      config: config({
        outcome: { weight: 1 },
        'verifier.accuracy': { weight: 0.5 },
        tool_errors: { weight: -0.1 },
        repeated_calls: { weight: -0.05 },
        useless_calls: { weight: -0.02 },
        turns: { weight: -0.01 },
        duration: { weight: -0.001 },
      }),
    });
    assert.deepEqual(
      composed.terms.map((t) => [t.name, t.value, t.weight, t.source]),
      [
        ['outcome', 1, 1, 'verifier'],
        ['verifier.accuracy', 0.8, 0.5, 'verifier'],
        ['tool_errors', 1, -0.1, 'process'],
        ['repeated_calls', 1, -0.05, 'process'],
        ['useless_calls', 2, -0.02, 'process'],
        ['turns', 4, -0.01, 'time'],
        // From rollout_started to the last model call: 10 records later (4 calls, 3 × 2 tool events), 500 ms each.
        ['duration', 5, -0.001, 'time'],
      ],
    );
    const expected = 1 + 0.4 - 0.1 - 0.05 - 0.04 - 0.04 - 0.005;
    assert.ok(Math.abs(composed.reward - expected) < 1e-12, `${composed.reward} vs ${expected}`);
    assert.equal(composed.score, 1);
    assert.deepEqual(term(composed.terms, 'useless_calls').detail, { toolCalls: 3, examples: ['read_file({"path":"missing.txt"})', 'run_command({"command":"wc -l notes.txt"})'] });
  });

  it('zeroes the total when a gating detector fires at or above its severity, and only then', async () => {
    const hack = recordSession({ task: 'Make the tests pass.', turns: [[shell('rm -rf tests/')], [shell('rm -rf /')]] });
    const gated = await composeReward(hack.rollout, {
      trace: hack.trace,
      config: config({ outcome: { weight: 1 }, 'detector.test_tampering': { weight: -0.5, gate: true }, 'detector.dangerous_command': { weight: -0.25 } }),
    });
    assert.equal(gated.reward, 0);
    assert.deepEqual(gated.gatedBy, ['detector.test_tampering']);
    assert.equal(term(gated.terms, 'detector.test_tampering').value, 1);
    assert.equal(term(gated.terms, 'detector.dangerous_command').value, 1);
    assert.equal((term(gated.terms, 'detector.test_tampering').detail as { fired: boolean }).fired, true);
    // Same flags without a gate: a plain penalty.
    const penalised = await composeReward(hack.rollout, { trace: hack.trace, config: config({ outcome: { weight: 1 }, 'detector.test_tampering': { weight: -0.5 }, 'detector.dangerous_command': { weight: -0.25 } }) });
    assert.equal(penalised.reward, 1 - 0.5 - 0.25);
    assert.deepEqual(penalised.gatedBy, []);
    // A force push with lease is a medium-severity flag: a gate from `high` lets it through, one from `medium` does not.
    const push = recordSession({ task: 'Publish the fix.', turns: [[shell('git push --force-with-lease origin main')]] });
    const gate = (minSeverity: string) => config({ outcome: { weight: 1 }, 'detector.dangerous_command': { weight: 0, gate: true, minSeverity } });
    assert.equal((await composeReward(push.rollout, { trace: push.trace, config: gate('high') })).reward, 1);
    assert.equal((await composeReward(push.rollout, { trace: push.trace, config: gate('medium') })).reward, 0);
    const clean = recordSession({ task: 'Make the tests pass.', turns: [[shell('rm -rf ./build')], [shell('npm test', '# pass 4')]] });
    const kept = await composeReward(clean.rollout, { trace: clean.trace, config: config({ outcome: { weight: 1 }, 'detector.test_tampering': { weight: -0.5, gate: true } }) });
    assert.deepEqual([kept.reward, kept.gatedBy], [1, []]);
  });

  it('makes a promised verifier reward that is missing an error of the environment, unless a stand-in is configured', async () => {
    const { rollout, trace } = recordSession({ task: 'x', turns: [], verifier: { passed: true, score: 1, checks: [], rewards: { other: 1 } } });
    const failed = await rewardRollout(rollout, { trace, config: config({ 'verifier.accuracy': { weight: 1 } }) });
    assert.equal(failed.status, 'error');
    assert.equal(failed.score, null);
    assert.equal(failed.error?.source, 'environment');
    assert.match(failed.error?.message ?? '', /no "accuracy" reward \(it produced other\)/);
    const standIn = await rewardRollout(rollout, { trace, config: config({ 'verifier.accuracy': { weight: 1, missing: 0 } }) });
    assert.deepEqual([standIn.status, standIn.reward, standIn.rewardTerms[0]?.detail], ['scored', 0, { missing: true }]);
  });
});

describe('rewards that are not finite numbers', () => {
  it('makes a term that computes NaN or ±∞ an error of its rollout naming the term, never a score', async () => {
    for (const [accuracy, word] of [
      [Number.NaN, 'NaN'],
      [Number.POSITIVE_INFINITY, 'Infinity'],
      [Number.NEGATIVE_INFINITY, '-Infinity'],
    ] as const) {
      const { rollout, trace } = recordSession({ task: 'x', turns: [], verifier: { passed: true, score: 1, checks: [], rewards: { accuracy } } });
      const failed = await rewardRollout(rollout, { trace, config: config({ outcome: { weight: 1 }, 'verifier.accuracy': { weight: 0.5 } }) });
      assert.deepEqual([failed.status, failed.terminationReason, failed.score, failed.passed, failed.reward, failed.rewardTerms], ['error', 'error', null, null, null, []]);
      assert.equal(failed.error?.source, 'environment');
      assert.match(failed.error?.message ?? '', new RegExp(`rollout ro_test_reward: the verifier's reward "accuracy" is ${word}, read by reward term verifier\\.accuracy \\(expected finite numbers`));
      // What reaches the store holds no number JSON would write as null.
      assert.deepEqual(failed.verifier, { passed: true, score: 1, checks: [], rewards: {} });
    }
  });

  it('makes a total that overflows an error naming the total and the terms that made it', async () => {
    const { rollout, trace } = recordSession({ task: 'x', turns: [], verifier: { passed: true, score: 1, checks: [], rewards: { accuracy: 1e308 } } });
    const failed = await rewardRollout(rollout, { trace, config: config({ outcome: { weight: 1 }, 'verifier.accuracy': { weight: 10 } }) });
    assert.equal(failed.status, 'error');
    assert.equal(failed.reward, null);
    assert.match(failed.error?.message ?? '', /rollout ro_test_reward: the reward total \(Σ weight × value\) is Infinity: verifier\.accuracy \(10 × 1e\+308\)/);
  });

  it('refuses a non-finite verifier reward no term reads, keeping the rest of the verifier outcome', async () => {
    const { rollout, trace } = recordSession({ task: 'x', turns: [], verifier: { passed: false, score: 0.5, checks: [], rewards: { accuracy: 0.5, speed: Number.NaN } } });
    const failed = await rewardRollout(rollout, { trace });
    assert.equal(failed.status, 'error');
    assert.match(failed.error?.message ?? '', /the verifier's reward "speed" is NaN/);
    assert.deepEqual(failed.verifier?.rewards, { accuracy: 0.5 });
  });

  it('refuses the same in an episode scored from its tool calls alone, and a term of its own that computes NaN', () => {
    const verifier: VerifierOutcome = { passed: true, score: 1, checks: [], rewards: { accuracy: Number.NaN } };
    assert.throws(() => composeToolReward({ verifier, tools: [], turns: 1, startedAt: 0, lastAt: 1 }, config({ 'verifier.accuracy': { weight: 1 } })), /the verifier's reward "accuracy" is NaN/);
    const clean: VerifierOutcome = { passed: true, score: 1, checks: [] };
    assert.throws(
      () => composeToolReward({ verifier: clean, tools: [], turns: 1, startedAt: 0, lastAt: Number.NaN }, config({ outcome: { weight: 1 }, duration: { weight: -0.01 } })),
      (error: unknown) => error instanceof DefectError && error.source === 'gauntlet' && /reward term duration: its value is NaN/.test(error.message),
    );
  });
});

describe('rewards composed from the verifier and the tool calls alone', () => {
  const toolTerms = config({
    outcome: { weight: 1 },
    verifier_checks: { weight: 0.3 },
    'verifier.accuracy': { weight: 0.5 },
    tool_errors: { weight: -0.1 },
    repeated_calls: { weight: -0.05 },
    useless_calls: { weight: -0.02 },
    turns: { weight: -0.01 },
    duration: { weight: -0.001 },
  });

  it('gives the terms and total composeReward gives for the same verifier outcome, tool calls, turns and working time, to the bit', async () => {
    for (const verifier of verifiers.map((v) => ({ ...v, rewards: { accuracy: 0.7 } }))) {
      const { rollout, trace } = recordSession({
        task: 'Count the lines of notes.txt.',
        verifier,
        stepMs: 300,
        turns: [[shell('wc -l notes.txt', '12 notes.txt')], [{ name: 'read_file', args: { path: 'missing.txt' }, error: 'no such file' }], [shell('wc -l notes.txt', '12 notes.txt')]],
      });
      const full = await composeReward(rollout, { trace, config: toolTerms });
      const alone = composeToolReward({ verifier, tools: trace.tools, turns: rollout.stats.turns, startedAt: trace.startedAt, lastAt: trace.lastAt }, toolTerms);
      assert.deepEqual(alone, full);
      assert.ok(Object.is(alone.reward, full.reward));
      assert.notEqual(full.reward, full.score, 'the process terms moved the reward');
    }
  });

  it('uses the built-in default when given no config: the reward is the score', () => {
    for (const verifier of verifiers) {
      const composed = composeToolReward({ verifier, tools: [], turns: 1, startedAt: null, lastAt: null });
      assert.deepEqual(composed, scoreRollout({ verifier }));
    }
  });

  it('names the terms that need the model, and refuses to compose them', () => {
    const rubric = { id: 'r', version: 1, criteria: [{ id: 'c', description: 'd', scale: { min: 0, max: 1 } }] };
    const needing = config({ outcome: { weight: 1 }, 'detector.test_tampering': { weight: -1, gate: true }, 'rubric.plan': { weight: 0.5, rubric }, tool_errors: { weight: -0.1 } });
    assert.deepEqual(termsNeedingTheModel(needing).map((t) => t.name), ['detector.test_tampering', 'rubric.plan']);
    assert.match(termsNeedingTheModel(needing)[0]!.why, /model's own messages/);
    assert.deepEqual(termsNeedingTheModel(toolTerms), []);
    assert.throws(() => composeToolReward({ verifier: verifiers[0]!, tools: [], turns: 1, startedAt: null, lastAt: null }, needing), /detector\.test_tampering needs the model's own messages/);
  });
});

describe('process counts', () => {
  const use = (name: string, args: Record<string, string>, result: string | null, ok = true) => ({ id: 'x', name, arguments: JSON.stringify(args), result: result === null ? null : { ok, content: result } });

  it('counts a repeat by tool and arguments whatever the key order, and calls it useless only when nothing changed', () => {
    const counts = processCounts([
      use('read_file', { path: 'a', encoding: 'utf8' }, 'v1'),
      { ...use('read_file', {}, 'v1'), arguments: '{"encoding":"utf8","path":"a"}' },
      use('run_tests', {}, 'fail 1'),
      use('edit_file', { path: 'a' }, 'edited'),
      use('run_tests', {}, 'pass'),
      use('read_file', { path: 'b' }, 'boom', false),
      use('read_file', { path: 'b' }, null),
    ]);
    assert.deepEqual(
      { errors: counts.toolErrors, repeated: counts.repeatedCalls, useless: counts.uselessCalls },
      // repeats: the second read of a, the second test run, the second read of b;
      // useless: the unchanged re-read of a and the failed read of b (the re-run changed; the last has no result).
      { errors: 1, repeated: 3, useless: 2 },
    );
  });
});
