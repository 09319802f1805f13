// What every answer of `gauntlet serve` tells the browser: the viewer shows text a model wrote, so
// the page, the API and even the error replies carry a policy that runs no script but the app's
// own, reaches no other host, cannot be framed, and is never sniffed into another type.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Hono } from 'hono';
import { openStore } from '../../store/index.ts';
import type { Store } from '../../core/index.ts';
import { createApiApp } from './app.ts';

describe('security headers of the review API and web app', () => {
  let dir: string;
  let store: Store;
  let app: Hono;
  let tokenApp: Hono;
  const request = (target: Hono, path: string, init: RequestInit = {}) => target.fetch(new Request(`http://127.0.0.1:8080${path}`, init));

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'gauntlet-api-headers-'));
    mkdirSync(join(dir, 'web', 'assets'), { recursive: true });
    writeFileSync(join(dir, 'web', 'index.html'), '<!doctype html><title>Gauntlet</title><script type="module" src="./assets/app.js"></script>');
    writeFileSync(join(dir, 'web', 'assets', 'app.js'), 'export {};');
    writeFileSync(join(dir, 'web', 'assets', 'app.css'), 'body {}');
    writeFileSync(join(dir, 'web', 'notes.unknownext'), '<script>alert(1)</script>');
    store = openStore(':memory:');
    const options = { store, webRoot: join(dir, 'web'), reportsDir: join(dir, 'reports'), tasksDir: join(dir, 'tasks'), sandbox: 'virtual' as const, now: () => new Date() };
    app = createApiApp({ ...options, token: undefined });
    tokenApp = createApiApp({ ...options, token: 'open-sesame' });
  });
  after(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const assertLocked = (response: Response, what: string) => {
    const csp = response.headers.get('content-security-policy') ?? '';
    const directives = new Map(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name, values.join(' ')]));
    assert.equal(directives.get('default-src'), "'none'", `${what}: default-src in ${JSON.stringify(csp)}`);
    assert.equal(directives.get('script-src'), "'self'", `${what}: script-src (no inline script, no eval)`);
    assert.equal(directives.get('connect-src'), "'self'", `${what}: connect-src`);
    assert.equal(directives.get('frame-ancestors'), "'none'", `${what}: frame-ancestors`);
    assert.equal(directives.get('base-uri'), "'none'", `${what}: base-uri`);
    assert.equal(response.headers.get('x-content-type-options'), 'nosniff', what);
    assert.equal(response.headers.get('referrer-policy'), 'no-referrer', what);
    assert.equal(response.headers.get('x-frame-options'), 'DENY', what);
  };

  it('sends the policy with the page shell, its assets and any page path', async () => {
    for (const path of ['/', '/index.html', '/assets/app.js', '/assets/app.css', '/some/page']) assertLocked(await request(app, path), path);
  });

  it('sends the policy with API answers and API errors of every kind', async () => {
    assertLocked(await request(app, '/api/runs'), 'GET /api/runs');
    assertLocked(await request(app, '/api/runs/nope'), '404 from a route');
    assertLocked(await request(app, '/api/nothing-here'), 'unknown API path');
    assertLocked(await request(app, '/api/runs?limit=0'), '400 on a bad query');
    assertLocked(await request(app, '/api/labels/verdict', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' }), '400 on a bad body');
    assertLocked(await request(tokenApp, '/api/runs'), '401 without the token');
    assertLocked(await request(app, '/missing.js'), 'missing static file');
  });

  it('allows only what the app uses: no data: images, no fonts, no native form submission', async () => {
    const csp = (await request(app, '/')).headers.get('content-security-policy') ?? '';
    const directives = new Map(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name, values.join(' ')]));
    assert.equal(directives.get('img-src'), "'self'", 'the favicon request, nothing else');
    assert.equal(directives.get('style-src'), "'self'");
    assert.equal(directives.has('font-src'), false, 'no fonts: default-src none refuses them');
    assert.equal(directives.get('form-action'), "'none'", 'every form is handled in script');
    assert.deepEqual([...directives.keys()].sort(), ['base-uri', 'connect-src', 'default-src', 'form-action', 'frame-ancestors', 'img-src', 'script-src', 'style-src']);
  });

  it('keeps no API answer in the browser cache, errors and label exports included', async () => {
    for (const [target, path] of [[app, '/api/runs'], [app, '/api/runs/nope'], [app, '/api/store'], [app, '/api/exports/labels?format=kto'], [app, '/api/runs?limit=0']] as const) {
      const response = await request(target, path);
      assert.equal(response.headers.get('cache-control'), 'no-store', path);
    }
  });

  it('labels API answers as JSON and static files by their type, so nothing is read as HTML', async () => {
    assert.match((await request(app, '/api/runs')).headers.get('content-type') ?? '', /^application\/json/);
    assert.match((await request(app, '/api/runs/nope')).headers.get('content-type') ?? '', /^application\/json/);
    assert.match((await request(app, '/assets/app.js')).headers.get('content-type') ?? '', /^text\/javascript/);
    assert.match((await request(app, '/assets/app.css')).headers.get('content-type') ?? '', /^text\/css/);
    const unknown = await request(app, '/notes.unknownext');
    assert.equal(unknown.headers.get('content-type'), 'application/octet-stream');
    assert.equal(unknown.headers.get('x-content-type-options'), 'nosniff');
  });
});
