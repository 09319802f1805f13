// GET /api/runs summarises each run from the store's counts, not from the list of its rows: the
// same headline to the byte, without a huge run's rows holding up every other request.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Store } from '../../core/index.ts';
import { writeLargeRun } from '../../review/fixtures.ts';
import { runHeadline } from '../../review/index.ts';
import { openStore, type SqliteStore } from '../../store/index.ts';
import { writeVariedRun } from '../../store/test-support.ts';
import { createApiApp } from './app.ts';

/** A store holding the varied run (damaged rewards, retries, gateway rollouts …) and a plain large one. */
function twoRuns(): SqliteStore {
  const path = join(mkdtempSync(join(tmpdir(), 'gauntlet-api-counts-')), 'store.db');
  writeVariedRun(path);
  const store = openStore(path, { warn: () => {} });
  writeLargeRun(store, { runId: 'run_large', tasks: 3, epochs: 7, now: new Date('2026-02-01T00:00:00Z') });
  return store;
}

function app(store: Store) {
  return createApiApp({ store, token: undefined, webRoot: '/nonexistent', reportsDir: '/nonexistent', tasksDir: '/nonexistent', sandbox: 'virtual', now: () => new Date() });
}

async function get(store: Store, path: string): Promise<{ status: number; text: string }> {
  const response = await app(store).fetch(new Request(`http://127.0.0.1:8080${path}`));
  return { status: response.status, text: await response.text() };
}

describe('GET /api/runs from the store’s counts', () => {
  it('answers each run’s headline byte for byte as it was made from the run’s rows', async () => {
    const store = twoRuns();
    try {
      const headlines = store.listRuns(100).map((run) => runHeadline(run, store.rolloutSummaries(run.id)));
      assert.equal(headlines.length, 2);
      const { status, text } = await get(store, '/api/runs');
      assert.equal(status, 200, text);
      assert.equal(JSON.stringify((JSON.parse(text) as { items: unknown }).items), JSON.stringify(headlines));
      // Filtered on the same mean score.
      const minimum = Math.min(...headlines.map((h) => h.summary.meanScore!));
      const above = (await get(store, `/api/runs?minScore=${minimum + 1e-9}`)).text;
      assert.deepEqual((JSON.parse(above) as { items: { id: string }[] }).items.map((h) => h.id), headlines.filter((h) => h.summary.meanScore! > minimum).map((h) => h.id));
    } finally {
      store.close();
    }
  });

  it('does not read the rows of the runs it lists', async () => {
    const store = twoRuns();
    const rowsRead: string[] = [];
    const counting = Object.assign(Object.create(store) as SqliteStore, {
      rolloutSummaries: (runId: string) => {
        rowsRead.push(runId);
        throw new Error(`the rows of ${runId} were read`);
      },
    });
    try {
      for (const path of ['/api/runs', '/api/runs?minScore=0.1&maxScore=0.9', '/api/runs?limit=1']) {
        const { status, text } = await get(counting, path);
        assert.equal(status, 200, `${path}: ${text}`);
      }
      assert.deepEqual(rowsRead, []);
    } finally {
      store.close();
    }
  });
});
