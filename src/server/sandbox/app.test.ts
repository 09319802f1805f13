// The server's routes in process (Hono's app.request, no socket), over a sandbox that records what
// it was created with: what a request is refused for, and what limits a sandbox really gets.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Sandbox } from '../../core/index.ts';
import { DEFAULT_LIMITS, SandboxFullError, type SandboxLimits } from '../../sandbox/index.ts';
import { remoteProtocol as P } from '../../sandbox/remote/index.ts';
import { BodyBudget } from '../body-budget.ts';
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
    bodyBudget: new BodyBudget(16 * MiB),
    maxReadBytes: 16 * MiB,
    bodyTimeoutMs: 10_000,
    maxLimits,
    create: (request) => {
      created.push(request.limits);
      return Promise.resolve(recordingSandbox());
    },
  });
  const call = async (method: string, path: string, body?: unknown, extra: { origin?: string; base?: string } = {}) => {
    const text = body === undefined ? undefined : typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body);
    // As a client over HTTP/1.1 sends it: without Content-Length (or chunks) a request has no body.
    const length: Record<string, string> = text === undefined ? {} : { 'content-length': String(typeof text === 'string' ? Buffer.byteLength(text) : text.byteLength) };
    const init = { method, headers: { ...headers, ...length, ...(extra.origin ? { origin: extra.origin } : {}) }, ...(text !== undefined ? { body: text as BodyInit } : {}) };
    const response = await app.request(`${extra.base ?? ''}/v1${path}`, init);
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

  it('refuses a page of another origin, and a DNS name rebound to loopback, before creating anything', async () => {
    const { created, call } = appWith();
    const foreign = await call('POST', '/sandboxes', {}, { origin: 'https://evil.example' });
    assert.deepEqual([foreign.status, errorOf(foreign.json).code], [403, 'forbidden']);
    const rebound = await call('POST', '/sandboxes', {}, { base: 'http://evil.example:7070' });
    assert.deepEqual([rebound.status, errorOf(rebound.json).code], [403, 'forbidden']);
    assert.match(errorOf(rebound.json).message, /evil\.example.*not loopback/);
    assert.equal(created.length, 0);
    assert.equal((await call('POST', '/sandboxes', {}, { base: 'http://127.0.0.1:7070', origin: 'http://127.0.0.1:7070' })).status, 201, 'a page of its own origin on loopback is served');
  });

  it('refuses a file or variable named __proto__, which the schema would otherwise drop without a word', async () => {
    const { created, call } = appWith();
    const file = await call('POST', '/sandboxes', '{"files":{"__proto__":"aGk=","kept.txt":"aGk="}}');
    assert.deepEqual([file.status, errorOf(file.json).message], [400, 'files.__proto__: a key named __proto__ cannot be carried by the protocol; rename it']);
    assert.equal(created.length, 0);
    const { id } = P.CreateResponse.parse((await call('POST', '/sandboxes', {})).json);
    const variable = await call('POST', `/sandboxes/${id}/exec`, '{"command":"true","env":{"__proto__":"x"}}');
    assert.deepEqual([variable.status, errorOf(variable.json).message], [400, 'env.__proto__: a key named __proto__ cannot be carried by the protocol; rename it']);
  });

  it('refuses a NUL byte in a command, its work dir or a variable as a bad request, not a failure of the server', async () => {
    const { call } = appWith();
    const { id } = P.CreateResponse.parse((await call('POST', '/sandboxes', {})).json);
    for (const [body, field] of [
      [{ command: 'echo a\0b' }, 'command'],
      [{ command: 'true', cwd: '/work/\0' }, 'cwd'],
      [{ command: 'true', env: { A: 'x\0y' } }, 'env.A'],
    ] as const) {
      const reply = await call('POST', `/sandboxes/${id}/exec`, body);
      assert.deepEqual([reply.status, errorOf(reply.json).code, errorOf(reply.json).message], [400, 'bad_request', `${field}: contains a NUL byte (expected text without any)`]);
    }
  });

  it('refuses a body that is not UTF-8 rather than run a command with U+FFFD in place of its bytes', async () => {
    const { call } = appWith();
    const { id } = P.CreateResponse.parse((await call('POST', '/sandboxes', {})).json);
    const bytes = Buffer.concat([Buffer.from('{"command":"echo '), Buffer.from([0xff]), Buffer.from('"}')]);
    const reply = await call('POST', `/sandboxes/${id}/exec`, new Uint8Array(bytes));
    assert.deepEqual([reply.status, errorOf(reply.json).code, errorOf(reply.json).message], [400, 'bad_request', 'the body is not JSON (UTF-8)']);
  });

  it('answers a write the sandbox has no room for with no_space, not a server failure', async () => {
    const { call } = appWith();
    const { id } = P.CreateResponse.parse((await call('POST', '/sandboxes', {})).json);
    const full = await call('PUT', `/sandboxes/${id}/files/write`, { path: 'big.txt', content: P.toBase64('x') });
    assert.deepEqual([full.status, errorOf(full.json).code], [413, 'no_space']);
  });
});
