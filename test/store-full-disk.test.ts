// A disk that fills while many rollouts are in flight (their writes on the store's writer thread):
// the run stops as `interrupted` with what it stored counted, and --resume finishes the rest, each
// rollout stored exactly once.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { RunConfig } from '../src/core/index.ts';
import { executeRun, selectTasks } from '../src/runner/index.ts';
import { openStore } from '../src/store/index.ts';
import { counterCatalog } from './support/counter-env.ts';
import { goldenModel } from './support/models.ts';

describe('a full disk mid-run', () => {
  it('stops the run as interrupted with a summary, and --resume stores every rollout exactly once', { timeout: 120_000 }, async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'gauntlet-full-')), 'g.db');
    // 40 epochs × 3 tasks: enough rollouts for the writes to move to the writer thread.
    const config = RunConfig.parse({ envs: ['counter'], model: 'test:golden', epochs: 40, concurrency: 8, seed: 4 });
    const full = openStore(path, { maxPageCount: 200 });
    const summary = await executeRun({ store: full, run: { resolved: { config, tasks: selectTasks(config, counterCatalog) } }, model: goldenModel, catalog: counterCatalog });
    full.close();
    assert.equal(summary.status, 'interrupted');
    assert.match(summary.failure ?? '', /full/);
    assert.ok(summary.rollouts > 0 && summary.missing > 0, JSON.stringify({ rollouts: summary.rollouts, missing: summary.missing }));
    assert.equal(summary.rollouts + summary.missing, 120);

    const roomy = openStore(path);
    const resumed = await executeRun({ store: roomy, run: { resume: summary.runId }, model: goldenModel, catalog: counterCatalog });
    roomy.close();
    assert.equal(resumed.status, 'finished');
    assert.equal(resumed.rollouts, 120);
    assert.equal(resumed.missing, 0);
    const db = new Database(path, { readonly: true });
    try {
      // Exactly once: one row per (task, epoch), and each stored rollout's attempt has its two tool calls once.
      assert.equal((db.prepare('SELECT COUNT(DISTINCT task_id || epoch) AS n FROM rollouts').get() as { n: number }).n, 120);
      const calls = db.prepare(`SELECT r.id AS id, COUNT(e.seq) AS n FROM rollouts r LEFT JOIN events e ON e.rollout_id = r.id AND e.attempt = json_extract(r.json, '$.attempt') AND e.type = 'tool_call' GROUP BY r.id`).all() as { id: string; n: number }[];
      assert.deepEqual(calls.filter((c) => c.n !== 2), []);
    } finally {
      db.close();
    }
  });
});
