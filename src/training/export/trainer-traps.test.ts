// Rows a trainer would accept and then choke on, or learn the wrong thing from: greedy calls in
// prime-rl's per-token temperatures, a TRL staleness check against no version, ids past the
// model's vocabulary, rows ending in context the model never answered, line separators that
// split a JSONL row, batches mixing rows with and without logprobs.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parquetReadObjects } from 'hyparquet';
import { InputError } from '../../core/index.ts';
import { exportRun, type ExportRunOptions } from './export.ts';
import { renderSummary, type ExportSummary } from './summary.ts';
import { resolveTarget, TARGETS } from './targets/index.ts';
import { HOSTILE_RUN, storeWith, type CallPlan } from './testing.ts';

type Row = Record<string, unknown>;
const RUN = HOSTILE_RUN;
const skipped = (s: ExportSummary) => Object.fromEntries(Object.entries(s.rollouts.skipped).map(([reason, v]) => [reason, v.count]));
const call = (over: Partial<CallPlan> = {}): CallPlan => ({ prompt: [1, 2, 3], completion: [4, 5], logprobs: [-0.5, -0.25], ...over });

/** Exports to JSONL on stdout and parses every row back. */
async function rowsOf(options: Omit<ExportRunOptions, 'runId' | 'format' | 'output' | 'stdout'>): Promise<{ summary: ExportSummary; rows: Row[] }> {
  let out = '';
  const summary = await exportRun({ runId: RUN, format: 'jsonl', output: null, stdout: (t) => void (out += t), ...options });
  return { summary, rows: out.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Row) };
}

async function parquetRows(path: string): Promise<Row[]> {
  const bytes = readFileSync(path);
  return (await parquetReadObjects({ file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) })) as Row[];
}

describe('rows a trainer would choke on or learn wrong from', () => {
  it('leaves a policy version too large to be a step number out of the step columns, instead of stopping the whole export', async () => {
    // Before: verl's min_global_steps failed its schema (and Parquet's int64 column), stopping every rollout's export.
    const store = storeWith([
      { id: 'ro_clean', calls: [call({ policyVersion: '7' })] },
      { id: 'ro_huge', calls: [call({ policyVersion: '99999999999999999999' })] },
    ]);
    const verl = resolveTarget('verl');
    for (const format of ['jsonl', 'parquet'] as const) {
      const output = join(mkdtempSync(join(tmpdir(), 'gauntlet-traps-')), `out.${format}`);
      const summary = await exportRun({ store, runId: RUN, target: verl, format, output, stdout: () => {} });
      assert.equal(summary.rows, 2, format);
      const rows = format === 'jsonl' ? readFileSync(output, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Row) : await parquetRows(output);
      assert.deepEqual(
        rows.map((r) => [r.rollout_id, r.min_global_steps === null ? null : Number(r.min_global_steps)]),
        [['ro_clean', 7], ['ro_huge', null]],
        format,
      );
    }
    // TRL async needs a step: the rollout is left out, naming the call and the version.
    const trl = await rowsOf({ store, target: resolveTarget('trl', 'async') });
    assert.deepEqual(skipped(trl.summary), { no_policy_version: 1 });
    assert.match(trl.summary.rollouts.skipped.no_policy_version?.examples[0] ?? '', /^ro_huge .*call 0 recorded policy version "99999999999999999999", not a training step/);
    assert.deepEqual(trl.rows.map((r) => r.model_version), [7]);
  });

  it('trl async: leaves out rollouts without a step-numbered policy version, or takes --policy-version for calls that recorded none', async () => {
    // Before: model_version was null, and TRL's staleness check (its step − model_version) fails on None.
    const store = storeWith([
      { id: 'ro_versioned', calls: [call({ policyVersion: '12' }), call({ prompt: [1, 2, 3, 4, 5, 6], policyVersion: '13' })] },
      { id: 'ro_bare', calls: [call()] },
      { id: 'ro_named', calls: [call({ policyVersion: 'ckpt-3' })] },
    ]);
    const target = resolveTarget('trl', 'async');
    const without = await rowsOf({ store, target });
    assert.deepEqual(skipped(without.summary), { no_policy_version: 2 });
    assert.match(without.summary.rollouts.skipped.no_policy_version?.examples.join('\n') ?? '', /ro_bare .*call 0 recorded no policy version \(give --policy-version/);
    assert.match(without.summary.rollouts.skipped.no_policy_version?.examples.join('\n') ?? '', /ro_named .*"ckpt-3", not a training step/);
    assert.deepEqual(without.rows.map((r) => [r.rollout_id, r.model_version]), [['ro_versioned', 12]], 'the oldest call decides staleness');
    const assumed = await rowsOf({ store, target, assumedPolicyVersion: 5 });
    assert.deepEqual(skipped(assumed.summary), { no_policy_version: 1 }, 'a recorded version that is not a step is never replaced');
    assert.deepEqual(assumed.rows.map((r) => [r.rollout_id, r.model_version]), [['ro_versioned', 12], ['ro_bare', 5]]);
    await assert.rejects(rowsOf({ store, target, assumedPolicyVersion: 1.5 }), (error: unknown) => error instanceof InputError && /--policy-version: is 1\.5/.test(error.message));
  });

  it('prime-rl: leaves out a rollout sampled at temperature 0 and refuses --temperature 0, since prime-rl divides logits by the temperature', async () => {
    // Before: the rows carried temperatures of 0 (NaN logprobs in the trainer's loss).
    const store = storeWith([{ id: 'ro_sampled', calls: [call()] }, { id: 'ro_greedy', calls: [call(), call({ prompt: [1, 2, 3, 4, 5, 6], temperature: 0 })] }]);
    const { summary, rows } = await rowsOf({ store, target: resolveTarget('prime-rl') });
    assert.deepEqual(skipped(summary), { invalid_temperature: 1 });
    assert.match(summary.rollouts.skipped.invalid_temperature?.examples[0] ?? '', /^ro_greedy .*call 1 was sampled at temperature 0 \(greedy\): prime-rl divides each token's logits by its temperature/);
    assert.deepEqual(rows.map((r) => r.rollout_id), ['ro_sampled']);
    // Targets that carry no temperature keep the rollout.
    assert.equal((await rowsOf({ store, target: resolveTarget('verl') })).summary.rollouts.exported, 2);
    await assert.rejects(rowsOf({ store, target: resolveTarget('prime-rl'), assumedTemperature: 0 }), (error: unknown) => error instanceof InputError && /--temperature: is 0.*above 0/.test(error.message));
  });

  it('leaves out a rollout whose token id is past the model vocabulary given, naming the call and the token', async () => {
    // Before: there was no way to say the vocabulary size, and an id the embedding lacks fails the trainer's whole batch on the GPU.
    const store = storeWith([
      { id: 'ro_fits', calls: [call({ prompt: [1, 2, 99], completion: [4, 99] })] },
      { id: 'ro_past', calls: [call(), call({ prompt: [1, 2, 3, 4, 5, 6], completion: [7, 100] })] },
      { id: 'ro_prompt', calls: [call({ prompt: [1, 150_000, 3] })] },
    ]);
    for (const target of Object.values(TARGETS).flat().filter((t) => t.needs.tokens)) {
      const where = `${target.name} ${target.variant}`;
      const { summary, rows } = await rowsOf({ store, target, vocabSize: 100, assumedTemperature: 1, assumedPolicyVersion: 0 });
      assert.deepEqual(skipped(summary), { invalid_tokens: 2 }, where);
      const examples = summary.rollouts.skipped.invalid_tokens?.examples.join('\n') ?? '';
      assert.match(examples, /ro_past .*call 1: token id 100 is beyond the vocabulary \(--vocab-size 100: expected an id from 0 to 99\), at completion token 1/, where);
      assert.match(examples, /ro_prompt .*call 0: token id 150000 is beyond the vocabulary .*, at prompt token 1/, where);
      assert.deepEqual([...new Set(rows.map((r) => r.rollout_id))], ['ro_fits'], where);
    }
    await assert.rejects(rowsOf({ store, target: resolveTarget('verl'), vocabSize: 0 }), /--vocab-size: is 0/);
  });

  it('leaves out a rollout whose row would end in an empty completion: context the model never answered, where trainers put the reward', async () => {
    // Before: SkyRL's reward sat on a prompt token (mask 0), which GAE skips, and TRL saw a completion ending in tool tokens.
    const store = storeWith([
      { id: 'ro_answered', calls: [call(), call({ prompt: [1, 2, 3, 4, 5, 6], completion: [7], logprobs: [-1] })], score: 1 },
      // An empty completion in the middle is only context for the next call: kept.
      { id: 'ro_middle', calls: [call(), call({ prompt: [1, 2, 3, 4, 5, 6], completion: [], logprobs: [] }), call({ prompt: [1, 2, 3, 4, 5, 6, 8], completion: [9], logprobs: [-1] })], score: 0 },
      { id: 'ro_unanswered', calls: [call(), call({ prompt: [1, 2, 3, 4, 5, 6, 7], completion: [], logprobs: [], finishReason: 'length' })], score: 1 },
    ]);
    for (const target of Object.values(TARGETS).flat().filter((t) => t.needs.tokens && !t.needs.callTokens)) {
      const where = `${target.name} ${target.variant}`;
      const { summary, rows } = await rowsOf({ store, target, assumedPolicyVersion: 0 });
      assert.deepEqual(skipped(summary), { no_sampled_tokens: 1 }, where);
      assert.match(summary.rollouts.skipped.no_sampled_tokens?.examples[0] ?? '', /^ro_unanswered .*segment 0 ends with call 1's empty completion: its last 2 tokens are context the model never answered/, where);
      assert.deepEqual([...new Set(rows.map((r) => r.rollout_id))], ['ro_answered', 'ro_middle'], where);
    }
    const skyrl = await rowsOf({ store, target: resolveTarget('skyrl') });
    for (const row of skyrl.rows) {
      const masks = row.loss_masks as number[];
      assert.equal(masks.at(-1), 1, `${String(row.rollout_id)}: the reward's token was sampled`);
    }
  });

  it('escapes the characters Python reads as line ends, so every JSONL row stays one line, on stdout and in a file', async () => {
    // Before: U+2028, U+2029 and U+0085 went out raw, and str.splitlines() cut the row in two.
    const text = 'one\u2028two\u2029three\u0085four';
    const store = storeWith([{ id: 'ro_lines', calls: [call({ content: text })] }]);
    const sft = resolveTarget('sft');
    const pythonLines = (out: string) => out.split(/\r\n|[\n\r\v\f\x85\u2028\u2029]/).filter(Boolean);
    let out = '';
    const summary = await exportRun({ store, runId: RUN, target: sft, format: 'jsonl', output: null, stdout: (t) => void (out += t), minScore: 0 });
    const file = join(mkdtempSync(join(tmpdir(), 'gauntlet-traps-')), 'out.jsonl');
    await exportRun({ store, runId: RUN, target: sft, format: 'jsonl', output: file, stdout: () => {}, minScore: 0 });
    for (const written of [out, readFileSync(file, 'utf8')]) {
      assert.equal(pythonLines(written).length, summary.rows);
      const [row] = pythonLines(written).map((line) => JSON.parse(line) as { messages: { content: string }[] });
      assert.equal(row?.messages[0]?.content, text, 'the same text, escaped');
    }
  });

  it('warns when verl or SkyRL rows mix null logprobs with logprobs, which their batches take from all rows or none', async () => {
    // Before: nothing said so; verl's batch builder reads the first row's logprobs and fails (or drops them all) on a mix.
    const mixed = storeWith([{ id: 'ro_with', calls: [call()] }, { id: 'ro_without', calls: [{ prompt: [1, 2, 3], completion: [4, 5] }] }]);
    for (const [name, field] of [['verl', 'response_logprobs'], ['skyrl', 'rollout_logprobs']] as const) {
      const { summary } = await rowsOf({ store: mixed, target: resolveTarget(name) });
      assert.equal(summary.withoutLogprobs, 1, name);
      assert.match(renderSummary(summary), new RegExp(`warning: 1 of 2 exported rollouts have rows with ${field} null .*drop the rows whose ${field} is null`), name);
    }
    // All alike is a consistent batch, and the generic rows document null per row.
    const none = storeWith([{ id: 'ro_a', calls: [{ prompt: [1, 2, 3], completion: [4, 5] }] }]);
    assert.doesNotMatch((await rowsOf({ store: none, target: resolveTarget('verl') })).summary.warnings.join('\n'), /logprobs/);
    assert.doesNotMatch((await rowsOf({ store: mixed, target: resolveTarget('generic') })).summary.warnings.join('\n'), /logprobs/);
  });

  it('says so when the run has no rollouts at all, and names the run on the summary line', async () => {
    const { summary } = await rowsOf({ store: storeWith([]), target: resolveTarget('verl') });
    assert.equal(summary.rows, 0);
    assert.match(renderSummary(summary), new RegExp(`^exported 0 rows \\(verl agent-loop, jsonl\\) from 0 of 0 rollouts of run ${RUN} → stdout\n(.|\n)*warning: run ${RUN} has no rollouts stored`));
  });
});
