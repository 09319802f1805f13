import assert from 'node:assert/strict';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { writeLargeRun, writeLongTrajectory } from '../../review/fixtures.ts';
import { openStore } from '../../store/index.ts';
import { cli } from '../../../test/support/cli.ts';
import { parseAge } from './runs-delete.ts';

const DAY = 86_400_000;

/** An old run, a labelled old run and a recent run, in a fresh store file. */
function store(): { path: string; old: string; labelled: string; recent: string } {
  const path = join(mkdtempSync(join(tmpdir(), 'gauntlet-runs-delete-')), 'g.db');
  const s = openStore(path);
  const old = writeLargeRun(s, { runId: 'run_old', tasks: 40, epochs: 5, now: new Date(Date.now() - 40 * DAY) });
  const labelled = writeLargeRun(s, { runId: 'run_labelled', tasks: 2, epochs: 1, now: new Date(Date.now() - 40 * DAY) });
  const rolloutId = s.rollouts(labelled)[0]!.id;
  s.appendReviewLabel({ id: 'lb_1', kind: 'verdict', runId: labelled, rolloutId, otherRolloutId: null, reviewer: 'ana', queueItemId: null, completesItem: false, createdAt: new Date().toISOString(), record: {} });
  writeLongTrajectory(s, { runId: 'run_recent', turns: 3, now: new Date() });
  s.close();
  return { path, old, labelled, recent: 'run_recent' };
}

async function runIds(path: string): Promise<string[]> {
  const listed = await cli(['runs', '--store', path, '--json']);
  assert.equal(listed.code, 0, listed.err);
  return (JSON.parse(listed.out) as { id: string }[]).map((r) => r.id).sort();
}

describe('gauntlet runs delete / prune', () => {
  it('deletes the named runs, reports what went as one JSON document, and the listing no longer shows them', async () => {
    const { path, old, labelled, recent } = store();
    const result = await cli(['runs', 'delete', old, '--store', path, '--json']);
    assert.equal(result.code, 0, result.err);
    const report = JSON.parse(result.out) as { deleted: { runId: string; rollouts: number }[]; kept: unknown[]; dryRun: boolean; space: { after: { freeBytes: number } } };
    assert.deepEqual(report.deleted.map((d) => [d.runId, d.rollouts]), [[old, 200]]);
    assert.equal(report.dryRun, false);
    assert.ok(report.space.after.freeBytes > 0, 'the deleted rows left free pages');
    assert.deepEqual(await runIds(path), [labelled, recent].sort());
  });

  it('refuses an unknown run or a labelled one without --with-labels, naming them, and deletes nothing', async () => {
    const { path, old, labelled } = store();
    const unknown = await cli(['runs', 'delete', old, 'run_nope', '--store', path]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.err, /RUN_ID: no run "run_nope"/);
    const refused = await cli(['runs', 'delete', labelled, '--store', path]);
    assert.equal(refused.code, 2);
    assert.match(refused.err, /1 expert label and 0 review queues.*--with-labels/s);
    assert.equal((await runIds(path)).length, 3);
    const forced = await cli(['runs', 'delete', labelled, '--with-labels', '--store', path]);
    assert.equal(forced.code, 0, forced.err);
    assert.match(forced.out, /deleted run_labelled: 2 rollouts, 0 model calls, 0 events, 1 labels/);
  });

  it('prunes runs older than the age, keeps the labelled one and says why; a dry run deletes nothing', async () => {
    const { path, old, labelled, recent } = store();
    const dry = await cli(['runs', 'prune', '--older-than', '30d', '--dry-run', '--store', path, '--json']);
    assert.equal(dry.code, 0, dry.err);
    const planned = JSON.parse(dry.out) as { deleted: { runId: string; rollouts: number }[]; kept: { runId: string; reason: string }[] };
    assert.deepEqual(planned.deleted.map((d) => [d.runId, d.rollouts]), [[old, 200]]);
    assert.deepEqual(planned.kept.map((k) => [k.runId, k.reason]), [[labelled, 'labelled']]);
    assert.equal((await runIds(path)).length, 3);
    const pruned = await cli(['runs', 'prune', '--older-than', '30d', '--store', path]);
    assert.equal(pruned.code, 0, pruned.err);
    assert.match(pruned.out, /deleted run_old: 200 rollouts/);
    assert.match(pruned.out, /kept run_labelled: 1 expert labels/);
    assert.deepEqual(await runIds(path), [labelled, recent].sort());
    const none = await cli(['runs', 'prune', '--older-than', '2w', '--status', 'finished', '--store', path]);
    assert.match(none.out, /kept run_labelled/);
  });

  it('--vacuum gives the freed space back to the disk', async () => {
    const { path, old } = store();
    const before = statSync(path).size;
    const result = await cli(['runs', 'delete', old, '--vacuum', '--store', path, '--json']);
    assert.equal(result.code, 0, result.err);
    const report = JSON.parse(result.out) as { space: { before: { bytes: number }; after: { bytes: number; freeBytes: number }; vacuumed: boolean } };
    assert.equal(report.space.vacuumed, true);
    assert.ok(report.space.after.bytes < report.space.before.bytes);
    assert.equal(report.space.after.freeBytes, 0);
    assert.ok(statSync(path).size < before);
  });

  it('refuses bad ages and statuses naming the flag, and a store that is not there', async () => {
    const { path } = store();
    for (const age of ['30', '0d', '-1d', '1y', '99999999999999d']) assert.throws(() => parseAge('--older-than', age), /--older-than/);
    assert.equal(parseAge('--older-than', '90m'), 90 * 60_000);
    const status = await cli(['runs', 'prune', '--older-than', '1d', '--status', 'done', '--store', path]);
    assert.equal(status.code, 2);
    assert.match(status.err, /--status: got "done" \(expected one of running, finished, interrupted\)/);
    const missing = await cli(['runs', 'prune', '--older-than', '1d', '--store', join(tmpdir(), 'no-such-store.db')]);
    assert.equal(missing.code, 2);
    assert.match(missing.err, /--store: no store at/);
  });
});
