// The same task through native tool calling and through text tool calls over /v1/completions.
import assert from 'node:assert/strict';
import { FORMAT_NAMES } from '../src/formats/index.ts';
import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { cli } from './support/cli.ts';
import { registerEnvironment } from '../src/envs/index.ts';
import { openStore } from '../src/store/index.ts';
import { counterEnv } from './support/counter-env.ts';

registerEnvironment('counter', () => counterEnv);

/** A completions endpoint that answers in Qwen's hermes format, turn by turn (turns = assistant markers in the prompt). */
function completionsServer(): Promise<{ url: string; prompts: unknown[]; server: ServerType }> {
  const prompts: unknown[] = [];
  const app = new Hono();
  app.post('/v1/completions', async (c) => {
    const body = (await c.req.json()) as { prompt: string | number[] };
    prompts.push(body.prompt);
    const text = typeof body.prompt === 'string' ? body.prompt : '';
    const turn = (text.match(/<\|im_start\|>assistant/g) ?? []).length - 1;
    const completion =
      turn < 2
        ? `<think>\nCounter a needs increment ${turn + 1}.\n</think>\n\n<tool_call>\n{"name": "increment", "arguments": {"id": "a"}}\n</tool_call>`
        : '<think>\nBoth done.\n</think>\n\nIncremented counter a twice.';
    return c.json({ id: `cmpl-${turn}`, object: 'text_completion', model: 'm', choices: [{ index: 0, text: completion, finish_reason: 'stop' }], usage: { prompt_tokens: 10, completion_tokens: 10 } });
  });
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info: AddressInfo) => resolve({ url: `http://127.0.0.1:${info.port}/v1`, prompts, server }));
  });
}

describe('text-tools scaffold', () => {
  let endpoint: Awaited<ReturnType<typeof completionsServer>>;
  before(async () => {
    endpoint = await completionsServer();
  });
  after(() => void endpoint.server.close());

  it('runs a task through a chat template and hermes tool calls parsed from text', async () => {
    const store = join(mkdtempSync(join(tmpdir(), 'gauntlet-text-')), 'g.db');
    const { code, out, err } = await cli([
      'run', '--env', 'counter', '--task', 'counter/a', '--model', `openai:${endpoint.url}#m`, '--scaffold', 'text-tools',
      '--template', 'test/fixtures/formats/qwen3-style.jinja', '--tool-format', 'hermes', '--max-tokens', '512', '--store', store, '--json',
    ]);
    assert.equal(code, 0, err);
    const summary = JSON.parse(out);
    assert.equal(summary.passRate, 1);
    assert.equal(summary.terminationReasons.answered, 1);
    assert.equal(endpoint.prompts.length, 3);
    // The rendered prompt is the template's: the tools block and the earlier tool call appear as text.
    const last = String(endpoint.prompts[2]);
    assert.match(last, /<tools>/);
    assert.match(last, /<tool_call>/);
    assert.match(last, /<\|im_start\|>assistant\n$/);
    const db = openStore(store);
    const rollout = db.rollouts(summary.runId)[0]!;
    const calls = db.modelCalls(rollout.id);
    assert.equal(calls[0]!.response?.message.provider?.api, 'text-completion');
    assert.equal(calls[0]!.response?.message.reasoning?.source, 'text_format');
    db.close();
  });

  it('needs a template and a known format', async () => {
    const missing = await cli(['run', '--env', 'counter', '--model', `openai:${endpoint.url}#m`, '--scaffold', 'text-tools']);
    assert.equal(missing.code, 2);
    assert.match(missing.err, /template/);
    const bad = await cli(['run', '--env', 'counter', '--model', `openai:${endpoint.url}#m`, '--scaffold', 'text-tools', '--template', 'x.jinja', '--tool-format', 'yaml']);
    assert.equal(bad.code, 2);
    assert.ok(bad.err.includes(`--tool-format: got "yaml" (expected a tool-call format: one of ${FORMAT_NAMES.join(', ')})`), bad.err);
  });

  it('refuses to start without --max-tokens, which /v1/completions engines otherwise take as 16', async () => {
    const before = endpoint.prompts.length;
    const store = join(mkdtempSync(join(tmpdir(), 'gauntlet-text-')), 'g.db');
    const args = ['run', '--env', 'counter', '--model', `openai:${endpoint.url}#m`, '--scaffold', 'text-tools', '--template', 'test/fixtures/formats/qwen3-style.jinja', '--tool-format', 'hermes', '--store', store];
    const unlimited = await cli(args);
    assert.equal(unlimited.code, 2, unlimited.err);
    assert.match(unlimited.err, /--max-tokens: missing: the text-tools scaffold calls \/v1\/completions, where vLLM and SGLang stop every reply after 16 tokens/);
    assert.equal(endpoint.prompts.length, before, 'nothing was sent');
    const limited = await cli([...args, '--max-tokens', '512', '--task', 'counter/a']);
    assert.equal(limited.code, 0, limited.err);
  });
});
