import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { InfraError, InputError } from '../../core/index.ts';
import { createSandbox, probeRemoteSandbox, sandboxAvailability, SandboxFullError, SandboxPathError } from '../../sandbox/index.ts';
import { remoteProtocol as P } from '../../sandbox/remote/index.ts';
import { startSandboxServer, type SandboxServer } from './index.ts';

const MiB = 1024 ** 2;
const { bwrap } = await sandboxAvailability();

const headers = { 'content-type': 'application/json', [P.PROTOCOL_HEADER]: String(P.PROTOCOL_VERSION) };

async function errorOf(response: Response): Promise<{ status: number; code: string }> {
  const body = P.ErrorBody.parse(await response.json());
  return { status: response.status, code: body.error.code };
}

describe('remote sandbox against a loopback sandbox-server', () => {
  let server: SandboxServer;
  before(async () => {
    server = await startSandboxServer({ host: '127.0.0.1', port: 0, maxSandboxes: 3, maxLimits: { memoryBytes: 4 * 1024 ** 3 } });
  });
  after(() => server.close());

  it('runs commands with stdin, env, cwd and exit codes, and keeps files between them', async () => {
    const box = await createSandbox({ backend: 'remote', remote: { url: server.url }, files: { 'src/a.txt': 'héllo\n' } });
    try {
      assert.equal(box.backend, server.backend);
      assert.equal(box.workdir, '/work');
      const run = await box.exec('cat src/a.txt; cat; echo "$GREETING"; pwd; exit 3', { timeoutMs: 10_000, stdin: 'from stdin\n', env: { GREETING: 'hi' }, cwd: '/work' });
      assert.deepEqual({ exitCode: run.exitCode, stdout: run.stdout, timedOut: run.timedOut }, { exitCode: 3, stdout: 'héllo\nfrom stdin\nhi\n/work\n', timedOut: false });
      await box.writeFile('out/b.txt', 'written remotely');
      assert.equal((await box.exec('cat out/b.txt', { timeoutMs: 10_000 })).stdout, 'written remotely');
      assert.equal(await box.readFile('/work/out/b.txt'), 'written remotely');
      assert.equal(await box.readFile('missing.txt'), null);
      const listed = await box.listFiles();
      assert.deepEqual(listed.map((f) => f.path), ['out/b.txt', 'src/a.txt']);
      assert.equal(listed[1]?.size, Buffer.byteLength('héllo\n'));
      assert.equal((await box.exec('echo default timeout', { timeoutMs: 0 })).stdout, 'default timeout\n', 'no timeout of its own: the sandbox limit applies');
      await assert.rejects(box.exec('true', { timeoutMs: 1000, env: { 'NOT A NAME': 'x' } }), (e: unknown) => e instanceof InfraError && !e.retryable && /env\.NOT A NAME/.test(e.message));
    } finally {
      await box.close();
    }
    assert.equal(server.stats().sandboxes, 0);
    await assert.rejects(box.exec('true', { timeoutMs: 1000 }), /closed/);
  });

  it('applies the requested limits on the server: timeout and output cap', async () => {
    const box = await createSandbox({ backend: 'remote', remote: { url: server.url }, limits: { maxOutputBytes: 1000 } });
    try {
      const slow = await box.exec('sleep 5', { timeoutMs: 200 });
      assert.equal(slow.timedOut, true);
      const loud = await box.exec('yes | head -c 100000', { timeoutMs: 10_000 });
      assert.equal(loud.truncated, true);
      assert.ok(loud.stdout.length <= 1000, `stdout cut to the cap, got ${loud.stdout.length}`);
    } finally {
      await box.close();
    }
  });

  it('gives a path outside the work dir back as the SandboxPathError a local sandbox throws', async () => {
    const box = await createSandbox({ backend: 'remote', remote: { url: server.url } });
    try {
      await assert.rejects(box.readFile('../etc/passwd'), SandboxPathError);
      await assert.rejects(box.writeFile('/etc/x', 'no'), SandboxPathError);
    } finally {
      await box.close();
    }
  });

  it('answers bad requests with typed error bodies', async () => {
    const post = (path: string, body: string, extra: Record<string, string> = headers) => fetch(`${server.url}/v1${path}`, { method: 'POST', headers: extra, body });
    assert.deepEqual(await errorOf(await post('/sandboxes', '{not json')), { status: 400, code: 'bad_request' });
    assert.deepEqual(await errorOf(await post('/sandboxes', '{"limits":{"memoryBytes":-1}}')), { status: 400, code: 'bad_request' });
    assert.deepEqual(await errorOf(await post('/sandboxes', JSON.stringify({ limits: { memoryBytes: 8 * 1024 ** 3 } }))), { status: 400, code: 'bad_request' });
    assert.deepEqual(await errorOf(await post('/sandboxes', JSON.stringify({ workdir: '/etc' }))), { status: 400, code: 'bad_request' });
    assert.deepEqual(await errorOf(await post('/sandboxes', '{}', { 'content-type': 'application/json' })), { status: 400, code: 'protocol_version' });
    assert.deepEqual(await errorOf(await post('/sandboxes/sbx_nothing/exec', JSON.stringify({ command: 'true', timeoutMs: 1000 }))), { status: 404, code: 'not_found' });
    assert.deepEqual(await probeRemoteSandbox({ url: server.url }), { protocol: 1, backend: server.backend, sandboxes: 0, maxSandboxes: 3 });
  });

  it('reports stdin bigger than the sandbox\'s scratch space as the command\'s failure, not the server\'s', async (t) => {
    if (server.backend !== 'bwrap') return t.skip('only bwrap keeps stdin in a scratch space');
    const box = await createSandbox({ backend: 'remote', remote: { url: server.url }, limits: { diskBytes: MiB } });
    try {
      const run = await box.exec('wc -c', { timeoutMs: 10_000, stdin: 'x'.repeat(2 * MiB) });
      assert.equal(run.exitCode, 1);
      assert.match(run.stderr, /stdin of 2097152 bytes is more than the sandbox's scratch space \(1048576 bytes\)/);
      assert.equal(run.sandboxFailure, undefined);
      assert.equal((await box.exec('echo still fine', { timeoutMs: 10_000 })).stdout, 'still fine\n');
    } finally {
      await box.close();
    }
  });

  it('refuses a write its disk has no room for as the agent\'s error, and keeps the old content', async (t) => {
    if (server.backend === 'bwrap' && bwrap.disk !== 'tmpfs') return t.skip('the work dir has no size of its own here (no tmpfs mount)');
    const box = await createSandbox({ backend: 'remote', remote: { url: server.url }, limits: { diskBytes: MiB } });
    try {
      await box.writeFile('notes.txt', 'the old content');
      await assert.rejects(
        box.writeFile('notes.txt', 'y'.repeat(2 * MiB)),
        (e: unknown) => e instanceof SandboxFullError && e instanceof SandboxPathError && /notes\.txt: No space left on device/.test(e.message),
      );
      const kept = await box.readFile('notes.txt');
      assert.ok(kept === 'the old content', `the old content is kept (found ${kept?.length} characters)`);
      assert.deepEqual((await box.listFiles()).map((f) => f.path), ['notes.txt'], 'no temporary file is left behind');
    } finally {
      await box.close();
    }
  });

  it('reports a base URL with a path as a configuration error naming it, not as a lost lease', async () => {
    await assert.rejects(
      createSandbox({ backend: 'remote', remote: { url: `${server.url}/v1` } }),
      (e: unknown) => e instanceof InputError && e.message.includes(`${server.url}/v1`) && /no route POST \/v1\/v1\/sandboxes/.test(e.message) && /no \/v1 or other path/.test(e.message),
    );
  });

  it('refuses sandboxes past its maximum with a retryable capacity error', async () => {
    const held = await Promise.all([1, 2, 3].map(() => createSandbox({ backend: 'remote', remote: { url: server.url } })));
    try {
      await assert.rejects(createSandbox({ backend: 'remote', remote: { url: server.url } }), (e: unknown) => e instanceof InfraError && e.source === 'sandbox' && e.retryable && /maximum of 3/.test(e.message));
    } finally {
      await Promise.all(held.map((box) => box.close()));
    }
  });

  it('maps a server that went away to InfraError from the sandbox', async () => {
    const other = await startSandboxServer({ host: '127.0.0.1', port: 0, backend: 'virtual' });
    const box = await createSandbox({ backend: 'remote', remote: { url: other.url } });
    await other.close();
    await assert.rejects(box.exec('true', { timeoutMs: 1000 }), (e: unknown) => e instanceof InfraError && e.source === 'sandbox' && e.kind === 'connection');
    await assert.rejects(createSandbox({ backend: 'remote', remote: { url: other.url } }), (e: unknown) => e instanceof InfraError && e.source === 'sandbox');
  });
});

describe('sandbox-server refusals on a kept-alive connection', () => {
  it('answers every write over the body limit with too_large, and the requests after it as usual', async () => {
    const server = await startSandboxServer({ host: '127.0.0.1', port: 0, backend: 'virtual', maxBodyBytes: MiB });
    try {
      const box = await createSandbox({ backend: 'remote', remote: { url: server.url } });
      // Refused unread, the rest of a body used to meet the next request on the same connection:
      // every other over-limit write came back as a dropped connection (retryable), not too_large.
      for (let attempt = 1; attempt <= 4; attempt++) {
        await assert.rejects(box.writeFile('big.txt', 'x'.repeat(2 * MiB)), (e: unknown) => e instanceof InfraError && !e.retryable && e.detail?.code === 'too_large', `attempt ${attempt}`);
        assert.equal((await box.exec('echo still here', { timeoutMs: 5000 })).stdout, 'still here\n');
      }
      await box.close();
    } finally {
      await server.close();
    }
  });
});

describe('sandbox-server access', () => {
  it('refuses to bind beyond loopback without a token, before listening', async () => {
    await assert.rejects(startSandboxServer({ host: '0.0.0.0', port: 0 }), (e: unknown) => e instanceof InputError && e.where === 'host' && /run commands on this machine/.test(e.message));
    await assert.rejects(startSandboxServer({ host: '127.0.0.1', port: 0, token: '  ' }), (e: unknown) => e instanceof InputError && e.where === 'token');
  });

  it('refuses at start a token that no client could send, without quoting it', async () => {
    // Served, every request would have been refused, and clients told their connection failed.
    for (const token of ['SECRET-\u20ac', 'SECRET-a\nb']) {
      let outcome: unknown = 'started';
      // Closed should it start, so that a failure here does not keep the test process alive.
      await startSandboxServer({ host: '127.0.0.1', port: 0, backend: 'virtual', token }).then((server) => server.close(), (error: unknown) => (outcome = error));
      assert.ok(outcome instanceof InputError && outcome.where === 'token', `${JSON.stringify(token)}: ${String(outcome)}`);
      assert.match(outcome.message, /other than printable ASCII/);
      assert.equal(outcome.message.includes('SECRET'), false, outcome.message);
    }
  });

  it('demands the bearer token on every route when one is set', async () => {
    const server = await startSandboxServer({ host: '127.0.0.1', port: 0, token: 'sekret', backend: 'virtual' });
    try {
      assert.deepEqual(await errorOf(await fetch(`${server.url}/v1/health`)), { status: 401, code: 'unauthorized' });
      await assert.rejects(createSandbox({ backend: 'remote', remote: { url: server.url, token: 'wrong' } }), (e: unknown) => e instanceof InfraError && !e.retryable && /bearer token/.test(e.message));
      const box = await createSandbox({ backend: 'remote', remote: { url: server.url, token: 'sekret' } });
      assert.equal((await box.exec('echo ok', { timeoutMs: 5000 })).stdout, 'ok\n');
      await box.close();
    } finally {
      await server.close();
    }
  });

  it('reads the server from GAUNTLET_SANDBOX_URL and says so when it is missing', async () => {
    const { remoteServerFromEnv } = await import('../../sandbox/index.ts');
    assert.throws(() => remoteServerFromEnv({}), (e: unknown) => e instanceof InputError && e.where === 'GAUNTLET_SANDBOX_URL');
    assert.throws(() => remoteServerFromEnv({ GAUNTLET_SANDBOX_URL: 'ftp://x' }), /not http/);
    assert.deepEqual(remoteServerFromEnv({ GAUNTLET_SANDBOX_URL: 'http://10.0.0.5:7070', GAUNTLET_SANDBOX_TOKEN: 't' }), { url: 'http://10.0.0.5:7070', token: 't' });
  });
});
