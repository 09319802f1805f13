// `gauntlet render` and `gauntlet parse` given hostile inputs: message files that are not UTF-8 or
// nest without end, a var named __proto__, a completion on stdin with no end.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { InputError } from '../core/index.ts';
import { MAX_COMPLETION_BYTES, parseAction, parseVars, readCompletionStream, renderAction, type FormatsIo } from '../cli/commands/formats.ts';
import { modelDir } from './test-support.ts';

const TEMPLATE = new URL('../../test/fixtures/formats/qwen3-style.jinja', import.meta.url).pathname;

function io(stdin: () => Promise<string> = async () => ''): FormatsIo & { out: string; err: string } {
  const state = { out: '', err: '', stdout: (text: string) => void (state.out += text), stderr: (text: string) => void (state.err += text), stdin };
  return state;
}

const files = modelDir({
  'latin1.json': Buffer.concat([Buffer.from('[{"role": "user",\n "content": "caf'), Buffer.from([0xe9]), Buffer.from('"}]')]),
  'deep.json': `[{"role": "user", "content": "hi", "extra": ${'['.repeat(100_000)}${']'.repeat(100_000)}}]`,
  'bom.json': `\uFEFF${JSON.stringify([{ role: 'user', content: 'hi' }])}`,
  'hi.json': JSON.stringify([{ role: 'user', content: 'hi' }]),
});
after(files.remove);

describe('gauntlet render with hostile message files', () => {
  it('refuses a file that is not UTF-8, naming line and byte, instead of rendering U+FFFD', async () => {
    const out = io();
    assert.equal(await renderAction({ template: TEMPLATE, messages: `${files.dir}/latin1.json` }, out), 2);
    assert.match(out.err, /--messages .*latin1\.json: is not valid UTF-8 \(line 2, byte 34: e9 22 7d 5d\)/);
    assert.equal(out.out, '');
  });

  it('refuses messages nested deeper than Gauntlet takes as bad input (exit 2), not as a template failure', async () => {
    const out = io();
    assert.equal(await renderAction({ template: TEMPLATE, messages: `${files.dir}/deep.json` }, out), 2);
    assert.match(out.err, /deep\.json: nests arrays and objects more than 256 levels deep/);
  });

  it('reads a JSON file saved with a byte order mark', async () => {
    const out = io();
    assert.equal(await renderAction({ template: TEMPLATE, messages: `${files.dir}/bom.json` }, out), 0, out.err);
    assert.equal(out.out, '<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n');
  });

  it('keeps a --var named __proto__ as a variable instead of setting the prototype', () => {
    const vars = parseVars(['__proto__={"enable_thinking": false}', 'a=1']);
    assert.deepEqual(Object.keys(vars), ['__proto__', 'a']);
    assert.deepEqual(Object.getOwnPropertyDescriptor(vars, '__proto__')?.value, { enable_thinking: false });
    assert.equal(Object.getPrototypeOf(vars), Object.prototype);
  });
});

describe('gauntlet parse with hostile stdin', () => {
  it('stops reading stdin once it holds more than a completion can, instead of holding it all', async () => {
    let pulled = 0;
    const chunk = Buffer.alloc(1024 * 1024, 'a');
    async function* endless(): AsyncGenerator<Buffer> {
      for (;;) {
        pulled++;
        yield chunk;
      }
    }
    await assert.rejects(readCompletionStream(endless()), (error: unknown) => error instanceof InputError && /stdin: holds more than 67,108,864 bytes/.test(error.message));
    assert.equal(pulled, MAX_COMPLETION_BYTES / chunk.length + 1);
  });

  it('refuses stdin that is not UTF-8 with exit 2, naming the byte', async () => {
    async function* bytes(): AsyncGenerator<Buffer> {
      yield Buffer.from('<tool_call>{"name": "f", "arguments": {"a": "caf');
      yield Buffer.from([0xe9]);
      yield Buffer.from('"}}</tool_call>');
    }
    const out = io(() => readCompletionStream(bytes()));
    assert.equal(await parseAction({ format: 'hermes' }, out), 2);
    assert.match(out.err, /gauntlet: stdin: is not valid UTF-8 \(line 1, byte 48: e9/);
  });
});
