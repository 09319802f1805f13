import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { InputError } from '../../core/index.ts';
import { pairFiles } from './input.ts';
import type { ComparedSequence } from './metrics.ts';
import { compareFiles } from './report.ts';

const dir = mkdtempSync(join(tmpdir(), 'gauntlet-precision-'));
let counter = 0;

/** Writes a JSONL file; objects are serialised, strings written as they are (for broken lines). */
function jsonl(lines: (object | string)[]): string {
  const file = join(dir, `f${counter++}.jsonl`);
  writeFileSync(file, lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n');
  return file;
}

async function collect(files: { inference: string; trainer: string }) {
  const sequences: ComparedSequence[] = [];
  const summary = await pairFiles(files, (s) => sequences.push(s));
  return { summary, sequences };
}

/** Asserts an InputError whose message matches every pattern. */
async function rejectsWith(promise: Promise<unknown>, ...patterns: RegExp[]) {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof InputError, `expected an InputError, got ${String(error)}`);
    for (const pattern of patterns) assert.match(error.message, pattern);
    return true;
  });
}

const seq = (id: string, tokenIds: number[], logprobs: (number | null)[], mask?: number[]) => ({ id, tokenIds, logprobs, ...(mask ? { mask } : {}) });

describe('precision input files', () => {
  it('matches lines by id in any order and compares where both masks are 1', async () => {
    const inference = jsonl([seq('a', [1, 2, 3], [0, -0.5, -1], [0, 1, 1]), seq('b', [4, 5], [-0.1, -0.2])]);
    const trainer = jsonl([{ id: 'b', token_ids: [4, 5], logprobs: [-0.1, -0.25] }, seq('a', [1, 2, 3], [null, -0.4, -1.2], [0, 1, 0])]);
    const { summary, sequences } = await collect({ inference, trainer });
    assert.equal(summary.matched, 2);
    assert.equal(summary.maskDisagreements, 1, 'position 2 of a is masked in the trainer file only');
    const a = sequences.find((s) => s.id === 'a')!;
    assert.deepEqual(Array.from(a.compare), [0, 1, 0]);
    assert.deepEqual(Array.from(sequences.find((s) => s.id === 'b')!.compare), [1, 1], 'no mask: every position');
    assert.equal(a.trainer[1], -0.4);
  });

  it('counts and names ids found in one file only instead of dropping them silently', async () => {
    const inference = jsonl([seq('a', [1], [-1]), seq('only-inf', [1], [-1]), seq(7 as unknown as string, [1], [-1])]);
    const trainer = jsonl([seq('a', [1], [-1]), seq('7', [1], [-1]), seq('only-trn-1', [1], [-1]), seq('only-trn-2', [2], [-1])]);
    const { summary } = await collect({ inference, trainer });
    assert.equal(summary.matched, 2, 'a numeric id matches its string form');
    assert.deepEqual(summary.onlyInInference, { count: 1, ids: ['only-inf'] });
    assert.deepEqual(summary.onlyInTrainer, { count: 2, ids: ['only-trn-1', 'only-trn-2'] });
  });

  it('stops at the first differing token id and says the trainer re-tokenised', async () => {
    const inference = jsonl([seq('x', [1, 2], [-1, -1]), seq('a', [10, 11, 12, 13], [-1, -1, -1, -1])]);
    const trainer = jsonl(['', seq('a', [10, 11, 99, 13], [-1, -1, -1, -1])]);
    await rejectsWith(collect({ inference, trainer }), new RegExp(`${trainer}:2: `), /"a"/, /position 2 \(99 here, 12 in .*f\d+\.jsonl:2\)/, /re-tokenised/);
    const shorter = jsonl([seq('a', [10, 11, 12], [-1, -1, -1])]);
    await rejectsWith(collect({ inference, trainer: shorter }), new RegExp(`${shorter}:1`), /in length \(3 here, 4 in/, /agree up to position 3/);
  });

  it('names file and line for a line that is not JSON', async () => {
    const trainer = jsonl([seq('a', [1], [-1]), '{"id": "b", "tokenIds": [1', seq('c', [1], [-1])]);
    await rejectsWith(collect({ inference: jsonl([seq('a', [1], [-1])]), trainer }), new RegExp(`${trainer}:2: not valid JSON`), /one JSON object per line/);
  });

  it('rejects NaN, infinite and positive logprobs naming file, line and position', async () => {
    const cases: [string, RegExp][] = [
      ['{"id": "a", "tokenIds": [1, 2, 3], "logprobs": [-0.1, -0.2, NaN]}', /logprobs\[2\]: NaN/],
      ['{"id": "a", "tokenIds": [1, 2], "logprobs": [Infinity, -0.2]}', /logprobs\[0\]: \+Infinity/],
      ['{"id": "a", "tokenIds": [1, 2], "logprobs": [-0.1, -Infinity]}', /logprobs\[1\]: -Infinity/],
      ['{"id": "a", "tokenIds": [1, 2], "logprobs": [-0.1, -1e999]}', /logprobs\[1\]: -Infinity/],
      ['{"id": "a", "tokenIds": [1, 2], "logprobs": [0.25, -0.1]}', /logprobs\[0\]: positive \(0\.25\)/],
      ['{"id": "a", "tokenIds": [1, 2], "logprobs": ["NaN", -0.1]}', /logprobs\[0\]: the string "NaN"/],
    ];
    for (const [line, pattern] of cases) {
      const inference = jsonl([seq('z', [1], [-1]), line]);
      await rejectsWith(collect({ inference, trainer: jsonl([seq('a', [1, 2], [-1, -1])]) }), new RegExp(`${inference}:2: logprobs`), pattern, /expected a finite logprob ≤ 0/);
    }
  });

  it('refuses a stand-in for −Infinity or a ratio too large for KL at a compared position, naming file, line and position', async () => {
    const inference = jsonl([seq('a', [1, 2, 3], [-0.5, -9999, -1]), seq('b', [1, 2], [-650, -1])]);
    const trainer = jsonl([seq('b', [1, 2], [-3, -1]), seq('a', [1, 2, 3], [-0.5, -2, -1])]);
    // Otherwise k3 came out Infinity, written as null by --json (where null means "nothing compared").
    await rejectsWith(compareFiles({ inference, trainer: jsonl([seq('a', [1, 2, 3], [-0.5, -2, -1])]) }), new RegExp(`${dir}/f\\d+\\.jsonl:1, position 1: the inference logprob -9999 is below -744\\.44`), /stand-in for −Infinity/, new RegExp(`${inference}:1`));
    await rejectsWith(compareFiles({ inference, trainer }), new RegExp(`${trainer}:1, position 0: trainer − inference = 647`), /beyond e\^600/);
    const masked = jsonl([seq('a', [1, 2, 3], [-0.5, -9999, -1], [1, 0, 1])]);
    const report = await compareFiles({ inference: masked, trainer: jsonl([seq('a', [1, 2, 3], [-0.5, -2, -1])]) });
    assert.equal(report.stats.tokens, 2, 'a stand-in where nothing is compared is left alone');
  });

  it('accepts −Infinity and NaN where the line masks the position out, as it accepts −9999 there, and refuses them where compared', async () => {
    // A trainer's log-softmax gives the first prompt token −∞ (it has no context); Python writes it as -Infinity.
    const inference = jsonl([seq('a', [1, 2, 3], [0, -0.5, -1], [0, 1, 1])]);
    const trainer = jsonl(['{"id": "a", "tokenIds": [1, 2, 3], "logprobs": [-Infinity, -0.4, -1.1], "mask": [0, 1, 1]}', '{"id": "b", "tokenIds": [4, 5], "logprobs": [NaN, -1e999], "mask": [0, 0]}']);
    const report = await compareFiles({ inference, trainer });
    assert.equal(report.stats.tokens, 2);
    for (const figure of [report.stats.meanAbsDelta, report.stats.maxAbsDelta, report.stats.k1, report.stats.k3]) assert.ok(Number.isFinite(figure));
    assert.deepEqual(report.stats.worst.map((w) => w.position).sort(), [1, 2], 'the masked −Infinity is not among the compared tokens');
    const compared = jsonl(['{"id": "a", "tokenIds": [1, 2, 3], "logprobs": [-0.1, -Infinity, -1.1], "mask": [0, 1, 1]}']);
    await rejectsWith(compareFiles({ inference, trainer: compared }), new RegExp(`${compared}:1: logprobs\\[1\\]: -Infinity at a compared position`), /or mask 0 there/);
  });

  it('keeps the words NaN and Infinity inside strings as they are', async () => {
    const inference = jsonl(['{"id": "NaN Infinity \\"NaN\\"", "tokenIds": [1], "logprobs": [-0.5]}']);
    const trainer = jsonl(['{"id": "NaN Infinity \\"NaN\\"", "tokenIds": [1], "logprobs": [-0.5]}']);
    assert.equal((await collect({ inference, trainer })).summary.matched, 1);
  });

  it('checks lengths, masks, ids and nulls line by line', async () => {
    const trainer = jsonl([seq('t', [1], [-1])]);
    const cases: [object, RegExp][] = [
      [seq('a', [1, 2], [-1]), /logprobs: has 1 entries for 2 token ids/],
      [seq('a', [1, 2], [-1, -1], [1]), /mask: has 1 entries for 2 token ids/],
      [{ id: 'a', logprobs: [-1] }, /tokenIds: missing \(expected tokenIds or token_ids/],
      [{ id: 'a', tokenIds: [1], token_ids: [1], logprobs: [-1] }, /both tokenIds and token_ids/],
      [seq('a', [1, -2], [-1, -1]), /tokenIds\[1\]/],
      [seq('a', [1, 2], [null, -1]), /logprobs\[0\]: null at a compared position/],
      [seq('', [1], [-1]), /id/],
    ];
    for (const [line, pattern] of cases) {
      const inference = jsonl([line]);
      await rejectsWith(collect({ inference, trainer }), new RegExp(`${inference}:1: `), pattern);
    }
    const nullMasked = jsonl([seq('a', [1, 2], [null, -1], [0, 1])]);
    assert.equal((await collect({ inference: nullMasked, trainer: jsonl([seq('a', [1, 2], [0, -1])]) })).summary.matched, 1, 'null is fine where mask is 0');
    const booleans = jsonl([{ id: 'a', tokenIds: [1, 2], logprobs: [0, -1], mask: [false, true] }]);
    assert.deepEqual(Array.from((await collect({ inference: booleans, trainer: booleans })).sequences[0]!.compare), [0, 1]);
  });

  it('refuses a key it does not know, naming it and the keys it expects, instead of dropping it', async () => {
    const trainer = jsonl([seq('a', [1], [-1])]);
    const cases: [object, RegExp][] = [
      [{ id: 'a', tokenIds: [1, 2], logprobs: [0, -1], msk: [0, 1] }, /\(line\): unknown key "msk" \(expected id, tokenIds \(or token_ids\), logprobs and optionally mask; or a row of `gauntlet export --for generic` \(sample_id, token_ids, logprobs, loss_mask\)\)/],
      // A generic export's fields are known only on one of its rows, which says so by its schema_version.
      [{ id: 'a', tokenIds: [1], logprobs: [-1], reward: 1 }, /unknown key "reward"/],
      [{ schema_version: 7, sample_id: 'a', token_ids: [1], logprobs: [-1], loss_mask: [1] }, /schema_version: got 7 \(expected 1, the generic export this Gauntlet writes\)/],
      [{ id: 'a', tokenIds: [1], logprobs: [-1], mask: [1], loss_mask: [1] }, /loss_mask: both mask and loss_mask are given/],
      [{ id: 'a', sample_id: 'a', tokenIds: [1], logprobs: [-1] }, /sample_id: both id and sample_id are given/],
      [{ tokenIds: [1], logprobs: [-1] }, /id: missing \(expected id, or sample_id/],
      [{ id: 'a', tokenIds: [1], logprobs: null }, /logprobs: null \(expected one logprob per token id\)/],
    ];
    for (const [line, pattern] of cases) {
      const inference = jsonl([line]);
      await rejectsWith(collect({ inference, trainer }), new RegExp(`${inference}:1: `), pattern);
    }
  });

  it('reads rows of the generic export: sample_id pairs them, loss_mask keeps prompt tokens out, other fields are ignored', async () => {
    const row = (sampleId: string, logprobs: number[] | null) => ({
      schema_version: 1,
      run_id: 'run_x',
      task_id: 'keys/a',
      sample_id: sampleId,
      token_ids: [7, 8, 9, 10],
      loss_mask: [0, 0, 1, 1],
      logprobs,
      prompt_length: 2,
      reward: 1,
      advantage: 0.5,
    });
    const inference = jsonl([row('ro_1/s0', [0, 0, -0.5, -1]), row('ro_2/s0', null)]);
    // The trainer scored the prompt tokens too, far from the export's zeros: they must not be compared.
    const trainer = jsonl([seq('ro_1/s0', [7, 8, 9, 10], [-6, -4, -0.5, -1.25]), seq('ro_2/s0', [7, 8, 9, 10], [-6, -4, -0.5, -1])]);
    const report = await compareFiles({ inference, trainer });
    assert.equal(report.inputs.matched, 2);
    assert.equal(report.stats.tokens, 2, 'only the sampled tokens of the row with logprobs');
    assert.equal(report.stats.maxAbsDelta, 0.25);
    assert.deepEqual(report.inputs.withoutLogprobs, { count: 1, ids: ['ro_2/s0'] }, 'the row without logprobs is named, not dropped');
  });

  it('rejects a sequence id used twice in one file', async () => {
    const inference = jsonl([seq('a', [1], [-1]), seq('b', [1], [-1]), seq('a', [1], [-1])]);
    await rejectsWith(collect({ inference, trainer: jsonl([]) }), new RegExp(`${inference}:3: the id "a" was already used on line 1`));
  });

  it('names a file that cannot be read', async () => {
    await rejectsWith(collect({ inference: join(dir, 'missing.jsonl'), trainer: jsonl([]) }), /missing\.jsonl: cannot read the file/);
  });

  it('refuses to report on files with no sequence in common or nothing to compare', async () => {
    await rejectsWith(compareFiles({ inference: jsonl([seq('a', [1], [-1])]), trainer: jsonl([seq('b', [1], [-1])]) }), /no sequence id in common/, /1 ids there, 1 here/);
    const masked = jsonl([seq('a', [1], [-1], [0])]);
    await rejectsWith(compareFiles({ inference: masked, trainer: masked }), /no position that both files mark as compared/);
  });

  it('reports figures from the files, streaming the trainer file against the inference one', async () => {
    const inference = jsonl([seq('a', [5, 6, 7, 8], [0, Math.log(0.5), Math.log(0.25), Math.log(0.8)], [0, 1, 1, 1])]);
    const trainer = jsonl([seq('a', [5, 6, 7, 8], [0, Math.log(0.25), Math.log(0.25), Math.log(0.9)], [0, 1, 1, 1])]);
    const report = await compareFiles({ inference, trainer });
    assert.equal(report.stats.tokens, 3);
    assert.ok(Math.abs((report.stats.meanAbsDelta ?? 0) - (Math.log(2) + Math.log(1.125)) / 3) < 1e-12);
    assert.deepEqual(report.stats.worst[0]?.before, [5]);
  });
});
