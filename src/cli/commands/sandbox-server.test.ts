import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import { InputError } from '../../core/index.ts';
import { createSandbox } from '../../sandbox/index.ts';
import type { SandboxServer } from '../../server/sandbox/index.ts';
import { remoteProtocol as P } from '../../sandbox/remote/index.ts';
import { fillConnections, getHead, openRaw } from '../../../test/support/raw-sockets.ts';
import type { CliIo } from '../io.ts';
import { registerSandboxServerCommand, type SandboxServerHooks } from './sandbox-server.ts';

function setup(env: Record<string, string> = {}, hooks: SandboxServerHooks = {}) {
  const err: string[] = [];
  const io: CliIo = { stdout: () => undefined, stderr: (text) => void err.push(text), interactive: false, env };
  const program = new Command('gauntlet').exitOverride().configureOutput({ writeOut: () => undefined, writeErr: (t) => void err.push(t) });
  registerSandboxServerCommand(program, io, hooks);
  for (const command of program.commands) command.exitOverride();
  return { err, run: (...args: string[]) => program.parseAsync(['node', 'gauntlet', 'sandbox-server', ...args]) };
}

describe('gauntlet sandbox-server', () => {
  it('serves sandboxes until stopped, says where, and closes what is still open on the way out', async () => {
    let served: SandboxServer | undefined;
    const { run, err } = setup({ GAUNTLET_TOKEN: 'from-env' }, {
      untilStopped: async (server) => {
        served = server;
        const box = await createSandbox({ backend: 'remote', remote: { url: server.url, token: 'from-env' } });
        assert.equal((await box.exec('echo remote', { timeoutMs: 5000 })).stdout, 'remote\n');
        assert.equal(server.stats().sandboxes, 1);
      },
    });
    await run('--port', '0', '--backend', 'virtual', '--lease-ttl', '30', '--max-sandboxes', '2');
    assert.ok(served);
    const text = err.join('');
    assert.match(text, /virtual sandboxes on http:\/\/127\.0\.0\.1:\d+/);
    assert.match(text, /at most 2 sandboxes, lease 30 s, bearer token required/);
    assert.match(text, /closing 1 open sandbox\n/);
    assert.equal(served.stats().sandboxes, 0);
    await assert.rejects(fetch(`${served.url}/v1/health`), 'the server no longer listens');
  });

  it('refuses a non-loopback bind without a token, and bad flags, before serving', async () => {
    const never: SandboxServerHooks = { untilStopped: () => assert.fail('must not start') };
    await assert.rejects(setup({}, never).run('--host', '0.0.0.0', '--port', '0'), (e: unknown) => e instanceof InputError && e.where === '--host' && /--token/.test(e.message));
    await assert.rejects(setup({ GAUNTLET_TOKEN: ' ' }, never).run('--port', '0'), /GAUNTLET_TOKEN/);
    await assert.rejects(setup({}, never).run('--backend', 'docker'), /--backend/);
    await assert.rejects(setup({}, never).run('--lease-ttl', '0'), /--lease-ttl/);
  });

  it('names the flag and its range for a port or a memory ceiling out of range', async () => {
    const never: SandboxServerHooks = { untilStopped: () => assert.fail('must not start') };
    await assert.rejects(setup({}, never).run('--port', '99999'), (e: unknown) => e instanceof InputError && e.where === '--port' && /got "99999" \(expected a whole number from 0 to 65535\)/.test(e.message));
    await assert.rejects(setup({}, never).run('--max-memory-mb', '1'), (e: unknown) => e instanceof InputError && e.where === '--max-memory-mb' && /from 16 to 1048576/.test(e.message));
  });

  it('closes connections past --max-connections as they arrive, and names the flag when it is out of range', async () => {
    const { run, err } = setup({}, {
      untilStopped: async (server) => {
        const { answers, extra, sockets } = await fillConnections(server.url, 1, getHead('/v1/health', new URL(server.url).host));
        for (const raw of sockets) raw.socket.destroy();
        assert.deepEqual([answers, extra], [['HTTP/1.1 200 OK'], null]);
      },
    });
    await run('--port', '0', '--backend', 'virtual', '--max-connections', '1');
    assert.match(err.join(''), /sandbox-server: closed 1 connection on arrival so far: 1 at once is the limit/);
    const never: SandboxServerHooks = { untilStopped: () => assert.fail('must not start') };
    await assert.rejects(setup({}, never).run('--max-connections', '0'), (e: unknown) => e instanceof InputError && e.where === '--max-connections' && /from 1 to 1000000/.test(e.message));
  });

  it('passes --max-body-memory (MiB) to the server, which refuses at once a body that could never fit, and refuses bad values naming the flag', async () => {
    const never: SandboxServerHooks = { untilStopped: () => assert.fail('must not start') };
    for (const value of ['0', '-1', '1.5', 'lots', '', '2000000']) {
      await assert.rejects(
        setup({}, never).run('--port', '0', '--max-body-memory', value),
        (e: unknown) => e instanceof InputError && e.where === '--max-body-memory' && /a whole number from 1 to 1048576/.test(e.message),
        value,
      );
    }
    let outcome: unknown;
    const { run, err } = setup({}, {
      untilStopped: async (server) => {
        const raw = await openRaw(server.url);
        // Two MiB declared, nothing sent: only the head decides.
        raw.socket.write(`POST /v1/sandboxes HTTP/1.1\r\nHost: ${new URL(server.url).host}\r\n${P.PROTOCOL_HEADER}: ${P.PROTOCOL_VERSION}\r\nContent-Length: ${2 * 1024 * 1024}\r\n\r\n`);
        await raw.closed;
        outcome = { limit: server.stats().maxBodyMemoryBytes, status: raw.received().split('\r\n')[0], refusal: /"too_large".*more than the 1 MiB the server holds for all request bodies at once \(--max-body-memory\)/.test(raw.received()) };
      },
    });
    await run('--port', '0', '--backend', 'virtual', '--max-body-memory', '1');
    assert.deepEqual(outcome, { limit: 1024 * 1024, status: 'HTTP/1.1 413 Payload Too Large', refusal: true });
    assert.match(err.join(''), /at most 1 MiB of request bodies at once, each within 60 s/);
  });

  it('passes --body-timeout (seconds) to the server, which answers 408 to a body still arriving past it and frees its memory, and refuses bad values naming the flag', async () => {
    const never: SandboxServerHooks = { untilStopped: () => assert.fail('must not start') };
    for (const value of ['0', '-1', 'soon', '', '301', '0.0001']) {
      await assert.rejects(
        setup({}, never).run('--port', '0', '--body-timeout', value),
        (e: unknown) => e instanceof InputError && e.where === '--body-timeout' && /seconds from 0\.001 to 300 \(the request timeout\)/.test(e.message),
        value,
      );
    }
    let outcome: unknown;
    const { run, err } = setup({}, {
      untilStopped: async (server) => {
        const raw = await openRaw(server.url);
        raw.socket.write(`POST /v1/sandboxes HTTP/1.1\r\nHost: ${new URL(server.url).host}\r\n${P.PROTOCOL_HEADER}: ${P.PROTOCOL_VERSION}\r\nContent-Length: 100\r\n\r\n{"limits"`);
        await raw.closed;
        outcome = { timeout: server.stats().bodyTimeoutMs, status: raw.received().split('\r\n')[0], refusal: /"body_timeout".*within 0\.2 s \(--body-timeout\): 9 of its 100 bytes had come/.test(raw.received()), held: server.stats().bodyBytes };
      },
    });
    await run('--port', '0', '--backend', 'virtual', '--body-timeout', '0.2');
    assert.deepEqual(outcome, { timeout: 200, status: 'HTTP/1.1 408 Request Timeout', refusal: true, held: 0 });
    assert.match(err.join(''), /at most 256 MiB of request bodies at once, each within 0\.2 s/);
  });

  it('passes --max-read-mb (MiB) to the server, which refuses a larger file naming it, and refuses bad values naming the flag', async () => {
    const never: SandboxServerHooks = { untilStopped: () => assert.fail('must not start') };
    for (const value of ['0', '-1', '1.5', 'lots', '', '257']) {
      await assert.rejects(
        setup({}, never).run('--port', '0', '--max-read-mb', value),
        (e: unknown) => e instanceof InputError && e.where === '--max-read-mb' && /a whole number from 1 to 256/.test(e.message),
        value,
      );
    }
    let refusal: unknown;
    const { run, err } = setup({}, {
      untilStopped: async (server) => {
        assert.equal(server.stats().maxReadBytes, 1024 * 1024);
        const box = await createSandbox({ backend: 'remote', remote: { url: server.url } });
        try {
          await box.writeFile('big.txt', 'x'.repeat(1024 * 1024 + 1));
          refusal = await box.readFile('big.txt').catch((error: unknown) => error);
        } finally {
          await box.close();
        }
      },
    });
    await run('--port', '0', '--backend', 'virtual', '--max-read-mb', '1');
    assert.match(String(refusal), /sandbox readFile: "big\.txt" is 1048577 bytes, over this server's limit of 1 MiB a read \(--max-read-mb\)/);
    assert.match(err.join(''), /file reads up to 1 MiB each, sent within that memory/);
  });
});
