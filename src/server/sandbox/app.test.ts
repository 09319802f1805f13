// The server's routes in process (Hono's app.request, no socket), over a sandbox that records what
// it was created with: what a request is refused for, and what limits a sandbox really gets.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Sandbox } from '../../core/index.ts';
import { DEFAULT_LIMITS, SandboxFullError, type SandboxLimits } from '../../sandbox/index.ts';
import { remoteProtocol as P } from '../../sandbox/remote/index.ts';
import { createSandboxApp } from './app.ts';
import { SandboxPool } from './pool.ts';

const MiB = 1024 ** 2;
const headers = { 'content-type': 'application/json', [P.PROTOCOL_HEADER]: String(P.PROTOCOL_VERSION) };

function recordingSandbox(): Sandbox {
  return {
    specificationVersion: 'v1',
    backend: 'virtual',
    workdir: '/work',
    exec: () => Promise.resolve({ exitCode: 0, stdout: '', stderr: '', timedOut: false, truncated: false, durationMs: 0 }),
    readFile: () => Promise.resolve(null),
    writeFile: (path) => Promise.reject(new SandboxFullError(`sandbox writeFile: ${path}: No space left on device`)),
    listFiles: () => Promise.resolve([]),
    close: () => Promise.resolve(),
  };
}

/** An app whose sandboxes record the limits they were created with. */
function appWith(maxLimits: SandboxLimits = {}) {
  const created: SandboxLimits[] = [];
  const app = createSandboxApp({
    pool: new SandboxPool({ ttlMs: 60_000, maxSandboxes: 8, now: Date.now }),
    backend: 'virtual',
    token: undefined,
    maxBodyBytes: MiB,
    maxLimits,
    create: (request) => {
      created.push(request.limits);
      return Promise.resolve(recordingSandbox());
    },
  });
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await app.request(`/v1${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    return { status: response.status, json: (await response.json().catch(() => null)) as unknown, allow: response.headers.get('allow') };
  };
  return { created, call };
}

const errorOf = (json: unknown) => P.ErrorBody.parse(json).error;

describe('sandbox server routes', () => {
  it('gives a sandbox the ceiling where the default is above it, and still refuses an explicit request above it', async () => {
    const { created, call } = appWith({ memoryBytes: 256 * MiB, timeoutMs: 1000 });
    assert.equal((await call('POST', '/sandboxes', {})).status, 201);
    assert.deepEqual(created[0], { memoryBytes: 256 * MiB, timeoutMs: 1000 }, 'defaults above a ceiling become the ceiling');

    assert.equal((await call('POST', '/sandboxes', { limits: { memoryBytes: 128 * MiB } })).status, 201);
    assert.equal(created[1]?.memoryBytes, 128 * MiB, 'a request under the ceiling is kept');

    const over = await call('POST', '/sandboxes', { limits: { memoryBytes: 512 * MiB } });
    assert.equal(over.status, 400);
    assert.match(errorOf(over.json).message, /limits\.memoryBytes: 536870912 is over this server's maximum of 268435456/);
    assert.equal(created.length, 2);
  });

  it('leaves the defaults alone where no ceiling is below them', async () => {
    const { created, call } = appWith({ memoryBytes: 2 * DEFAULT_LIMITS.memoryBytes });
    assert.equal((await call('POST', '/sandboxes', {})).status, 201);
    assert.deepEqual(created[0], {});
  });

  it('refuses limits that are not whole numbers in their range with bad_request naming the field and the range', async () => {
    const { created, call } = appWith();
    const cases: [Record<string, number>, RegExp][] = [
      [{ memoryBytes: 0.5 }, /^limits\.memoryBytes: expected a whole number from 16777216 to 1099511627776, got 0\.5$/],
      [{ diskBytes: 0.5 }, /^limits\.diskBytes: expected a whole number from 1048576 to 1099511627776/],
      [{ timeoutMs: 0.5 }, /^limits\.timeoutMs: expected a whole number from 1 to 2147483647/],
      [{ timeoutMs: 2 ** 31 }, /^limits\.timeoutMs: expected a whole number from 1 to 2147483647, got 2147483648$/],
      [{ maxProcesses: 0.5 }, /^limits\.maxProcesses: expected a whole number from 8 to 4194304/],
      [{ maxProcesses: 1e12 }, /^limits\.maxProcesses: /],
      [{ memoryBytes: 1e300 }, /^limits\.memoryBytes: /],
      [{ diskBytes: 1e300 }, /^limits\.diskBytes: /],
      [{ maxOutputBytes: 600_000_000 }, /^limits\.maxOutputBytes: expected a whole number from 1 to 33554432, got 600000000$/],
      [{ cpus: 0 }, /^limits\.cpus: expected a number from 0\.01 to 1024/],
    ];
    for (const [limits, message] of cases) {
      const reply = await call('POST', '/sandboxes', { limits });
      assert.equal(reply.status, 400, JSON.stringify(limits));
      assert.equal(errorOf(reply.json).code, 'bad_request');
      assert.match(errorOf(reply.json).message, message);
    }
    assert.equal(created.length, 0, 'nothing was created for a refused request');
  });

  it('answers a path that is no route with no_route, and a known route with the wrong method with bad_method', async () => {
    const { call } = appWith();
    const wrongBase = await call('POST', '/v1/sandboxes', {});
    assert.deepEqual([wrongBase.status, errorOf(wrongBase.json).code], [404, 'no_route']);
    const wrongMethod = await call('GET', '/sandboxes/sbx_any/exec');
    assert.deepEqual([wrongMethod.status, errorOf(wrongMethod.json).code, wrongMethod.allow], [405, 'bad_method', 'POST']);
    const noSandbox = await call('POST', '/sandboxes/sbx_none/exec', { command: 'true' });
    assert.deepEqual([noSandbox.status, errorOf(noSandbox.json).code], [404, 'not_found'], 'not_found still means "no such sandbox"');
  });

  it('answers a write the sandbox has no room for with no_space, not a server failure', async () => {
    const { call } = appWith();
    const { id } = P.CreateResponse.parse((await call('POST', '/sandboxes', {})).json);
    const full = await call('PUT', `/sandboxes/${id}/files/write`, { path: 'big.txt', content: P.toBase64('x') });
    assert.deepEqual([full.status, errorOf(full.json).code], [413, 'no_space']);
  });
});
