// One driver per kind of bad input: each feeds a corpus case to the real boundary (the CLI, a
// model client, an HTTP server, an environment, a store on disk) and asserts the error is clear,
// located, and that nothing crashed or was lost.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { z } from 'zod';
import { RunConfig, type ModelRequest } from '../../src/core/index.ts';
import type { CliIo } from '../../src/cli/io.ts';
import { main } from '../../src/cli/main.ts';
import { getEnvironment, instantiate } from '../../src/envs/index.ts';
import { createModelClient } from '../../src/model/index.ts';
import { executeRun, selectTasks } from '../../src/runner/index.ts';
import { openStore } from '../../src/store/index.ts';
import { counterCatalog } from '../support/counter-env.ts';
import { goldenModel } from '../support/models.ts';
import type { CliCase, FileCase, HttpCase, ModelCase, StoreCase, ToolCase } from './corpus.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'gauntlet-corpus-'));
const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

interface CliResult {
  code: number;
  out: string;
  err: string;
}

async function cli(args: string[]): Promise<CliResult> {
  const io = { out: '', err: '', interactive: false, env: {} } as CliIo & { out: string; err: string };
  io.stdout = (t) => void (io.out += t);
  io.stderr = (t) => void (io.err += t);
  const code = await main(['node', 'gauntlet', ...args], io);
  return { code, out: io.out, err: io.err };
}

/** One message, the expected exit code, no stack trace, no secret echoed. */
function assertClear(result: CliResult, expected: { code: number; pattern: string; secret?: string | undefined }): void {
  assert.equal(result.code, expected.code, `exit ${result.code}: ${result.err}`);
  assert.match(result.err, new RegExp(expected.pattern));
  assert.match(result.err, /^(gauntlet: |error: )/, 'the first line says who is speaking');
  assert.doesNotMatch(result.err, /^\s+at /m, 'no stack trace');
  if (expected.secret) assert.ok(!result.err.includes(expected.secret) && !result.out.includes(expected.secret), 'the secret is not echoed');
}

/** `run` commands get a store of their own, never the working directory's. */
function withStore(args: string[], dir: string): string[] {
  const filled = args.map((a) => a.replaceAll('{dir}', dir).replaceAll('{store}', join(dir, 'g.db')));
  return filled[0] === 'run' && !filled.includes('--store') ? [...filled, '--store', join(dir, 'g.db')] : filled;
}

export async function cliCase(c: z.infer<typeof CliCase>): Promise<void> {
  assertClear(await cli(withStore(c.args, tmp())), { code: c.code, pattern: c.expect!, secret: c.secret });
}

export async function fileCase(c: z.infer<typeof FileCase>, kind: 'config' | 'task-file'): Promise<void> {
  const dir = tmp();
  const path = join(dir, `${kind === 'config' ? 'run' : 'tasks'}.${c.ext}`);
  writeFileSync(path, c.file);
  const args = kind === 'config' ? ['run', '--config', path] : ['run', '--tasks-file', path, '--model', 'oracle'];
  const result = await cli(withStore(args, dir));
  assertClear(result, { code: 2, pattern: c.expect!, secret: c.secret });
  assert.ok(result.err.includes(path), `the message names the file ${path}: ${result.err}`);
}

const REQUEST = {
  messages: [{ role: 'user', content: 'Increment counter a.' }],
  tools: [{ name: 'increment', description: 'Add one to a counter.', parameters: { type: 'object', properties: { id: { type: 'string' } } } }],
  sampling: {},
} as unknown as ModelRequest;

export async function modelCase(c: z.infer<typeof ModelCase>): Promise<void> {
  const type = c.contentType ?? (c.stream ? 'text/event-stream' : 'application/json');
  const fetch = (async () => new Response(c.body, { status: c.status, headers: { 'content-type': type } })) as typeof globalThis.fetch;
  const spec = c.api === 'anthropic' ? 'anthropic:http://127.0.0.1:9#m' : 'openai:http://127.0.0.1:9/v1#m';
  const client = await createModelClient(spec, { fetch, env: {}, maxRetries: 0, stream: c.stream });
  const result = await client.complete(REQUEST, { signal: new AbortController().signal });
  if (c.parseError !== undefined) {
    assert.ok(result.ok, 'a malformed tool call is the model\'s failure, kept for it to see');
    const call = result.response.message.toolCalls[0];
    assert.equal(call?.arguments, null);
    assert.match(call?.parseError ?? '', new RegExp(c.parseError));
    return;
  }
  assert.equal(result.ok, false, 'a broken response is not an answer');
  if (result.ok) return;
  if (c.kind) assert.equal(result.kind, c.kind, result.message);
  assert.match(result.message, new RegExp(c.expect!));
}

export interface HttpTargets {
  openenv: string;
  api: (path: string, init: RequestInit) => Promise<Response>;
}

export async function httpCase(c: z.infer<typeof HttpCase>, targets: HttpTargets): Promise<void> {
  const init: RequestInit = { method: c.method, headers: { 'content-type': 'application/json' }, ...(c.body !== undefined ? { body: c.body } : {}) };
  const response = c.server === 'openenv' ? await fetch(`${targets.openenv}${c.path}`, init) : await targets.api(`http://127.0.0.1${c.path}`, init);
  const text = await response.text();
  assert.ok(response.status < 500, `HTTP ${response.status}: ${text}`);
  assert.equal(response.status, c.status, text);
  assert.doesNotThrow(() => JSON.parse(text), 'the error is JSON');
  assert.match(text, new RegExp(c.expect!));
}

export async function toolCase(c: z.infer<typeof ToolCase>, envName: string): Promise<void> {
  const definition = getEnvironment(envName);
  const env = instantiate(definition, { sandbox: 'virtual' });
  try {
    await env.reset(definition.tasks()[0]!, { seed: 1 });
    const before = JSON.stringify(await env.snapshot());
    const outcome = await env.call(c.tool, c.arguments, { signal: new AbortController().signal });
    assert.equal(outcome.ok, false);
    if (outcome.ok) return;
    assert.equal(outcome.kind, c.kind, outcome.error);
    assert.match(outcome.error, new RegExp(c.expect!));
    // A refused call changes nothing, bar the clock's tick.
    const after = JSON.parse(JSON.stringify(await env.snapshot())) as Record<string, unknown>;
    const was = JSON.parse(before) as Record<string, unknown>;
    for (const key of Object.keys(was).filter((k) => k !== 'now' && k !== 'clock')) assert.deepEqual(after[key], was[key], `${key} changed`);
  } finally {
    await env.close();
  }
}

let base: { path: string; runId: string; rolloutId: string } | undefined;

/** A small finished run on disk, made once and copied for each case. */
async function baseStore(): Promise<NonNullable<typeof base>> {
  if (base) return base;
  const path = join(tmp(), 'base.db');
  const store = openStore(path);
  const config = RunConfig.parse({ envs: ['counter'], model: 'test:golden', epochs: 1, concurrency: 1, seed: 2 });
  const summary = await executeRun({ store, run: { resolved: { config, tasks: selectTasks(config, counterCatalog) } }, model: goldenModel, catalog: counterCatalog });
  const rolloutId = store.rollouts(summary.runId)[0]!.id;
  store.close();
  base = { path, runId: summary.runId, rolloutId };
  return base;
}

export async function storeCase(c: z.infer<typeof StoreCase>): Promise<void> {
  const { path: source, runId, rolloutId } = await baseStore();
  const dir = tmp();
  const path = join(dir, 'g.db');
  copyFileSync(source, path);
  const fill = (s: string) => s.replaceAll('{run}', runId).replaceAll('{rollout}', rolloutId).replaceAll('{store}', path);
  const db = new Database(path);
  db.exec(fill(c.sql));
  db.close();
  const before = sha256(path);
  const result = await cli([...c.args.map(fill), '--store', path]);
  assertClear(result, { code: 2, pattern: c.expect! });
  assert.ok(result.err.includes(path), `the message names the store: ${result.err}`);
  assert.equal(sha256(path), before, 'reading a corrupt store changes nothing in it');
}
