// Secret hygiene end to end: servers listen on loopback unless given a token; an API key held in
// the environment never lands in any file Gauntlet writes (store, WAL, export, logs), even when a
// hostile model endpoint echoes it back in errors and answers.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InputError } from '../src/core/index.ts';
import { configuredSecrets } from '../src/runner/index.ts';
import { startApiServer } from '../src/server/api/index.ts';
import { startOpenEnvServer } from '../src/server/openenv/index.ts';
import { startSandboxServer } from '../src/server/sandbox/server.ts';
import { openStore } from '../src/store/index.ts';
import { startGateway } from '../src/training/gateway/server.ts';
import { counterCompletion } from './chaos/fault-model.ts';
import { TYPESCRIPT_NODE_ARGS } from './support/typescript.ts';

const CLI = [...TYPESCRIPT_NODE_ARGS, 'test/support/cli-with-counter.ts'];

describe('servers: loopback by default, a token beyond it', () => {
  const servers = [
    { name: 'review API', start: (o: { host?: string; token?: string }) => startApiServer({ store: openStore(':memory:'), port: 0, ...o }) },
    { name: 'OpenEnv server', start: (o: { host?: string; token?: string }) => startOpenEnvServer({ env: 'mail', port: 0, ...o }) },
    { name: 'sandbox server', start: (o: { host?: string; token?: string }) => startSandboxServer({ port: 0, ...o }) },
    // Nothing listens at the upstream: the gateway must not need it to start, nor reach it to refuse.
    { name: 'training gateway', start: (o: { host?: string; token?: string }) => startGateway({ upstream: 'http://127.0.0.1:9/v1', engine: 'vllm', port: 0, ...o }) },
  ];
  for (const server of servers) {
    it(`the ${server.name} listens on 127.0.0.1 unless told otherwise`, async () => {
      const running = await server.start({});
      try {
        assert.match(running.url, /^http:\/\/127\.0\.0\.1:\d+/);
      } finally {
        await running.close();
      }
    });

    it(`the ${server.name} refuses to bind beyond loopback without a token, naming the flag to fix it`, async () => {
      await assert.rejects(server.start({ host: '0.0.0.0' }), (error: unknown) => error instanceof InputError && /host: binding 0\.0\.0\.0 \(beyond loopback\) without a bearer token/.test(error.message) && /--token/.test(error.message));
    });
  }

  it('with a token, the review API answers 401 to a request without it and 200 with it', async () => {
    const token = randomBytes(16).toString('hex');
    const running = await startApiServer({ store: openStore(':memory:'), port: 0, token });
    try {
      assert.equal((await fetch(`${running.url}/api/runs`)).status, 401);
      assert.equal((await fetch(`${running.url}/api/runs`, { headers: { authorization: `Bearer ${token}x` } })).status, 401);
      assert.equal((await fetch(`${running.url}/api/runs`, { headers: { authorization: `Bearer ${token}` } })).status, 200);
    } finally {
      await running.close();
    }
  });

});

describe('the secrets a store is told to scrub', () => {
  it('are the API keys and Gauntlet\'s own tokens set in the environment, not placeholders too short to be keys', () => {
    const env = {
      OPENAI_API_KEY: 'EMPTY',
      ANTHROPIC_API_KEY: 'sk-ant-0123456789',
      GAUNTLET_UPSTREAM_API_KEY: 'sk-upstream-0123456789',
      GAUNTLET_SANDBOX_TOKEN: 'sandbox-token-0123456789',
      GAUNTLET_TOKEN: 'serve-token-0123456789',
      HOME: '/home/someone',
    };
    // A placeholder such as EMPTY (vLLM's documented dummy key) is no secret: scrubbing it would corrupt every answer that says it.
    assert.deepEqual(configuredSecrets(env), ['sk-ant-0123456789', 'sk-upstream-0123456789', 'sandbox-token-0123456789', 'serve-token-0123456789']);
  });
});

/** Every file under `dir` (recursively) whose bytes contain `needle`. */
function filesContaining(dir: string, needle: string): string[] {
  const found: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found.push(...filesContaining(path, needle));
    else if (readFileSync(path).includes(needle)) found.push(path);
  }
  return found;
}

describe('an API key in the environment', () => {
  const key = `sk-gauntlet-${randomBytes(12).toString('hex')}`;
  let server: Server;
  let url: string;
  const seen = new Map<string, number>();
  before(async () => {
    // A hostile endpoint: it checks the key, then echoes it in every other answer and in errors.
    server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (c: Buffer) => chunks.push(c));
      request.on('end', () => {
        const auth = request.headers.authorization ?? '';
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { messages: { role: string; content?: unknown }[] };
        const copy = seen.get(JSON.stringify(body.messages)) ?? 0;
        seen.set(JSON.stringify(body.messages), copy + 1);
        if (copy === 0) {
          response.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: `upstream failed for ${auth}` } }));
          return;
        }
        const answer = counterCompletion(body.messages) as { choices: { message: { content: unknown } }[] };
        const message = answer.choices[0]!.message;
        if (typeof message.content === 'string') message.content = `${message.content} (served to ${auth})`;
        response.writeHead(200, { 'content-type': 'application/json', 'x-echo-key': auth }).end(JSON.stringify(answer));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('never appears in any file written: store, its WAL, exports, reports or logs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gauntlet-secrets-'));
    const store = join(dir, 'g.db');
    const env = { ...process.env, OPENAI_API_KEY: key };
    // Asynchronous: the endpoint answers from this process while the CLI runs.
    const gauntlet = async (args: string[], log: string) => {
      const child = spawn(process.execPath, [...CLI, ...args, '--store', store], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const status = await new Promise<number | null>((resolve) => child.once('close', resolve));
      writeFileSync(join(dir, `${log}.stdout`), stdout);
      writeFileSync(join(dir, `${log}.stderr`), stderr);
      return { status, stdout, stderr };
    };
    const run = await gauntlet(['run', '--env', 'counter', '--model', `openai:${url}#m`, '--no-stream', '--epochs', '2', '--json'], 'run');
    assert.equal(run.status, 0, run.stderr);
    const summary = JSON.parse(run.stdout) as { runId: string; rollouts: number; scored: number };
    assert.deepEqual({ rollouts: summary.rollouts, scored: summary.scored }, { rollouts: 6, scored: 6 });
    assert.ok(seen.size > 0, 'the endpoint was called with the key');
    assert.equal((await gauntlet(['export', summary.runId, '--format', 'jsonl', '--output', join(dir, 'export.jsonl')], 'export')).status, 0);
    assert.equal((await gauntlet(['show', summary.runId, '--json'], 'show')).status, 0);
    assert.equal((await gauntlet(['runs', '--json'], 'runs')).status, 0);
    // The key went out and came back: the store holds the echoed answers, scrubbed.
    assert.ok(readFileSync(join(dir, 'export.jsonl'), 'utf8').includes('served to'), 'the echoing answers were stored');
    assert.deepEqual(filesContaining(dir, key), []);
    assert.deepEqual(filesContaining(dir, key.slice(0, 24)), [], 'not even a prefix of the key');
  });
});
