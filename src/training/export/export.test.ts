import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import type { RolloutId, RunId } from '../../core/index.ts';
import { openStore } from '../../store/index.ts';
import { exportRun, type ExportRunOptions } from './export.ts';
import { renderSummary, type ExportSummary } from './summary.ts';
import { TARGETS } from './targets/index.ts';
import { EXPORT_RUN, plannedCalls, seedExportRun, storedRollout } from './testing.ts';
import type { ExportTarget } from './unit.ts';
import { TYPESCRIPT_NODE_ARGS } from '../../../test/support/typescript.ts';

const store = openStore(':memory:');
seedExportRun(store);

type Row = Record<string, unknown>;

function parquetBytes(path: string): ArrayBuffer {
  const bytes = readFileSync(path);
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
}

/** hyparquet reads int64 columns (seeds, policy versions) as bigints; the rows were written with numbers. */
const withNumbers = (row: Row): Row => Object.fromEntries(Object.entries(row).map(([key, value]) => [key, typeof value === 'bigint' ? Number(value) : value]));

/** Exports to a file and reads it back with an independent reader: JSON.parse for JSONL, hyparquet for Parquet. */
async function exported(target: ExportTarget, format: 'jsonl' | 'parquet', extra: Partial<ExportRunOptions> = {}, from = store): Promise<{ summary: ExportSummary; rows: Row[]; output: string }> {
  const output = join(mkdtempSync(join(tmpdir(), 'gauntlet-export-')), `out.${format}`);
  const summary = await exportRun({ store: from, runId: EXPORT_RUN, target, format, output, stdout: () => assert.fail('file exports write nothing to stdout'), ...extra });
  const rows =
    format === 'jsonl'
      ? readFileSync(output, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Row)
      : ((await parquetReadObjects({ file: parquetBytes(output) })) as Row[]).map(withNumbers);
  return { summary, rows, output };
}

const byRollout = (rows: Row[], id: string) => rows.filter((r) => r.rollout_id === `ro_${id}`);
const skipped = (s: ExportSummary) => Object.fromEntries(Object.entries(s.rollouts.skipped).map(([reason, v]) => [reason, v.count]));

describe('trainer exports round-trip', () => {
  for (const [name, variants] of Object.entries(TARGETS)) {
    for (const target of variants) {
      it(`${name} ${target.variant}: JSONL and Parquet read back to exactly the rows written, every one passing the schema`, async () => {
        const options = target.needs.temperature ? { assumedTemperature: 0.7 } : {};
        // By sample id: a Parquet export builds a rollout's rows twice (its text is checked before the group's prefix links are known), and the last build is written.
        const built = new Map<unknown, object>();
        const recording: ExportTarget = {
          ...target,
          rows: (unit) => {
            const rows = target.rows(unit);
            for (const row of rows) built.set((row as Row).sample_id, structuredClone(row));
            return rows;
          },
        };
        const jsonl = await exported(recording, 'jsonl', options);
        assert.ok(built.size > 0);
        assert.equal(jsonl.summary.rows, built.size);
        assert.deepEqual(jsonl.rows, [...built.values()]);
        built.clear();
        const parquet = await exported(recording, 'parquet', options);
        assert.deepEqual(parquet.rows, [...built.values()]);
        for (const row of jsonl.rows) {
          assert.deepEqual(Object.keys(row), Object.keys(target.columns));
          const checked = target.schema.safeParse(row);
          assert.ok(checked.success, checked.success ? '' : JSON.stringify(checked.error.issues));
        }
        const meta = parquetMetadata(parquetBytes(parquet.output));
        assert.equal(meta.key_value_metadata?.find((kv) => kv.key === 'gauntlet.export')?.value, `${name}/${target.variant}`);
      });
    }
  }
});

describe('what the exports hold', () => {
  const [verl] = TARGETS.verl;
  it('verl: one row per segment, reward and advantage per rollout, skipped rollouts counted with their reason', async () => {
    const { summary, rows } = await exported(verl!, 'jsonl');
    assert.deepEqual(
      rows.map((r) => r.sample_id),
      ['ro_a0/s0', 'ro_a1/s0', 'ro_a1/s1', 'ro_a2/s0', 'ro_a2/s1', 'ro_a2/s2', 'ro_c0/s0', 'ro_d0/s0'],
    );
    assert.deepEqual(skipped(summary), { 'not scored (infra_error)': 1, no_engine_tokens: 1 });
    assert.match(summary.rollouts.skipped.no_engine_tokens?.examples[0] ?? '', /ro_b0 .*local tokenizer/);
    // group keys/a@w0: rewards 1, 0, 0.5 → mean 0.5, sample std 0.5 → GRPO ±0.5 / 0.500001
    const advantage = (id: string) => byRollout(rows, id)[0]?.advantage as number;
    assert.ok(Math.abs(advantage('a0') - 0.5 / 0.500001) < 1e-12);
    assert.ok(Math.abs(advantage('a1') + 0.5 / 0.500001) < 1e-12);
    assert.equal(advantage('a2'), 0);
    assert.equal(advantage('c0'), 0, 'a group of one');
    const a0 = byRollout(rows, 'a0')[0]!;
    assert.equal(a0.uid, 'keys/a@w0');
    assert.equal((a0.prompt_ids as number[]).length, 12, 'the first prompt');
    assert.deepEqual((a0.response_mask as number[]).slice(0, 5), [1, 1, 1, 1, 1], 'the first completion is sampled');
    assert.deepEqual((a0.response_mask as number[]).slice(5, 8), [0, 0, 0], 'the tool result is not');
    assert.equal((a0.response_logprobs as number[])[5], 0);
    assert.equal(a0.min_global_steps, 3);
    assert.equal(byRollout(rows, 'c0')[0]?.response_logprobs, null);
    assert.equal(summary.groups.count, 4);
    assert.equal(summary.groups.singletons, 3);
  });

  it('reports drift by cause and the token savings of merging and of the prefix tree', async () => {
    const { summary } = await exported(verl!, 'jsonl');
    assert.equal(summary.drift.rolloutsWithDrift, 1);
    assert.deepEqual(summary.drift.byCause, { dropped_reasoning: { rollouts: 1, breaks: 1 }, context_reset: { rollouts: 1, breaks: 2 } });
    const t = summary.tokens!;
    assert.ok(t.perCallTokens > t.mergedTokens && t.mergedTokens > t.treeTokens, JSON.stringify(t));
    assert.equal(summary.multiSegmentRollouts, 2);
    const text = renderSummary(summary);
    assert.match(text, /template drift: 1 of 5 rollouts — dropped_reasoning 1 \(1 break\)/);
    assert.match(text, /context resets .*: 2 in 1 rollout\n/);
    assert.match(text, /warning: 2 rollouts span several segments/);
  });

  it('generic: full-length arrays, call spans, the drift that began a segment and the prefix tree', async () => {
    const [generic] = TARGETS.generic;
    const { rows } = await exported(generic!, 'parquet');
    const a1 = byRollout(rows, 'a1');
    assert.equal(a1[1]?.started_by, 'dropped_reasoning');
    assert.deepEqual({ ...(a1[1]?.drift as Row), detail: null }, { cause: 'dropped_reasoning', call_index: 2, turn: 3, position: 12, message_index: 2, detail: null });
    assert.equal(a1[0]?.drift, null);
    // every segment of the group shares at least the 12-token first prompt with another sample
    const group = rows.filter((r) => r.group_id === 'keys/a@w0');
    const linked = group.filter((r) => r.prefix_parent_id !== null);
    assert.equal(linked.length, group.length - 1, 'one root per group');
    for (const row of linked) {
      const parent = rows.find((r) => r.sample_id === row.prefix_parent_id)!;
      const shared = row.prefix_shared_tokens as number;
      assert.ok(shared >= 12);
      assert.deepEqual((row.token_ids as number[]).slice(0, shared), (parent.token_ids as number[]).slice(0, shared));
    }
    const a0 = byRollout(rows, 'a0')[0]!;
    assert.deepEqual((a0.calls as Row[]).map((c) => c.policy_version), ['3', '3', '3']);
    assert.equal(a0.prompt_length, 12);
  });

  it('trl and prime-rl need logprobs (and prime-rl temperatures), and say which rollouts lacked them', async () => {
    const [rolloutFunc, async_] = TARGETS.trl;
    assert.deepEqual(skipped((await exported(rolloutFunc!, 'jsonl')).summary), { 'not scored (infra_error)': 1, no_engine_tokens: 1, no_logprobs: 1 });
    const trlAsync = await exported(async_!, 'jsonl');
    const a0 = byRollout(trlAsync.rows, 'a0')[0]!;
    assert.equal((a0.input_ids as number[]).length, (a0.old_log_probs as number[]).length);
    assert.equal(a0.model_version, 3);
    const [sample] = TARGETS['prime-rl'];
    const strict = await exported(sample!, 'jsonl');
    assert.equal(strict.summary.rollouts.skipped.no_temperature?.count, 1);
    assert.match(strict.summary.rollouts.skipped.no_temperature?.examples[0] ?? '', /ro_d0 .*--temperature/);
    const assumed = await exported(sample!, 'jsonl', { assumedTemperature: 0.6 });
    const d0 = byRollout(assumed.rows, 'd0')[0]!;
    assert.ok((d0.temperatures as number[]).every((t) => t === 0.6));
    const a0Sample = byRollout(assumed.rows, 'a0')[0]!;
    assert.ok((a0Sample.temperatures as number[]).every((t) => t === 1), 'recorded temperatures win');
    const mask = a0Sample.mask as boolean[];
    assert.ok((a0Sample.advantages as number[]).every((a, i) => (mask[i] ? a === a0Sample.advantage : a === 0)));
  });

  it('skyrl step-wise: one sample per call, the reward on the last token of the last step only', async () => {
    const stepWise = TARGETS.skyrl.find((t) => t.variant === 'step-wise')!;
    const { rows } = await exported(stepWise, 'jsonl');
    const a0 = byRollout(rows, 'a0');
    assert.equal(a0.length, 3);
    assert.deepEqual(a0.map((r) => r.is_last_step), [false, false, true]);
    assert.deepEqual((a0[2]?.rewards as number[]).at(-1), 1);
    assert.ok(a0.slice(0, 2).every((r) => (r.rewards as number[]).every((x) => x === 0)));
    assert.deepEqual(a0[0]?.trajectory_ids, { instance_id: 'keys/a@w0', repetition_id: 0 });
  });

  it('sft: passing rollouts as chat messages with reasoning and tool calls, tokens not needed', async () => {
    const [sft] = TARGETS.sft;
    const { rows, summary } = await exported(sft!, 'parquet');
    assert.deepEqual(rows.map((r) => r.rollout_id), ['ro_a0', 'ro_b0', 'ro_c0']);
    assert.equal(summary.tokens, null);
    const messages = rows[0]?.messages as Row[];
    assert.deepEqual(messages.map((m) => m.role), ['system', 'user', 'assistant', 'tool', 'assistant', 'tool', 'assistant']);
    assert.equal(messages[2]?.reasoning_content, 'thought 0');
    assert.deepEqual(messages[2]?.tool_calls, [{ id: 'call_0', type: 'function', function: { name: 'look', arguments: { at: 'spot 0' } } }]);
    assert.equal(messages[3]?.tool_call_id, 'call_0');
    assert.deepEqual(rows[0]?.tools, [{ type: 'function', function: { name: 'look', description: 'Look around.', parameters: { type: 'object', properties: { at: { type: 'string' } } } } }]);
    const relaxed = await exported(sft!, 'jsonl', { minScore: 0.5 });
    // a2 summarised: the history up to the summary and the context after it are two conversations
    assert.deepEqual(relaxed.rows.map((r) => r.sample_id), ['ro_a0/c2', 'ro_a2/c2', 'ro_a2/c3', 'ro_b0/c1', 'ro_c0/c1']);
    assert.equal(relaxed.rows[1]?.purpose, 'summary');
  });

  it('groups by task on request, with the advantage method asked for', async () => {
    const { rows } = await exported(verl!, 'jsonl', { groupBy: 'task', advantage: 'rloo' });
    // rewards 1, 0, 0.5 → RLOO: 1 − 0.25, 0 − 0.75, 0.5 − 0.5
    assert.deepEqual(['a0', 'a1', 'a2'].map((id) => [byRollout(rows, id)[0]?.uid, byRollout(rows, id)[0]?.advantage]), [
      ['keys/a', 0.75],
      ['keys/a', -0.75],
      ['keys/a', 0],
    ]);
  });

  it('warns when every group has one rollout, since every advantage is then 0', async () => {
    const lone = openStore(':memory:');
    lone.createRun({ ...store.getRun(EXPORT_RUN)!, id: 'run_lone' as RunId }, []);
    for (const epoch of [0, 1]) {
      const id = `ro_lone${epoch}` as RolloutId;
      const recorder = lone.recorder({ runId: 'run_lone' as RunId, rolloutId: id, attempt: 1 });
      for (const call of plannedCalls('run_lone' as RunId, { rolloutId: id, turns: 1, seed: epoch }, [1, 2, 3])) recorder.modelCall(call);
      lone.commitRollout(storedRollout({ id, runId: 'run_lone' as RunId, taskId: 'keys/a', epoch, seed: 100 + epoch }));
    }
    const summary = await exportRun({ store: lone, runId: 'run_lone', target: verl!, format: 'jsonl', output: null, stdout: () => {} });
    assert.equal(summary.rows, 2);
    assert.match(summary.warnings.join('\n'), /every group has one rollout.*--group-size N.*--group-by task/);
  });

  it('warns when every group\'s rollouts got the same reward, since every advantage is then 0 too', async () => {
    const alike = openStore(':memory:');
    const runId = 'run_alike' as RunId;
    alike.createRun({ ...store.getRun(EXPORT_RUN)!, id: runId }, []);
    // Two groups of two, each passed alike, and one lone rollout: nothing for GRPO to compare.
    const members = [
      { taskId: 'keys/a', groupId: 'keys/a@w0', epoch: 0, score: 1 },
      { taskId: 'keys/a', groupId: 'keys/a@w0', epoch: 1, score: 1 },
      { taskId: 'keys/b', groupId: 'keys/b@w0', epoch: 0, score: 0 },
      { taskId: 'keys/b', groupId: 'keys/b@w0', epoch: 1, score: 0 },
      { taskId: 'keys/c', groupId: 'keys/c@w0', epoch: 0, score: 0.5 },
    ];
    members.forEach((member, i) => {
      const id = `ro_alike${i}` as RolloutId;
      const recorder = alike.recorder({ runId, rolloutId: id, attempt: 1 });
      for (const call of plannedCalls(runId, { rolloutId: id, turns: 1, seed: i }, [1, 2, 3])) recorder.modelCall(call);
      alike.commitRollout(storedRollout({ id, runId, seed: 100 + i, passed: member.score === 1, ...member }));
    });
    for (const target of [verl!, TARGETS.generic[0]!]) {
      const summary = await exportRun({ store: alike, runId, target, format: 'jsonl', output: null, stdout: () => {} });
      assert.equal(summary.rows, 5, target.name);
      assert.deepEqual({ count: summary.groups.count, singletons: summary.groups.singletons, uniform: summary.groups.uniform }, { count: 3, singletons: 1, uniform: 2 });
      assert.match(summary.warnings.join('\n'), /every group's rollouts got the same reward \(2 groups; 1 more has one rollout\), so every advantage is 0/, target.name);
      assert.match(renderSummary(summary), /warning: every group's rollouts got the same reward/);
    }
    const [sft] = TARGETS.sft;
    const rows = await exportRun({ store: alike, runId, target: sft!, format: 'jsonl', output: null, stdout: () => {}, minScore: 0 });
    assert.deepEqual(rows.warnings, [], 'SFT rows carry no advantage');
    // One group whose rewards differ is something to learn from: no warning.
    const mixed = await exportRun({ store, runId: EXPORT_RUN, target: verl!, format: 'jsonl', output: null, stdout: () => {} });
    assert.ok(mixed.groups.uniform < mixed.groups.count - mixed.groups.singletons);
    assert.doesNotMatch(mixed.warnings.join('\n'), /same reward/);
  });

  it('writes seeds of 2^31 and above, and policy versions past int32, to Parquet as int64 and reads them back', async () => {
    const wide = openStore(':memory:');
    wide.createRun(store.getRun(EXPORT_RUN)!, []);
    const seed = 3_373_496_962; // a rollout seed as the runner draws them: anything below 2^32
    const version = '5000000000';
    const id = 'ro_wide' as RolloutId;
    const recorder = wide.recorder({ runId: EXPORT_RUN, rolloutId: id, attempt: 1 });
    for (const call of plannedCalls(EXPORT_RUN, { rolloutId: id, turns: 2, seed: 1, policyVersion: version, temperature: 1 }, [1, 2, 3])) recorder.modelCall(call);
    wide.commitRollout(storedRollout({ id, taskId: 'keys/a', seed }));
    const read = async (name: keyof typeof TARGETS, variant: string, column: string) => {
      const target = TARGETS[name].find((t) => t.variant === variant)!;
      const { rows, output } = await exported(target, 'parquet', {}, wide);
      const raw = (await parquetReadObjects({ file: parquetBytes(output), columns: [column] })) as Row[];
      const element = parquetMetadata(parquetBytes(output)).schema.find((e) => e.name === column);
      return { value: rows[0]?.[column], raw: raw[0]?.[column], type: element?.type };
    };
    assert.deepEqual(await read('generic', 'segments', 'seed'), { value: seed, raw: BigInt(seed), type: 'INT64' });
    assert.deepEqual(await read('verl', 'agent-loop', 'max_global_steps'), { value: Number(version), raw: BigInt(version), type: 'INT64' });
    assert.deepEqual(await read('trl', 'async', 'model_version'), { value: Number(version), raw: BigInt(version), type: 'INT64' });
  });

  it('streams JSONL to stdout when no file is given, and leaves no file behind when an export fails', async () => {
    let out = '';
    const summary = await exportRun({ store, runId: EXPORT_RUN, target: verl!, format: 'jsonl', output: null, stdout: (t) => void (out += t) });
    assert.equal(out.trim().split('\n').length, summary.rows);
    const output = join(mkdtempSync(join(tmpdir(), 'gauntlet-export-')), 'broken.parquet');
    const broken: ExportTarget = { ...verl!, rows: (unit) => verl!.rows(unit).map((row) => ({ ...row, response_mask: [7] })) };
    await assert.rejects(exportRun({ store, runId: EXPORT_RUN, target: broken, format: 'parquet', output, stdout: () => {} }), /ro_a0\/s0 \(verl agent-loop\) of run run_export fails its schema:\nresponse_mask\.0: .*\nresponse_mask: has 1 entries, response_ids has 21/);
    assert.ok(!existsSync(output));
    assert.deepEqual(readdirSync(dirname(output)), [], 'no partial file left behind');
  });

  it('leaves nothing beside the destination when nothing could be exported, in a process of its own', () => {
    // In a fresh process (a CLI run) the stream's background open came after the abort's removal.
    const module = (path: string) => JSON.stringify(new URL(path, import.meta.url).href);
    const script = [
      `import { openStore } from ${module('../../store/index.ts')};`,
      `import { exportRun } from ${module('./export.ts')};`,
      `import { TARGETS } from ${module('./targets/index.ts')};`,
      `import { EXPORT_RUN, seedExportRun } from ${module('./testing.ts')};`,
      "const store = openStore(':memory:');",
      'seedExportRun(store);',
      "const summary = await exportRun({ store, runId: EXPORT_RUN, target: TARGETS.sft[0], format: 'jsonl', output: process.argv[1], stdout: () => {}, minScore: 2 });",
      'process.stdout.write(String(summary.rows));',
    ].join('\n');
    const folder = mkdtempSync(join(tmpdir(), 'gauntlet-export-none-'));
    const rows = execFileSync(process.execPath, [...TYPESCRIPT_NODE_ARGS, '--input-type=module', '-e', script, join(folder, 'train.jsonl')], { encoding: 'utf8' });
    assert.equal(rows, '0');
    assert.deepEqual(readdirSync(folder), []);
  });

  it('two exports to one path at once each write a file of their own, and the one renamed last is whole', async () => {
    for (const format of ['jsonl', 'parquet'] as const) {
      const output = join(mkdtempSync(join(tmpdir(), 'gauntlet-export-')), `same.${format}`);
      const once = () => exportRun({ store, runId: EXPORT_RUN, target: verl!, format, output, stdout: () => {} });
      const [a, b] = await Promise.all([once(), once()]);
      assert.equal(a.rows, b.rows);
      const rows = format === 'jsonl' ? readFileSync(output, 'utf8').split('\n').filter(Boolean).length : (await parquetReadObjects({ file: parquetBytes(output) })).length;
      assert.equal(rows, a.rows, format);
      assert.deepEqual(readdirSync(dirname(output)), [`same.${format}`]);
    }
  });

  it('hands merged targets their calls without per-call token ids, and per-call targets with them', async () => {
    // A long rollout's per-call prompts hold quadratically many ids; a whole group's units are held at once.
    for (const target of Object.values(TARGETS).flat().filter((t) => t.needs.tokens)) {
      const seen: boolean[] = [];
      const spy: ExportTarget = { ...target, rows: (unit) => (seen.push(...unit.calls.map((c) => c.response?.tokens !== undefined)), target.rows(unit)) };
      await exportRun({ store, runId: EXPORT_RUN, target: spy, format: 'jsonl', output: null, stdout: () => {}, assumedTemperature: 1, assumedPolicyVersion: 0 });
      assert.ok(seen.length > 0);
      assert.deepEqual(new Set(seen), new Set([target.needs.callTokens === true]), `${target.name} ${target.variant}`);
    }
  });

  it('sft: counts a rollout without a policy call as skipped, and says nothing of advantages or drift it does not carry', async () => {
    const lone = openStore(':memory:');
    const runId = 'run_sft_lone' as RunId;
    lone.createRun({ ...store.getRun(EXPORT_RUN)!, id: runId }, []);
    const kept = 'ro_kept' as RolloutId;
    const recorder = lone.recorder({ runId, rolloutId: kept, attempt: 1 });
    for (const call of plannedCalls(runId, { rolloutId: kept, turns: 1, seed: 1 }, [1, 2, 3])) recorder.modelCall(call);
    lone.commitRollout(storedRollout({ id: kept, runId, taskId: 'keys/a', seed: 1 }));
    lone.commitRollout(storedRollout({ id: 'ro_silent' as RolloutId, runId, taskId: 'keys/b', seed: 2 }));
    const [sft] = TARGETS.sft;
    const summary = await exportRun({ store: lone, runId, target: sft!, format: 'jsonl', output: null, stdout: () => {} });
    assert.equal(summary.rows, 1);
    assert.equal(summary.rollouts.exported, 1);
    assert.deepEqual(skipped(summary), { no_training_calls: 1 });
    assert.match(summary.rollouts.skipped.no_training_calls?.examples[0] ?? '', /ro_silent \(keys\/b #0\): no policy call/);
    assert.deepEqual(summary.warnings, [], 'one-rollout groups do not matter to SFT rows');
    assert.doesNotMatch(renderSummary(summary), /template drift/);
  });

  it('names the run it cannot find', async () => {
    await assert.rejects(exportRun({ store, runId: 'run_nope', target: verl!, format: 'jsonl', output: null, stdout: () => {} }), /RUN: no run "run_nope"/);
  });
});
