// Hostile and broken model directories, as a downloaded repository can hold them: tokenizer.json,
// tokenizer_config.json and chat_template.jinja files that are cut off, not UTF-8, oversized, or
// valid JSON saying something the engine's own loader would refuse.
import assert from 'node:assert/strict';
import { symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { InputError } from '../core/index.ts';
import { locateSyntaxError } from './jinja-diagnostics.ts';
import { lex } from './jinja-syntax.ts';
import { MAX_MODEL_FILE_BYTES } from './model-files.ts';
import { createChatTemplate, loadChatTemplate, MAX_TEMPLATE_CHARS, MAX_TEMPLATE_WHITESPACE_RUN } from './template.ts';
import { TokenizerInputError, createTokenizer, loadTokenizer } from './tokenizer.ts';
import { nestedRepetition } from './tokenizer-check.ts';
import { modelDir, tinyTokenizerJson } from './test-support.ts';

const dirs: { remove: () => void }[] = [];
after(() => dirs.forEach((dir) => dir.remove()));
function model(files: Parameters<typeof modelDir>[0]): string {
  const made = modelDir(files);
  dirs.push(made);
  return made.dir;
}

/** Rejects with an InputError whose message matches every pattern. */
async function refuses(promise: Promise<unknown>, ...patterns: RegExp[]): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof InputError, String(error));
    for (const pattern of patterns) assert.match(error.message, pattern);
    return true;
  });
}

const TEMPLATE = '{% for m in messages %}[{{ m.role }}] {{ m.content }}{{ eos_token }}{% endfor %}';
const hi = [{ role: 'user' as const, content: 'hi' }];

describe('tokenizer.json that the engine would refuse', () => {
  it('refuses a model type it does not know instead of guessing one', async () => {
    const json = tinyTokenizerJson();
    (json.model as Record<string, unknown>).type = 'Banana';
    await refuses(loadTokenizer(model({ 'tokenizer.json': json })), /tokenizer\.json: model\.type: is "Banana" \(expected one of BPE, WordPiece, WordLevel, Unigram\)/);
    const none = tinyTokenizerJson() as Record<string, unknown>;
    delete none.model;
    await refuses(loadTokenizer(model({ 'tokenizer.json': none })), /tokenizer\.json: model: is missing or not an object/);
  });

  it('refuses merges of tokens the vocabulary lacks, as the BPE builder does', async () => {
    const json = tinyTokenizerJson();
    json.model.merges = ['a b', 'q zz'];
    await refuses(loadTokenizer(model({ 'tokenizer.json': json })), /model\.merges\.0: \("a" \+ "b"\) needs "ab", which is not in model\.vocab/);
    json.model.vocab.ab = 300;
    json.model.merges = [['a', 'b'], 'q zz'];
    await refuses(loadTokenizer(model({ 'tokenizer.json': json })), /model\.merges\.1: \("q" \+ "zz"\) needs "zz"/);
    json.model.merges = ['a b c'];
    await refuses(loadTokenizer(model({ 'tokenizer.json': json })), /model\.merges\.0: is "a b c" \(expected two tokens/);
  });

  it('refuses empty, duplicated and out-of-range added tokens and ids, naming the entry', async () => {
    const load = (added: { id: number; content: string }[]) => loadTokenizer(model({ 'tokenizer.json': tinyTokenizerJson({ added }) }));
    // An empty added token would split the text before every character.
    await refuses(load([{ id: 256, content: '<eos>' }, { id: 257, content: '' }]), /added_tokens\.1\.content: is ""/);
    await refuses(load([{ id: 256, content: '<eos>' }, { id: 257, content: '<eos>' }]), /added_tokens\.1: adds "<eos>" as id 257, but an earlier entry added it as id 256/);
    await refuses(load([{ id: 256, content: '<a>' }, { id: 256, content: '<b>' }]), /added_tokens\.1: gives id 256 to "<b>", but an earlier entry gave it to "<a>"/);
    await refuses(load([{ id: 1e15, content: '<a>' }]), /added_tokens\.0\.id: is 1000000000000000 \(expected a token id: an integer from 0 to 4294967295\)/);
    const json = tinyTokenizerJson();
    json.model.vocab.a = -5;
    await refuses(loadTokenizer(model({ 'tokenizer.json': json })), /model\.vocab\["a"\]: is -5/);
  });

  it('refuses a pattern that nests repetition, which JavaScript could not stop once it backtracks', async () => {
    const json = tinyTokenizerJson() as Record<string, unknown>;
    json.pre_tokenizer = { type: 'Sequence', pretokenizers: [{ type: 'Split', pattern: { Regex: '(a+)+b' }, behavior: 'Isolated', invert: false }, { type: 'ByteLevel', add_prefix_space: false, use_regex: false }] };
    await refuses(loadTokenizer(model({ 'tokenizer.json': json })), /pre_tokenizer\.pretokenizers\.0\.pattern\.Regex: repeats "\(a\+\)\+", a group that itself repeats/);
    for (const bad of ['(x+x+)+y', '(a*)*', '(?:\\s+\\S)+', '(a{1,})+', '((ab)+){2,5}']) assert.ok(nestedRepetition(bad), bad);
    // The pre-tokenizer patterns of GPT-2, Llama 3 / Qwen and o200k repeat single atoms only.
    for (const published of [
      "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
      "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
      "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
      ' {2,}',
      '[(]+)+',
      '\\(a+\\)+',
    ]) {
      assert.equal(nestedRepetition(published), undefined, published);
    }
  });

  it('names text the vocabulary has no id for instead of returning ids with holes', async () => {
    const json = tinyTokenizerJson();
    delete json.model.vocab.c;
    const tokenizer = await createTokenizer(json);
    assert.equal(tokenizer.decode(tokenizer.encode('ab ba', { addSpecialTokens: false })), 'ab ba');
    assert.throws(() => tokenizer.encode('ab cab', { addSpecialTokens: false }), (error: unknown) => error instanceof TokenizerInputError && /token 3 of the text at character 3 \("cab"…\) has no id in this tokenizer's vocabulary/.test(error.message));
  });

  it('reads a tokenizer.json that leaves out optional parts as having none, as HF does', async () => {
    const json = tinyTokenizerJson() as Record<string, unknown>;
    for (const key of ['added_tokens', 'normalizer', 'post_processor']) delete json[key];
    const tokenizer = await loadTokenizer(model({ 'tokenizer.json': json }));
    assert.equal(tokenizer.decode(tokenizer.encode('héllo', { addSpecialTokens: true })), 'héllo');
  });

  it('refuses files that are not UTF-8, carry a byte order mark, or are too large to parse, before parsing them', async () => {
    const text = JSON.stringify(tinyTokenizerJson({ added: [{ id: 256, content: '<eos>' }] }));
    const latin1 = Buffer.from(text.replace('<eos>', '<\u00e9os>'), 'latin1');
    await refuses(loadTokenizer(model({ 'tokenizer.json': latin1 })), /tokenizer\.json: is not valid UTF-8 \(line 1, byte \d+: e9 6f 73 3e\)/);
    await refuses(loadTokenizer(model({ 'tokenizer.json': `\uFEFF${text}` })), /tokenizer\.json: starts with a UTF-8 byte order mark/);
    await refuses(loadTokenizer(model({ 'tokenizer.json': text.slice(0, 200) })), /tokenizer\.json: is not valid JSON/);
    // A sparse file: its size is known without a byte of it written or read.
    const dir = model({});
    const huge = join(dir, 'tokenizer.json');
    writeFileSync(huge, '');
    truncateSync(huge, MAX_MODEL_FILE_BYTES + 1);
    await refuses(loadTokenizer(dir), /tokenizer\.json: is 128\.0 MiB, more than the 128\.0 MiB read from one file/);
  });
});

describe('tokenizer_config.json and chat_template.jinja that cannot be read as written', () => {
  it('refuses a template that is not UTF-8 instead of rendering U+FFFD in its place', async () => {
    const dir = model({ 'chat_template.jinja': Buffer.concat([Buffer.from('ok\n['), Buffer.from([0xff, 0xfe]), Buffer.from(`]${TEMPLATE}`)]) });
    await refuses(loadChatTemplate(dir), /chat_template\.jinja: is not valid UTF-8 \(line 2, byte 4: ff fe/);
    await refuses(loadChatTemplate(model({ 'weights.bin': Buffer.from([0x08, 0, 0, 0, 0x80, 0x81]) }) + '/weights.bin'), /weights\.bin: is not valid UTF-8/);
    // A byte order mark stays, as transformers (reading the file as `utf-8`) renders it too.
    const bom = await loadChatTemplate(model({ 'chat_template.jinja': `\uFEFF${TEMPLATE}` }));
    assert.deepEqual(bom.render({ messages: hi }), { ok: true, text: '\uFEFF[user] hi', templateName: 'default' });
  });

  it('names a byte order mark in tokenizer_config.json instead of an invisible unexpected token', async () => {
    await refuses(loadChatTemplate(model({ 'tokenizer_config.json': `\uFEFF${JSON.stringify({ chat_template: TEMPLATE })}` })), /tokenizer_config\.json: starts with a UTF-8 byte order mark/);
  });

  it('refuses two templates of one name and special tokens of the wrong type, naming the field', async () => {
    await refuses(loadChatTemplate(model({ 'tokenizer_config.json': { chat_template: [{ name: 'default', template: 'A' }, { name: 'default', template: 'B' }] } })), /chat_template\.1: is a second template named "default"/);
    await refuses(loadChatTemplate(model({ 'tokenizer_config.json': { chat_template: TEMPLATE, eos_token: 5 } })), /tokenizer_config\.json: eos_token: is 5 \(expected a token: a string or \{"content": string, …\}\)/);
    await refuses(loadChatTemplate(model({ 'tokenizer_config.json': { chat_template: TEMPLATE, eos_token: { __type: 'AddedToken' } } })), /eos_token: is \{"__type":"AddedToken"\}/);
    await refuses(loadChatTemplate(model({ 'tokenizer_config.json': { chat_template: TEMPLATE, additional_special_tokens: ['<a>', 7] } })), /additional_special_tokens\.1: is 7/);
    const fine = await loadChatTemplate(model({ 'tokenizer_config.json': { chat_template: TEMPLATE, eos_token: { content: '</s>', lstrip: false }, pad_token: null } }));
    assert.deepEqual(fine.specialTokens, { eos_token: '</s>' });
  });

  it('says what a model directory lacks, and does not pass over a chat_template.jinja it cannot read', async () => {
    await refuses(loadChatTemplate(model({ 'config.json': '{}' })), /holds neither chat_template\.jinja nor tokenizer_config\.json/);
    const dir = model({ 'tokenizer_config.json': { chat_template: 'from the config' } });
    symlinkSync(join(dir, 'chat_template.jinja'), join(dir, 'chat_template.jinja'));
    await refuses(loadChatTemplate(dir), /chat_template\.jinja: cannot read it \(ELOOP/);
  });

  it('reads named templates saved beside chat_template.jinja, as transformers saves them', async () => {
    const dir = model({
      'chat_template.jinja': 'plain {{ eos_token }}',
      'additional_chat_templates/tool_use.jinja': 'tools: {{ tools | length }}',
      'tokenizer_config.json': { eos_token: '</s>' },
    });
    const template = await loadChatTemplate(dir);
    assert.deepEqual(template.names, ['default', 'tool_use']);
    assert.deepEqual(template.render({ messages: hi }), { ok: true, text: 'plain </s>', templateName: 'default' });
    assert.deepEqual(template.render({ messages: hi, tools: [{ type: 'function', function: { name: 'f' } }] }), { ok: true, text: 'tools: 1', templateName: 'tool_use' });
  });
});

describe('templates whose size would take the lexer minutes', () => {
  it('refuses a whitespace run longer than any published template has, naming its line, before lexing', () => {
    const run = ' '.repeat(MAX_TEMPLATE_WHITESPACE_RUN);
    assert.ok(createChatTemplate(`a\n{{ x${run}}}`));
    // 20,000 spaces take the lexer a second; each tenfold adds a hundredfold.
    assert.throws(() => createChatTemplate(`a\nb\n{{ x${' '.repeat(20_000)}}}`), /inline template: line 3: holds a run of 20,000 whitespace characters, more than 1,000/);
    assert.throws(() => createChatTemplate(`{#${' \n'.repeat(10_000)}#}`), /line 1: holds a run of 20,000 whitespace characters/);
  });

  it('refuses a template over the size limit, inline or as a file', async () => {
    assert.throws(() => createChatTemplate('x'.repeat(MAX_TEMPLATE_CHARS + 1), { where: 'cfg.json' }), /cfg\.json: the template is 1,048,577 characters, more than 1,048,576/);
    await refuses(loadChatTemplate(model({ 'chat_template.jinja': 'x'.repeat(MAX_TEMPLATE_CHARS + 1) })), /chat_template\.jinja: is 1\.0 MiB, more than the 1\.0 MiB read from a chat template/);
  });

  it('finds the line of a lexer error in a number of lexes logarithmic in the template length', () => {
    const lexes = (lines: number): number => {
      let calls = 0;
      const found = locateSyntaxError(`${'x\n'.repeat(lines)}{{ a ; b }}`, (source) => {
        calls++;
        return lex(source);
      });
      assert.deepEqual(found, { line: lines + 1, message: 'Unexpected character: ;' });
      return calls;
    };
    const [small, large] = [lexes(1_000), lexes(16_000)];
    // Sixteen times the lines: a scan would lex sixteen times as often; a binary search four more times.
    assert.ok(large <= small + 6, `${small} lexes for 1,000 lines, ${large} for 16,000`);
  });

  it('refuses to render input nested deeper than the rest of Gauntlet takes, instead of overflowing the stack', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const result = createChatTemplate(TEMPLATE).render({ messages: [{ role: 'user', content: 'hi', extra: deep } as never] });
    assert.ok(!result.ok && result.kind === 'limit', JSON.stringify(result));
    assert.match(result.message, /inline template: rendering refused: the messages nest arrays and objects more than 256 levels deep/);
  });
});
