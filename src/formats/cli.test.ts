// Tests for `gauntlet render` / `gauntlet parse` (src/cli/commands/formats.ts), kept in this
// module's folder because the commands are thin wrappers over it.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import { parseAction, parseVars, registerFormatCommands, renderAction, type FormatsIo, type ParseFlags } from '../cli/commands/formats.ts';

const FIXTURES = new URL('../../test/fixtures/formats/', import.meta.url).pathname;

function io(stdin = ''): FormatsIo & { out: string; err: string } {
  const state = {
    out: '',
    err: '',
    stdout: (text: string) => void (state.out += text),
    stderr: (text: string) => void (state.err += text),
    stdin: async () => stdin,
  };
  return state;
}

describe('gauntlet render', () => {
  it('prints only the prompt, with the generation prompt by default', async () => {
    const out = io();
    const code = await renderAction({ template: `${FIXTURES}qwen3-style.jinja`, messages: `${FIXTURES}messages.json`, tools: `${FIXTURES}tools.json` }, out);
    assert.equal(code, 0, out.err);
    assert.ok(out.out.startsWith('<|im_start|>system\nYou are a weather bot.\n\n# Tools\n'));
    // JSON-string arguments reach the template as an object, as vLLM passes them.
    assert.ok(out.out.includes('<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris", "days": 2}}\n</tool_call><|im_end|>'));
    assert.ok(out.out.endsWith('</tool_response><|im_end|>\n<|im_start|>assistant\n'));
    assert.equal(out.err, '');
  });

  it('honours --no-generation-prompt and --var values parsed as JSON', async () => {
    const plain = io();
    await renderAction({ template: `${FIXTURES}qwen3-style.jinja`, messages: `${FIXTURES}messages.json`, generationPrompt: false }, plain);
    assert.ok(plain.out.endsWith('</tool_response><|im_end|>\n'));
    const noThink = io();
    await renderAction({ template: `${FIXTURES}qwen3-style.jinja`, messages: `${FIXTURES}messages.json`, var: ['enable_thinking=false'] }, noThink);
    assert.ok(noThink.out.endsWith('<|im_start|>assistant\n<think>\n\n</think>\n\n'));
    assert.deepEqual(parseVars(['enable_thinking=false', 'n=3', 'name=Ada', 'obj={"a":1}', 'eq=a=b']), { enable_thinking: false, n: 3, name: 'Ada', obj: { a: 1 }, eq: 'a=b' });
    assert.throws(() => parseVars(['novalue']), /--var: got "novalue" \(expected key=value/);
  });

  it('names the field of a bad messages file and the line of a bad template', async () => {
    const badMessages = io();
    assert.equal(await renderAction({ template: `${FIXTURES}qwen3-style.jinja`, messages: `${FIXTURES}bad-messages.yaml` }, badMessages), 2);
    assert.match(badMessages.err, /bad-messages\.yaml: messages\.3\.role: expected one of system\|developer\|user\|assistant\|tool/);
    const badTemplate = io();
    assert.equal(await renderAction({ template: `${FIXTURES}bad-syntax.jinja`, messages: `${FIXTURES}messages.json` }, badTemplate), 2);
    assert.match(badTemplate.err, /bad-syntax\.jinja: line 4: template syntax error/);
    const missing = io();
    assert.equal(await renderAction({ template: `${FIXTURES}qwen3-style.jinja`, messages: `${FIXTURES}missing.json` }, missing), 2);
    assert.match(missing.err, /--messages .*missing\.json: cannot read the file/);
  });

  it("exits non-zero with the template's own raise_exception message", async () => {
    const out = io();
    assert.equal(await renderAction({ template: `${FIXTURES}qwen3-style.jinja`, messages: `${FIXTURES}content-parts.json` }, out), 1);
    assert.match(out.err, /the template raised an exception: message 0: content must be a string/);
    assert.equal(out.out, '');
  });
});

describe('gauntlet parse', () => {
  const completion = 'I need the weather.\n</think>\n\n<minimax:tool_call>\n<invoke name="get_weather">\n<parameter name="city">Paris</parameter>\n<parameter name="days">2</parameter>\n</invoke>\n</minimax:tool_call>';

  it('prints one JSON document with typed arguments when given tools', async () => {
    const out = io(completion);
    assert.equal(await parseAction({ format: 'minimax-xml', tools: `${FIXTURES}tools.json` }, out), 0);
    assert.deepEqual(JSON.parse(out.out), {
      reasoning: 'I need the weather.',
      content: '',
      tool_calls: [{ name: 'get_weather', arguments: { city: 'Paris', days: 2 } }],
      errors: [],
    });
  });

  it('exits 0 whatever the model wrote, listing the errors', async () => {
    const out = io('<tool_call>\n{"name": "get_weather", "arguments": {\n');
    assert.equal(await parseAction({ format: 'hermes', tools: `${FIXTURES}tools.json` }, out), 0);
    const json = JSON.parse(out.out) as { content: string; tool_calls: unknown[]; errors: { kind: string }[] };
    assert.deepEqual(json.tool_calls, []);
    assert.equal(json.content, '<tool_call>\n{"name": "get_weather", "arguments": {');
    assert.deepEqual(json.errors.map((e) => e.kind), ['bad_json', 'unclosed_block']);
    const unusable = io('<tool_call>\n{"name": "get_weather", "arguments": "{}"}\n</tool_call>');
    await parseAction({ format: 'hermes' }, unusable);
    assert.deepEqual((JSON.parse(unusable.out) as { tool_calls: unknown[] }).tool_calls, [{ name: 'get_weather', arguments: null, arguments_text: '"{}"' }]);
  });

  it('takes where reasoning starts from the flags, or reads it off a rendered prompt', async () => {
    const text = 'plan\n</think>\n\nanswer';
    const parse = async (flags: Omit<ParseFlags, 'format'>): Promise<[string | null, string]> => {
      const out = io(text);
      assert.equal(await parseAction({ format: 'hermes', ...flags }, out), 0, out.err);
      const json = JSON.parse(out.out) as { reasoning: string | null; content: string };
      return [json.reasoning, json.content];
    };
    assert.deepEqual(await parse({}), [null, text]);
    assert.equal((await parse({ promptOpensThink: true }))[0], 'plan');
    assert.equal((await parse({ thinkingOpen: true }))[0], 'plan');
    assert.deepEqual(await parse({ thinking: false, promptOpensThink: true }), [null, text]);
    const dir = mkdtempSync(join(tmpdir(), 'gauntlet-parse-'));
    try {
      writeFileSync(join(dir, 'open.txt'), '<|im_start|>assistant\n<think>\n');
      writeFileSync(join(dir, 'off.txt'), '<|im_start|>assistant\n<think>\n\n</think>\n\n');
      assert.deepEqual(await parse({ prompt: join(dir, 'open.txt') }), ['plan', 'answer']);
      assert.deepEqual(await parse({ prompt: join(dir, 'off.txt') }), [null, text]);
      const both = io(text);
      assert.equal(await parseAction({ format: 'hermes', prompt: join(dir, 'open.txt'), promptOpensThink: false }, both), 2);
      assert.match(both.err, /--prompt: given with --prompt-opens-think/);
      const missing = io(text);
      assert.equal(await parseAction({ format: 'hermes', prompt: join(dir, 'nope.txt') }, missing), 2);
      assert.match(missing.err, /--prompt .*nope\.txt: cannot read the file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('parses every registered format', async () => {
    const out = io('<|channel|>final<|message|>Hi.<|return|>');
    assert.equal(await parseAction({ format: 'harmony' }, out), 0);
    assert.equal((JSON.parse(out.out) as { content: string }).content, 'Hi.');
  });

  it('rejects an unknown format and unreadable tools with exit code 2', async () => {
    const unknown = io('x');
    assert.equal(await parseAction({ format: 'xml' }, unknown), 2);
    assert.match(unknown.err, /--format: unknown tool-call format "xml" \(expected one of minimax-xml\|hermes\|openai-json\|qwen3-coder\|glm-4\.5\|kimi-k2\|deepseek-v3\.1\|harmony\)/);
    const noTools = io('x');
    assert.equal(await parseAction({ format: 'hermes', tools: `${FIXTURES}nope.json` }, noTools), 2);
  });

  it('registers both commands on a commander program', () => {
    const program = new Command('gauntlet');
    registerFormatCommands(program, { stdout: () => {}, stderr: () => {} });
    assert.deepEqual(program.commands.map((c) => c.name()), ['render', 'parse']);
    const render = program.commands[0];
    assert.ok(render?.options.some((o) => o.long === '--no-generation-prompt'));
    const parse = program.commands[1];
    for (const flag of ['--prompt-opens-think', '--no-prompt-opens-think', '--no-thinking', '--prompt']) assert.ok(parse?.options.some((o) => o.long === flag), flag);
  });
});
