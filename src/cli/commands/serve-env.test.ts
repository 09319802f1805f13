import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import { InputError } from '../../core/index.ts';
import type { OpenEnvServer } from '../../server/openenv/index.ts';
import { OpenEnvHttpClient, OpenEnvSocket } from '../../../test/support/openenv-client.ts';
import { fillConnections, getHead, openRaw } from '../../../test/support/raw-sockets.ts';
import type { CliIo } from '../io.ts';
import { registerServeEnvCommand, type ServeEnvHooks } from './serve-env.ts';

function setup(env: Record<string, string> = {}, hooks: ServeEnvHooks = {}) {
  const err: string[] = [];
  const io: CliIo = { stdout: () => undefined, stderr: (text) => void err.push(text), interactive: false, env };
  const program = new Command('gauntlet').exitOverride().configureOutput({ writeOut: () => undefined, writeErr: (t) => void err.push(t) });
  registerServeEnvCommand(program, io, hooks);
  for (const command of program.commands) command.exitOverride();
  return { program, err, run: (...args: string[]) => program.parseAsync(['node', 'gauntlet', 'serve-env', ...args]) };
}

describe('gauntlet serve-env', () => {
  it('serves the environment until stopped, says where, and closes its sessions on the way out', async () => {
    let served: OpenEnvServer | undefined;
    const { run, err } = setup({}, {
      untilStopped: async (server) => {
        served = server;
        const http = new OpenEnvHttpClient(server.url);
        assert.deepEqual(await http.health(), { status: 200, body: { status: 'healthy' } });
        const socket = await OpenEnvSocket.connect(server.url);
        assert.equal(((await socket.reset({})) as { type: string }).type, 'observation');
        assert.equal(server.stats().maxSessions, 3);
      },
    });
    await run('--env', 'mail', '--port', '0', '--max-sessions', '3', '--mode', 'production');
    assert.ok(served);
    const text = err.join('');
    assert.match(text, new RegExp(`mail on ${served.url.replace(/\./g, '\\.')}`));
    assert.match(text, /\/ws/);
    assert.match(text, /closing 1 open session/);
    assert.equal(served.stats().sessions, 0);
    await assert.rejects(fetch(`${served.url}/health`), 'the server no longer listens');
  });

  it('takes the bearer token from GAUNTLET_TOKEN', async () => {
    const { run } = setup({ GAUNTLET_TOKEN: 'from-the-environment' }, {
      untilStopped: async (server) => {
        assert.equal((await new OpenEnvHttpClient(server.url).health()).status, 401);
        assert.equal((await new OpenEnvHttpClient(server.url, { token: 'from-the-environment' }).health()).status, 200);
      },
    });
    await run('--env', 'mail', '--port', '0');
  });

  it('refuses a non-loopback bind without a token, and unknown environments and flags, before serving', async () => {
    const never: ServeEnvHooks = { untilStopped: () => assert.fail('must not start') };
    await assert.rejects(setup({}, never).run('--env', 'mail', '--host', '0.0.0.0', '--port', '0'), (e: unknown) => e instanceof InputError && /--token/.test(e.message));
    await assert.rejects(setup({}, never).run('--env', 'nowhere', '--port', '0'), (e: unknown) => e instanceof InputError && e.message.startsWith('--env'));
    await assert.rejects(setup({}, never).run('--env', 'mail', '--mode', 'staging'), /--mode/);
    await assert.rejects(setup({ GAUNTLET_TOKEN: ' ' }, never).run('--env', 'mail', '--port', '0'), /GAUNTLET_TOKEN/);
  });

  it('names the flag at fault: a port or idle timeout out of range, a padded token', async () => {
    const never: ServeEnvHooks = { untilStopped: () => assert.fail('must not start') };
    const refused = (flag: string, pattern: RegExp) => (e: unknown) => e instanceof InputError && e.where === flag && pattern.test(e.message);
    await assert.rejects(setup({}, never).run('--env', 'mail', '--port', '70000'), refused('--port', /from 0 to 65535/));
    for (const seconds of ['3000000', '0.0001', '-1']) {
      await assert.rejects(setup({}, never).run('--env', 'mail', '--port', '0', '--session-timeout', seconds), refused('--session-timeout', /0 \(never\), or seconds from 0\.001 to 2147483\.647/), seconds);
    }
    await assert.rejects(setup({}, never).run('--env', 'mail', '--port', '0', '--token', ' padded-token '), refused('--token', /whitespace/));
    await assert.rejects(setup({ GAUNTLET_TOKEN: 'padded-token ' }, never).run('--env', 'mail', '--port', '0'), refused('GAUNTLET_TOKEN', /whitespace/));
  });

  it('passes --max-connections to the server, which refuses fewer than --max-sessions', async () => {
    const never: ServeEnvHooks = { untilStopped: () => assert.fail('must not start') };
    const refused = (pattern: RegExp) => (e: unknown) => e instanceof InputError && e.where === '--max-connections' && pattern.test(e.message);
    await assert.rejects(setup({}, never).run('--env', 'mail', '--port', '0', '--max-sessions', '8', '--max-connections', '4'), refused(/fewer than the 8 sessions allowed/));
    await assert.rejects(setup({}, never).run('--env', 'mail', '--port', '0', '--max-connections', '0'), refused(/from 1 to 1000000/));
    let served = false;
    await setup({}, { untilStopped: async () => void (served = true) }).run('--env', 'mail', '--port', '0', '--max-sessions', '8', '--max-connections', '8');
    assert.ok(served);
  });
  it('passes --max-connections-per-client to the server, which closes a client\'s sockets past it', async () => {
    let outcome: unknown;
    const { run, err } = setup({}, {
      untilStopped: async (server) => {
        const { answers, extra, sockets } = await fillConnections(server.url, 2, getHead('/health', new URL(server.url).host));
        for (const raw of sockets) raw.socket.destroy();
        outcome = { answers, extra };
      },
    });
    await run('--env', 'mail', '--port', '0', '--max-connections-per-client', '2');
    assert.deepEqual(outcome, { answers: ['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK'], extra: null });
    assert.match(err.join(''), /from clients holding 2 already \(maxConnectionsPerClient\)/);
    assert.match(err.join(''), /at most 4096 connections, 2 per client address/);
  });

  it('limits each client to a quarter of --max-connections by default, lifts the limit with --max-connections-per-client 0, and refuses other values naming the flag', async () => {
    const never: ServeEnvHooks = { untilStopped: () => assert.fail('must not start') };
    for (const value of ['-1', '1.5', 'all', '', '1000001']) {
      await assert.rejects(
        setup({}, never).run('--env', 'mail', '--port', '0', '--max-connections-per-client', value),
        (e: unknown) => e instanceof InputError && e.where === '--max-connections-per-client' && /a whole number from 0 to 1000000/.test(e.message),
        value,
      );
    }
    const limits: unknown[] = [];
    const seen = { untilStopped: async (server: OpenEnvServer) => void limits.push(server.stats().maxConnectionsPerClient) };
    const byDefault = setup({}, seen);
    await byDefault.run('--env', 'mail', '--port', '0', '--max-connections', '400');
    const lifted = setup({}, seen);
    await lifted.run('--env', 'mail', '--port', '0', '--max-connections', '400', '--max-connections-per-client', '0');
    assert.deepEqual(limits, [100, 400]);
    assert.match(byDefault.err.join(''), /at most 400 connections, 100 per client address/);
    assert.match(lifted.err.join(''), /at most 400 connections, with no limit per client/);
  });

  it('passes --max-body-memory (MiB) to the server, which refuses at once a body that could never fit, and refuses bad values naming the flag', async () => {
    const never: ServeEnvHooks = { untilStopped: () => assert.fail('must not start') };
    for (const value of ['0', '-1', '1.5', 'lots', '', '2000000']) {
      await assert.rejects(
        setup({}, never).run('--env', 'mail', '--port', '0', '--max-body-memory', value),
        (e: unknown) => e instanceof InputError && e.where === '--max-body-memory' && /a whole number from 1 to 1048576/.test(e.message),
        value,
      );
    }
    let outcome: unknown;
    const { run, err } = setup({}, {
      untilStopped: async (server) => {
        const raw = await openRaw(server.url);
        // Two MiB declared, nothing sent: only the head decides.
        raw.socket.write(`POST /mcp HTTP/1.1\r\nHost: ${new URL(server.url).host}\r\nContent-Length: ${2 * 1024 * 1024}\r\n\r\n`);
        await raw.closed;
        outcome = { limit: server.stats().maxBodyMemoryBytes, status: raw.received().split('\r\n')[0], refusal: /more than the 1 MiB the server holds for all request bodies at once \(--max-body-memory\)/.test(raw.received()) };
      },
    });
    await run('--env', 'mail', '--port', '0', '--max-body-memory', '1');
    assert.deepEqual(outcome, { limit: 1024 * 1024, status: 'HTTP/1.1 413 Payload Too Large', refusal: true });
    assert.match(err.join(''), /at most 64 sessions and 1 MiB of request bodies/);
  });

  it('passes --body-timeout (seconds) to the server, which answers 408 to a body still arriving past it and frees its memory, and refuses bad values naming the flag', async () => {
    const never: ServeEnvHooks = { untilStopped: () => assert.fail('must not start') };
    for (const value of ['0', '-1', 'soon', '', '301', '0.0001']) {
      await assert.rejects(
        setup({}, never).run('--env', 'mail', '--port', '0', '--body-timeout', value),
        (e: unknown) => e instanceof InputError && e.where === '--body-timeout' && /seconds from 0\.001 to 300 \(the request timeout\)/.test(e.message),
        value,
      );
    }
    let outcome: unknown;
    const { run, err } = setup({}, {
      untilStopped: async (server) => {
        const raw = await openRaw(server.url);
        raw.socket.write(`POST /mcp HTTP/1.1\r\nHost: ${new URL(server.url).host}\r\nContent-Length: 100\r\n\r\n{"jsonrpc"`);
        await raw.closed;
        outcome = { timeout: server.stats().bodyTimeoutMs, status: raw.received().split('\r\n')[0], refusal: /within 0\.2 s \(--body-timeout\): 10 of its 100 bytes had come/.test(raw.received()), held: server.stats().bodyBytes };
      },
    });
    await run('--env', 'mail', '--port', '0', '--body-timeout', '0.2');
    assert.deepEqual(outcome, { timeout: 200, status: 'HTTP/1.1 408 Request Timeout', refusal: true, held: 0 });
    assert.match(err.join(''), /256 MiB of request bodies \(each within 0\.2 s\)/);
  });

  it('scores every episode with --reward FILE, process terms included, and says so at start', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'gauntlet-serve-env-')), 'reward.yaml');
    writeFileSync(file, 'terms:\n  outcome: { weight: 1 }\n  tool_errors: { weight: -0.1 }\n');
    let reward: unknown;
    const { run, err } = setup({}, {
      untilStopped: async (server) => {
        const socket = await OpenEnvSocket.connect(server.url);
        await socket.reset({});
        await socket.step({ type: 'call_tool', tool_name: 'no_such_tool', arguments: {} });
        reward = ((await socket.step({ type: 'submit', answer: null })) as { data: { reward: unknown } }).data.reward;
        await socket.close();
      },
    });
    await run('--env', 'mail', '--port', '0', '--reward', file);
    // The task fails (outcome 0) and the unknown tool costs 0.1.
    assert.equal(reward, -0.1);
    assert.ok(err.join('').includes(`reward: ${file}\n`), err.join(''));
  });

  it('says the built-in default scores episodes when neither --reward nor the environment gives one', async () => {
    const { run, err } = setup({}, { untilStopped: async () => undefined });
    await run('--env', 'mail', '--port', '0');
    assert.match(err.join(''), /reward: the built-in default/);
  });

  it('refuses a --reward file with a term the server cannot compute, naming the file and the term', async () => {
    const never: ServeEnvHooks = { untilStopped: () => assert.fail('must not start') };
    const file = join(mkdtempSync(join(tmpdir(), 'gauntlet-serve-env-')), 'reward.yaml');
    writeFileSync(file, 'terms:\n  outcome: { weight: 1 }\n  detector.test_tampering: { weight: -1, gate: true }\n');
    await assert.rejects(
      setup({}, never).run('--env', 'mail', '--port', '0', '--reward', file),
      (e: unknown) => e instanceof InputError && e.where === `--reward ${file}` && /detector\.test_tampering/.test(e.message) && /never sees the model/.test(e.message),
    );
    await assert.rejects(setup({}, never).run('--env', 'mail', '--port', '0', '--reward', join(file, '..', 'missing.yaml')), (e: unknown) => e instanceof InputError && /cannot read the reward config/.test(e.message));
  });
});
