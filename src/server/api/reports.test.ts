// Report files as the API lists and serves them: files in the reports folder are written by
// whoever can write there, so a malformed one is named with what is wrong, never a crash.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Hono } from 'hono';
import type { Store } from '../../core/index.ts';
import { openStore } from '../../store/index.ts';
import { createApiApp } from './app.ts';

describe('report files served by the API', () => {
  let dir: string;
  let store: Store;
  let app: Hono;
  const request = (path: string) => app.fetch(new Request(`http://127.0.0.1:8080${path}`));

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'gauntlet-api-reports-'));
    mkdirSync(join(dir, 'reports'));
    // Deep enough that serialising it back overflows the stack.
    const depth = 20_000;
    writeFileSync(join(dir, 'reports', 'deep.json'), `{"kind":"gauntlet.eval-report","models":${'['.repeat(depth)}${']'.repeat(depth)}}`);
    store = openStore(':memory:');
    app = createApiApp({ store, token: undefined, webRoot: join(dir, 'web'), reportsDir: join(dir, 'reports'), tasksDir: join(dir, 'tasks'), sandbox: 'virtual', now: () => new Date() });
  });
  after(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a report nested thousands of levels deep with a 422 saying so, not a 500', async () => {
    const response = await request('/api/reports/deep.json');
    const body = (await response.json()) as { error: { message: string; field: string | null } };
    assert.equal(response.status, 422, JSON.stringify(body).slice(0, 300));
    assert.match(body.error.message, /^deep\.json: nests arrays and objects more than 256 levels deep/);
    assert.equal(body.error.field, 'name');
  });

  it('lists it with the same problem', async () => {
    const { items } = (await (await request('/api/reports')).json()) as { items: { name: string; kind: string | null; problem?: string }[] };
    assert.deepEqual(items.map((r) => [r.name, r.kind]), [['deep.json', null]]);
    assert.match(items[0]!.problem ?? '', /more than 256 levels deep/);
  });
});
