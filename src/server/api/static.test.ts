// The web app's files as `gauntlet serve` hands them out. The app routes in the URL hash and loads
// its assets relative to the page, so a page path typed or pasted as a path must reach the app's
// route for it rather than a shell whose assets then 404 into a blank page.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Hono } from 'hono';
import type { Store } from '../../core/index.ts';
import { openStore } from '../../store/index.ts';
import { createApiApp } from './app.ts';

describe('the web app served beside the API', () => {
  let dir: string;
  let store: Store;
  let app: Hono;
  const request = (path: string, init: RequestInit = {}) => app.fetch(new Request(`http://127.0.0.1:8080${path}`, { redirect: 'manual', ...init }));

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'gauntlet-api-static-'));
    mkdirSync(join(dir, 'web', 'assets'), { recursive: true });
    writeFileSync(join(dir, 'web', 'index.html'), '<!doctype html><title>Gauntlet</title><script type="module" src="./assets/app.js"></script>');
    writeFileSync(join(dir, 'web', 'assets', 'app.js'), 'export {};');
    store = openStore(':memory:');
    app = createApiApp({ store, token: undefined, webRoot: join(dir, 'web'), reportsDir: join(dir, 'reports'), tasksDir: join(dir, 'tasks'), sandbox: 'virtual', now: () => new Date() });
  });
  after(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the page at / and its hashed assets as immutable', async () => {
    const page = await request('/');
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<title>Gauntlet<\/title>/);
    assert.equal(page.headers.get('cache-control'), 'no-cache');
    const asset = await request('/assets/app.js');
    assert.equal(asset.status, 200);
    assert.match(asset.headers.get('cache-control') ?? '', /immutable/);
  });

  it('sends a page path to the app route of the same name, keeping its encoding and query', async () => {
    for (const [path, location] of [
      ['/runs/run_1', '/#/runs/run_1'],
      ['/rollouts/a%2Fb', '/#/rollouts/a%2Fb'],
      ['/runs?token=t0k', '/?token=t0k#/runs'],
      ['/queues/q%20one/', '/#/queues/q%20one/'],
    ] as const) {
      const response = await request(path);
      assert.equal(response.status, 302, path);
      assert.equal(response.headers.get('location'), location, path);
    }
  });

  it('never redirects off the server, however the path starts', async () => {
    for (const path of ['//evil/x', '/%2F%2Fevil', '/\\evil', '/%5Cevil']) {
      const response = await request(path);
      assert.equal(response.status, 302, path);
      const location = response.headers.get('location') ?? '';
      assert.ok(location.startsWith('/#') || location.startsWith('/?'), `${path} -> ${location}`);
    }
  });

  it('answers a missing file (a path with an extension) with a 404, not a redirect', async () => {
    const response = await request('/assets/missing.js');
    assert.equal(response.status, 404);
    assert.match(await response.text(), /^not found: \/assets\/missing\.js/);
  });
});
