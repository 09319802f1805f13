import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parquetMetadata, parquetReadObjects, parquetSchema as readSchema } from 'hyparquet';
import { openStore } from '../../store/index.ts';
import { exportRun } from './export.ts';
import { ParquetRowWriter, parquetSchema, pq } from './parquet.ts';
import { resolveTarget } from './targets/index.ts';
import { EXPORT_RUN, seedExportRun } from './testing.ts';
import type { ExportTarget, TargetName } from './unit.ts';

type Row = Record<string, unknown>;
const store = openStore(':memory:');
seedExportRun(store);

async function firstRow(target: ExportTarget): Promise<Row> {
  let out = '';
  await exportRun({ store, runId: EXPORT_RUN, target, format: 'jsonl', output: null, stdout: (t) => void (out += t), assumedTemperature: 1, assumedPolicyVersion: 0 });
  return JSON.parse(out.split('\n')[0] as string) as Row;
}

/** A valid row with one change must fail the target's schema, naming the field. */
const broken: [TargetName, string, string, (row: Row) => void, RegExp][] = [
  ['verl', 'agent-loop', 'a mask value of 2', (r) => ((r.response_mask as number[])[0] = 2), /response_mask\.0/],
  ['verl', 'agent-loop', 'more logprobs than response tokens', (r) => (r.response_logprobs as number[]).push(-1), /response_logprobs: has/],
  ['verl', 'agent-loop', 'a positive logprob', (r) => ((r.response_logprobs as number[])[0] = 0.25), /response_logprobs\.0/],
  ['verl', 'agent-loop', 'an empty prompt', (r) => (r.prompt_ids = []), /prompt_ids: is empty/],
  ['verl', 'agent-loop', 'a column it does not define', (r) => (r.extra = 1), /Unrecognized key/],
  ['skyrl', 'trajectory', 'a reward before the last token', (r) => ((r.rewards as number[])[0] = 1), /rewards\.0: a reward may only sit on the last token/],
  ['skyrl', 'trajectory', 'an empty trajectory id', (r) => (r.trajectory_ids = { instance_id: '', repetition_id: 0 }), /trajectory_ids\.instance_id/],
  ['trl', 'rollout-func', 'logprobs on env tokens', (r) => (r.logprobs as number[]).fill(-0.5), /logprobs\.\d+: is -0\.5 on a token the mask leaves out/],
  ['trl', 'async', 'a mask shorter than the sequence', (r) => (r.completion_mask as number[]).pop(), /completion_mask: has/],
  ['prime-rl', 'training-sample', 'an advantage on a context token', (r) => ((r.advantages as number[])[0] = 0.5), /advantages\.0: is 0\.5 on a token the mask leaves out/],
  ['prime-rl', 'training-sample', 'a negative temperature', (r) => ((r.temperatures as number[])[0] = -1), /temperatures\.0/],
  // prime-rl divides each token's logits by its temperature.
  ['prime-rl', 'training-sample', 'a temperature of 0', (r) => ((r.temperatures as number[])[0] = 0), /temperatures\.0: Too small/],
  // TRL subtracts it from its own step to drop stale samples.
  ['trl', 'async', 'no model version', (r) => (r.model_version = null), /model_version/],
  ['prime-rl', 'legacy', 'a prompt mask that is not all 0', (r) => ((r.tokens as { prompt_mask: number[] }).prompt_mask[0] = 1), /tokens\.prompt_mask: must be all 0/],
  ['generic', 'segments', 'call spans that do not tile the sequence', (r) => ((r.calls as { start: number }[])[0]!.start = 1), /calls\.0: span \[1,/],
  ['generic', 'segments', 'a mask that disagrees with the spans', (r) => ((r.loss_mask as number[])[0] = 1), /loss_mask\.0: disagrees with call 0's span/],
  ['sft', 'messages', 'a conversation of one message', (r) => (r.messages = (r.messages as Row[]).slice(0, 1)), /messages: Too small/],
];

describe('row schemas', () => {
  for (const [name, variant, what, change, expected] of broken) {
    it(`${name} ${variant} rejects ${what}`, async () => {
      const target = resolveTarget(name, variant);
      const row = await firstRow(target);
      assert.ok(target.schema.safeParse(row).success, 'the unchanged row is valid');
      change(row);
      const result = target.schema.safeParse(row);
      assert.equal(result.success, false);
      const text = result.success ? '' : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');
      assert.match(text, expected);
    });
  }

  it('resolves variants and refuses unknown ones', () => {
    assert.equal(resolveTarget('skyrl').variant, 'trajectory');
    assert.equal(resolveTarget('trl', 'async').variant, 'async');
    assert.throws(() => resolveTarget('verl', 'step-wise'), /--variant: "step-wise" is not a variant of verl \(expected one of agent-loop\)/);
  });
});

describe('Parquet writer', () => {
  const columns = { ids: pq.list(pq.int()), meta: pq.nullable(pq.struct({ name: pq.string(), args: pq.json() })), ok: pq.bool() };

  it('writes three-level lists and structs that a reader sees as the same schema', () => {
    const elements = parquetSchema(columns);
    assert.deepEqual(
      elements.map((e) => [e.name, e.repetition_type ?? null, e.converted_type ?? null]),
      [
        ['root', null, null],
        ['ids', 'REQUIRED', 'LIST'],
        ['list', 'REPEATED', null],
        ['element', 'REQUIRED', null],
        ['meta', 'OPTIONAL', null],
        ['name', 'REQUIRED', 'UTF8'],
        ['args', 'REQUIRED', 'JSON'],
        ['ok', 'REQUIRED', null],
      ],
    );
  });

  it('round-trips rows across several row groups, and an empty file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gauntlet-parquet-'));
    const rows = Array.from({ length: 7 }, (_, i) => ({ ids: Array.from({ length: i }, (_, k) => k * 1000), meta: i % 2 ? null : { name: `n${i}`, args: { i, nested: [i, 'x'] } }, ok: i > 3 }));
    const writer = await ParquetRowWriter.open({ path: join(dir, 'a.parquet'), columns, rowGroupRows: 3 });
    for (const row of rows) writer.write(row);
    writer.close();
    const file = readFileSync(join(dir, 'a.parquet'));
    const buffer = file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength);
    assert.equal(parquetMetadata(buffer).row_groups.length, 3);
    assert.deepEqual(await parquetReadObjects({ file: buffer }), rows);
    assert.deepEqual(readSchema(parquetMetadata(buffer)).children.map((c) => c.element.name), ['ids', 'meta', 'ok']);

    // A group also closes when its lists hold enough values, however few the rows.
    const heavy = await ParquetRowWriter.open({ path: join(dir, 'heavy.parquet'), columns, rowGroupValues: 10 });
    for (const row of rows) heavy.write(row);
    heavy.close();
    const heavyFile = readFileSync(join(dir, 'heavy.parquet'));
    const heavyBuffer = heavyFile.buffer.slice(heavyFile.byteOffset, heavyFile.byteOffset + heavyFile.byteLength);
    assert.equal(parquetMetadata(heavyBuffer).row_groups.length, 3, 'rows of 0+1+…+6 ids close a group at ≥ 10 values');
    assert.deepEqual(await parquetReadObjects({ file: heavyBuffer }), rows);

    const empty = await ParquetRowWriter.open({ path: join(dir, 'empty.parquet'), columns });
    empty.close();
    const bytes = readFileSync(join(dir, 'empty.parquet'));
    assert.deepEqual(await parquetReadObjects({ file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) }), []);
  });

  it('refuses a row that lacks a column', async () => {
    const writer = await ParquetRowWriter.open({ path: join(mkdtempSync(join(tmpdir(), 'gauntlet-parquet-')), 'b.parquet'), columns });
    assert.throws(() => writer.write({ ids: [] }), /Parquet row 0 has no column "meta"/);
  });

  it('refuses a value that does not fit its column, naming the row and the field', async () => {
    const writer = await ParquetRowWriter.open({ path: join(mkdtempSync(join(tmpdir(), 'gauntlet-parquet-')), 'c.parquet'), columns: { ...columns, seed: pq.int64() } });
    writer.write({ ids: [1], meta: null, ok: true, seed: 2 ** 32 - 1 });
    const misfits: [Row, RegExp][] = [
      [{ ids: [1, 2 ** 31], meta: null, ok: true, seed: 0 }, /Parquet row 1 \(s7\): field "ids\.1" holds 2147483648, which does not fit its Parquet column: expected int32/],
      [{ ids: [], meta: { name: 5, args: {} }, ok: true, seed: 0 }, /Parquet row 1 \(s7\): field "meta\.name" holds 5, .*expected string/],
      [{ ids: [], meta: null, ok: null, seed: 0 }, /Parquet row 1 \(s7\): field "ok" holds null, .*expected a value \(the column is not nullable\)/],
      [{ ids: [], meta: null, ok: true, seed: 2 ** 53 }, /Parquet row 1 \(s7\): field "seed" holds 9007199254740992, .*expected int64/],
    ];
    for (const [row, message] of misfits) assert.throws(() => writer.write(row, 's7'), message);
    writer.close();
  });
});
