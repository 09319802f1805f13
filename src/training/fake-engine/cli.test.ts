// Tests for `gauntlet fake-engine` (src/cli/commands/fake-engine.ts), kept beside the engine
// because the command is a thin wrapper over it.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import { fakeEngineOptions, registerFakeEngineCommand, type FakeEngineFlags } from '../../cli/commands/fake-engine.ts';
import type { CliIo } from '../../cli/io.ts';
import type { FakeEngine } from './server.ts';
import { shippedQwen3Dir } from './tokens.ts';
import { chat, post } from './test-support.ts';

const dir = mkdtempSync(join(tmpdir(), 'gauntlet-fake-engine-'));
const scriptFile = join(dir, 'script.yaml');
writeFileSync(scriptFile, 'turns:\n  - reasoning: Looking.\n    content: Hello from the script.\n  - content: Never asked for.\n');

function captureIo(): CliIo & { err: string } {
  const io = { out: '', err: '', interactive: false, env: {} } as CliIo & { out: string; err: string };
  io.stdout = (text) => void (io.out += text);
  io.stderr = (text) => void (io.err += text);
  return io;
}

/** Runs the command in a fresh program until `use` is done with the engine. */
async function runCommand(args: string[], use: (engine: FakeEngine) => Promise<void>): Promise<string> {
  const io = captureIo();
  let release!: () => void;
  const stop = new Promise<void>((resolve) => (release = resolve));
  let failure: unknown;
  const program = new Command('gauntlet').exitOverride();
  registerFakeEngineCommand(program, io, {
    stop,
    onReady: (engine) => {
      use(engine).then(release, (error: unknown) => {
        failure = error;
        release();
      });
    },
  });
  await program.parseAsync(['node', 'gauntlet', 'fake-engine', '--port', '0', ...args]);
  if (failure) throw failure;
  return io.err;
}

const DEFAULTS: FakeEngineFlags = { port: 0, host: '127.0.0.1', turns: 3, seed: 0, model: 'm', latencyMs: 0, tokenLatencyMs: 0, maxModelLen: 1024, reasoningField: 'reasoning' };

describe('gauntlet fake-engine', () => {
  it('serves a script under the given model name, says where, and warns about turns never asked for', { timeout: 60_000 }, async () => {
    const stderr = await runCommand(['--script', scriptFile, '--model', 'demo-model', '--reasoning-field', 'reasoning_content'], async (engine) => {
      const body = await chat(engine, { model: 'demo-model', messages: [{ role: 'user', content: 'hi' }] });
      assert.equal(body.choices[0]!.message.content, 'Hello from the script.');
      assert.equal(body.choices[0]!.message.reasoning_content, 'Looking.');
    });
    assert.match(stderr, /fake engine on http:\/\/127\.0\.0\.1:\d+\/v1 serving demo-model \(script .*script\.yaml; template Qwen3 \(shipped\); tokenizer Qwen3 \(shipped\)\)/);
    assert.match(stderr, /1 script turn was never requested \(turn 2\)/);
  });

  it('serves tool-walk with its turns, seed and latency settings', { timeout: 60_000 }, async () => {
    const stderr = await runCommand(['--policy', 'tool-walk', '--turns', '0', '--seed', '4', '--token-latency-ms', '1', '--max-model-len', '2048'], async (engine) => {
      const tools = [{ type: 'function', function: { name: 'ping', parameters: { type: 'object', properties: {} } } }];
      const body = await chat(engine, { messages: [{ role: 'user', content: 'hi' }], tools });
      assert.equal(body.choices[0]!.finish_reason, 'stop', 'zero tool turns: it answers at once');
      const tokenized = await post(engine, '/tokenize', { prompt: 'x' });
      assert.equal((tokenized.json as { max_model_len: number }).max_model_len, 2048);
    });
    assert.match(stderr, /tool-walk \(0 tool turns, seed 4\)/);
  });

  it('refuses --script with --policy, and bad files, naming them', async () => {
    await assert.rejects(fakeEngineOptions({ ...DEFAULTS, script: scriptFile, policy: 'tool-walk' }), /--script \/ --policy: both were given/);
    await assert.rejects(fakeEngineOptions({ ...DEFAULTS, script: join(dir, 'missing.yaml') }), /missing\.yaml: cannot read the script/);
    await assert.rejects(fakeEngineOptions({ ...DEFAULTS, template: join(dir, 'missing.jinja') }), /missing\.jinja: cannot read the template/);
    const faulty = join(dir, 'faulty.yaml');
    writeFileSync(faulty, 'turns:\n  - fault: http_500\n');
    await assert.rejects(fakeEngineOptions({ ...DEFAULTS, script: faulty }), /faulty\.yaml: turns\.0\.fault: is not supported by the fake engine/);
  });

  it('uses a tokenizer.json found beside --template', async () => {
    await assert.rejects(fakeEngineOptions({ ...DEFAULTS, template: dir }), /holds neither chat_template\.jinja nor tokenizer_config\.json/);
    const { options, describe: described } = await fakeEngineOptions({ ...DEFAULTS, template: join(shippedQwen3Dir(), 'tokenizer_config.json') });
    assert.match(described, /tokenizer .*tokenizer-qwen3\/models\/tokenizer\.json/);
    assert.equal(options.tokenizer?.vocabSize, 151_669);
  });
});
