// The sandbox server bounds what one client may hold (sockets past `maxConnections` turned away,
// request heads sent a byte at a time cut) and never times a command while it runs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createSandbox } from '../../sandbox/index.ts';
import { remoteProtocol as P } from '../../sandbox/remote/index.ts';
import { waitFor } from '../../../test/support/wait.ts';
import { closedAfterTests, fillConnections, getHead, trickleHead } from '../../../test/support/raw-sockets.ts';
import { startSandboxServer, type SandboxServer } from './index.ts';

// A failing test should fail, not wait out Node's minute-long defaults.
const GUARD = { timeout: 20_000 };
const FAST = { headersTimeoutMs: 100, requestTimeoutMs: 100 };

const opened = closedAfterTests<SandboxServer>();

async function serve(options: Parameters<typeof startSandboxServer>[0]): Promise<SandboxServer> {
  return opened.started(await startSandboxServer({ port: 0, backend: 'virtual', ...options }));
}

const open = opened.open;

describe('sandbox server HTTP limits', () => {
  it('turns away a connection past maxConnections while those open are still answered', GUARD, async () => {
    const server = await serve({ maxConnections: 2 });
    const { answers, extra, afterwards, sockets } = await fillConnections(server.url, 2, getHead(`${P.API_PREFIX}/health`, new URL(server.url).host));
    opened.keep(sockets);
    assert.deepEqual(answers, ['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK']);
    assert.equal(extra, null);
    assert.deepEqual(afterwards, ['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK']);
  });

  it('cuts a client that sends its request head a byte at a time', GUARD, async () => {
    const server = await serve({ httpTimeouts: FAST });
    const slow = await open(server.url);
    await trickleHead(slow, new URL(server.url).host);
    assert.match(slow.received(), /^HTTP\/1\.1 408 Request Timeout/);
  });

  it('lets a command run on past the request and head timeouts', GUARD, async () => {
    const server = await serve({ httpTimeouts: FAST });
    const box = await createSandbox({ backend: 'remote', remote: { url: server.url } });
    try {
      const run = box.exec('while [ ! -f go ]; do sleep 0.01; done; echo done', { timeoutMs: 15_000 });
      await waitFor(() => server.stats().running === 1, 'the command to start');
      // A socket opened since has been cut for sending nothing: the timeout checks have run past the exec request's.
      await (await open(server.url)).closed;
      await box.writeFile('go', '');
      const result = await run;
      assert.deepEqual({ stdout: result.stdout, exitCode: result.exitCode }, { stdout: 'done\n', exitCode: 0 });
    } finally {
      await box.close();
    }
  });
});
