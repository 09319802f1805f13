// Exports of runs a careless user or a broken engine produced: ids no vocabulary has, empty
// completions, unreadable records, text Parquet cannot hold, unfinished runs, very many groups.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parquetReadObjects } from 'hyparquet';
import { StoredDataError, type Rollout, type RolloutId, type Store } from '../../core/index.ts';
import { exportRun } from './export.ts';
import { renderSummary, type ExportSummary } from './summary.ts';
import { TARGETS } from './targets/index.ts';
import { HOSTILE_RUN, storedRollout, storeWith } from './testing.ts';

const RUN = HOSTILE_RUN;

const tokenTargets = Object.values(TARGETS).flat().filter((t) => t.needs.tokens);
const skipped = (s: ExportSummary) => Object.fromEntries(Object.entries(s.rollouts.skipped).map(([reason, v]) => [reason, v.count]));
const output = (format: string) => join(mkdtempSync(join(tmpdir(), 'gauntlet-hostile-')), `out.${format}`);

async function parquetRows(path: string): Promise<Record<string, unknown>[]> {
  const bytes = readFileSync(path);
  return (await parquetReadObjects({ file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) })) as Record<string, unknown>[];
}

const clean = { id: 'ro_clean', calls: [{ prompt: [1, 2, 3], completion: [4, 5], logprobs: [-0.5, -0.25] }] };

describe('exports of hostile runs', () => {
  it('leaves out a rollout with a token id beyond int32, counted as invalid_tokens, in JSONL and Parquet alike', async () => {
    // Before: JSONL carried the id to the trainer, and Parquet stopped the whole export at that row.
    const store = storeWith([clean, { id: 'ro_huge', calls: [{ prompt: [1, 2, 3], completion: [2 ** 31 + 5, 6], logprobs: [-1, -1] }] }]);
    for (const target of tokenTargets) {
      for (const format of ['jsonl', 'parquet'] as const) {
        const path = output(format);
        const summary = await exportRun({ store, runId: RUN, target, format, output: path, stdout: () => {}, assumedTemperature: 1, assumedPolicyVersion: 0 });
        const where = `${target.name} ${target.variant} ${format}`;
        assert.deepEqual(skipped(summary), { invalid_tokens: 1 }, where);
        assert.match(summary.rollouts.skipped.invalid_tokens?.examples[0] ?? '', /ro_huge .*call 0: token id 2147483653 is beyond 2147483647/, where);
        const rows = format === 'jsonl' ? readFileSync(path, 'utf8').trim().split('\n') : await parquetRows(path);
        assert.equal(rows.length, summary.rows, where);
        assert.ok(summary.rows > 0, where);
      }
    }
  });

  it('leaves out a rollout whose row would hold no sampled token (an empty completion), instead of a row that trains on nothing and drops its reward', async () => {
    // Before: SkyRL's rewards array was empty, so the rollout's reward sat on no token at all.
    const store = storeWith([
      clean,
      { id: 'ro_empty', calls: [{ prompt: [1, 2, 3], completion: [], logprobs: [] }], score: 1 },
      // The second call drifted (its prompt does not extend the first) and sampled nothing: a segment of its own with no sampled token.
      { id: 'ro_drift', calls: [{ prompt: [1, 2, 3], completion: [4, 5], logprobs: [-1, -1] }, { prompt: [1, 2, 9, 4, 5, 7], completion: [], logprobs: [] }], score: 1 },
    ]);
    for (const target of tokenTargets) {
      const summary = await exportRun({ store, runId: RUN, target, format: 'jsonl', output: null, stdout: () => {}, assumedTemperature: 1, assumedPolicyVersion: 0 });
      const where = `${target.name} ${target.variant}`;
      assert.deepEqual(skipped(summary), { no_sampled_tokens: 2 }, where);
      assert.equal(summary.rollouts.exported, 1, where);
      assert.match(summary.rollouts.skipped.no_sampled_tokens?.examples.join('\n') ?? '', /ro_empty .*empty completion/, where);
    }
    const [sft] = TARGETS.sft;
    const messages = await exportRun({ store, runId: RUN, target: sft!, format: 'jsonl', output: null, stdout: () => {}, minScore: 0 });
    assert.equal(messages.rollouts.exported, 3, 'SFT rows carry messages, not token ids');
  });

  it('counts a rollout whose stored calls cannot be read as unreadable_calls and exports the rest', async () => {
    // A NaN logprob recorded as null is one such record; before, it stopped the export of every rollout.
    const store = storeWith([clean, { id: 'ro_damaged', calls: [{ prompt: [1, 2, 3], completion: [4, 5], logprobs: [-1, -1] }] }]);
    const damaged: Store = Object.assign(Object.create(store) as Store, {
      modelCalls: (rolloutId: string) => {
        if (rolloutId === 'ro_damaged') throw new StoredDataError(':memory:: model call mc_1', 'invalid content\nresponse.tokens.completionLogprobs.0: expected number, received null');
        return store.modelCalls(rolloutId);
      },
    });
    for (const target of Object.values(TARGETS).flat()) {
      const summary = await exportRun({ store: damaged, runId: RUN, target, format: 'jsonl', output: null, stdout: () => {}, assumedTemperature: 1, assumedPolicyVersion: 0, minScore: 0 });
      const where = `${target.name} ${target.variant}`;
      assert.equal(summary.rollouts.skipped.unreadable_calls?.count, 1, where);
      assert.match(summary.rollouts.skipped.unreadable_calls?.examples[0] ?? '', /ro_damaged .*completionLogprobs\.0/s, where);
      assert.equal(summary.rollouts.exported, 1, where);
    }
  });

  it('leaves out a rollout whose text Parquet cannot hold (a lone surrogate) as invalid_text, naming the row and field, exports the rest, and keeps it exactly in JSONL', async () => {
    // Before: the whole Parquet export stopped at that row; and before that, the file read back U+FFFD where the model wrote \ud800.
    const text = 'half of a pair: \ud800, NUL: \u0000, a pair: 😀';
    const store = storeWith([
      { id: 'ro_text', calls: [{ prompt: [1, 2, 3], completion: [4, 5], logprobs: [-1, -1], content: text }], score: 1 },
      { id: 'ro_fine', calls: [{ prompt: [1, 2, 3], completion: [4, 5], logprobs: [-1, -1], content: 'NUL: \u0000, a pair: 😀, and 2 MB: ' + 'é'.repeat(1_000_000) }], score: 0 },
    ]);
    const [sft] = TARGETS.sft;
    const path = output('parquet');
    const summary = await exportRun({ store, runId: RUN, target: sft!, format: 'parquet', output: path, stdout: () => {}, minScore: 0 });
    assert.deepEqual(skipped(summary), { invalid_text: 1 });
    assert.match(summary.rollouts.skipped.invalid_text?.examples[0] ?? '', /^ro_text \(keys\/a #0\): ro_text\/c0 \(sft messages\): field "messages\.0\.content" holds a lone surrogate \(\\uD800 at index 16\).*--format jsonl keeps the text/s);
    assert.match(renderSummary(summary), /skipped 1 rollouts:\n {2}invalid_text: 1\n {4}ro_text .*\nwarning: 1 rollout left out \(invalid_text\): text a Parquet file cannot hold.*--format jsonl keeps it/s);
    assert.equal(summary.rollouts.exported, 1);
    const back = await parquetRows(path);
    assert.equal(back.length, summary.rows);
    assert.deepEqual([...new Set(back.map((r) => r.rollout_id))], ['ro_fine']);
    assert.equal((back[0]?.messages as { content: string }[])[0]?.content, store.modelCalls('ro_fine')[0]?.request.messages[0]?.content);
    // JSONL holds the text as it is, and leaves nothing out.
    let out = '';
    const jsonl = await exportRun({ store, runId: RUN, target: sft!, format: 'jsonl', output: null, stdout: (t) => void (out += t), minScore: 0 });
    assert.deepEqual(skipped(jsonl), {});
    const rows = out.trim().split('\n').map((line) => JSON.parse(line) as { rollout_id: string; messages: { content: string }[] });
    assert.equal(rows.find((r) => r.rollout_id === 'ro_text')?.messages[0]?.content, text);
  });

  it('keeps the group whole around a rollout left out for its text: the others keep their advantages, and no row names it as a prefix parent', async () => {
    const call = { prompt: [1, 2, 3], completion: [4, 5], logprobs: [-0.5, -0.25] };
    // The first of the group, so the others' segments would have it as their prefix parent.
    const store = storeWith([
      { id: 'ro_bad', calls: [call], score: 1, rollout: { scaffold: 'cut \udc00 short' } },
      { id: 'ro_b', calls: [call], score: 0 },
      { id: 'ro_c', calls: [call], score: 1 },
    ]);
    const [generic] = TARGETS.generic;
    const path = output('parquet');
    const summary = await exportRun({ store, runId: RUN, target: generic!, format: 'parquet', output: path, stdout: () => {} });
    assert.deepEqual(skipped(summary), { invalid_text: 1 });
    assert.match(summary.rollouts.skipped.invalid_text?.examples[0] ?? '', /ro_bad\/s0 \(generic .*\): field "scaffold" holds a lone surrogate \(\\uDC00 at index 4\)/);
    let out = '';
    await exportRun({ store, runId: RUN, target: generic!, format: 'jsonl', output: null, stdout: (t) => void (out += t) });
    const all = new Map(out.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>).map((r) => [r.rollout_id, r]));
    const rows = await parquetRows(path);
    assert.deepEqual(rows.map((r) => r.rollout_id), ['ro_b', 'ro_c']);
    for (const row of rows) {
      assert.equal(row.advantage, all.get(row.rollout_id)?.advantage, 'advantages over the whole group, as for any rollout left out');
      assert.equal(row.group_size, 3);
      assert.notEqual(row.prefix_parent_id, 'ro_bad/s0');
    }
    assert.equal(rows[1]?.prefix_parent_id, 'ro_b/s0');
  });

  it('warns that a run still running or interrupted may have incomplete groups', async () => {
    const [verl] = TARGETS.verl;
    for (const status of ['running', 'interrupted'] as const) {
      const summary = await exportRun({ store: storeWith([clean], status), runId: RUN, target: verl!, format: 'jsonl', output: null, stdout: () => {} });
      assert.equal(summary.runStatus, status);
      assert.match(renderSummary(summary), new RegExp(`warning: run ${RUN} (is still running|was interrupted): groups may lack rollouts.*--resume ${RUN}`));
    }
    const finished = await exportRun({ store: storeWith([clean]), runId: RUN, target: verl!, format: 'jsonl', output: null, stdout: () => {} });
    assert.doesNotMatch(finished.warnings.join('\n'), /running|interrupted/);
  });

  it('exports a run of 200,000 one-rollout groups without overflowing the stack', async () => {
    // Before: Math.max(...sizes) over every group threw "Maximum call stack size exceeded".
    const rollouts: Rollout[] = Array.from({ length: 200_000 }, (_, i) => storedRollout({ id: `ro_${i}` as RolloutId, runId: RUN, taskId: `keys/t${i}`, seed: i }));
    const run = storeWith([]).getRun(RUN);
    const store = { path: ':memory:', getRun: () => run, rollouts: () => rollouts, modelCalls: () => [] } as unknown as Store;
    const [sft] = TARGETS.sft;
    const summary = await exportRun({ store, runId: RUN, target: sft!, format: 'jsonl', output: null, stdout: () => {} });
    assert.equal(summary.groups.count, 200_000);
    assert.equal(summary.groups.largest, 1);
    assert.equal(summary.rollouts.skipped.no_training_calls?.count, 200_000);
  });
});
