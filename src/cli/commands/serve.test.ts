// `gauntlet serve --max-connections`: the flag reaches the server, and a bad value names the flag.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import { InputError } from '../../core/index.ts';
import { fillConnections, getHead } from '../../../test/support/raw-sockets.ts';
import type { CliIo } from '../io.ts';
import { registerServeCommand, type ServeHooks } from './serve.ts';

function setup(hooks: ServeHooks) {
  const err: string[] = [];
  const io: CliIo = { stdout: () => undefined, stderr: (text) => void err.push(text), interactive: false, env: {} };
  const program = new Command('gauntlet').exitOverride().configureOutput({ writeOut: () => undefined, writeErr: (t) => void err.push(t) });
  const dir = mkdtempSync(join(tmpdir(), 'gauntlet-serve-'));
  registerServeCommand(program, io, { webRoot: join(dir, 'no-web'), ...hooks });
  for (const command of program.commands) command.exitOverride();
  return { err, run: (...args: string[]) => program.parseAsync(['node', 'gauntlet', 'serve', '--port', '0', '--store', join(dir, 'g.db'), ...args]) };
}

describe('gauntlet serve --max-connections', () => {
  it('closes connections past the limit as they arrive', async () => {
    const { run, err } = setup({
      untilStopped: async (server) => {
        const { answers, extra, afterwards, sockets } = await fillConnections(server.url, 2, getHead('/api/runs', new URL(server.url).host));
        for (const raw of sockets) raw.socket.destroy();
        assert.deepEqual({ answers, extra, afterwards }, { answers: ['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK'], extra: null, afterwards: ['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK'] });
      },
    });
    await run('--max-connections', '2');
    assert.match(err.join(''), /serve: closed 1 connection on arrival so far: 2 at once is the limit/);
  });

  it('closes a client\'s connections past --max-connections-per-client as they arrive', async () => {
    const { run, err } = setup({
      untilStopped: async (server) => {
        const { answers, extra, afterwards, sockets } = await fillConnections(server.url, 2, getHead('/api/runs', new URL(server.url).host));
        for (const raw of sockets) raw.socket.destroy();
        assert.deepEqual({ answers, extra, afterwards }, { answers: ['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK'], extra: null, afterwards: ['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK'] });
      },
    });
    await run('--max-connections-per-client', '2');
    assert.match(err.join(''), /serve: closed 1 connection on arrival so far from clients holding 2 already \(maxConnectionsPerClient\)/);
    const { run: bad } = setup({ untilStopped: () => assert.fail('must not start') });
    await assert.rejects(bad('--max-connections-per-client', '0'), (e: unknown) => e instanceof InputError && e.where === '--max-connections-per-client');
  });

  it('names the flag when the limit is out of range', async () => {
    const { run } = setup({ untilStopped: () => assert.fail('must not start') });
    await assert.rejects(run('--max-connections', '0'), (e: unknown) => e instanceof InputError && e.where === '--max-connections' && /from 1 to 1000000/.test(e.message));
  });
});
