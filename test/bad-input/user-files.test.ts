// Every loader of a file a person hands Gauntlet (tasks, suites, reward configs, rubrics, scripts,
// run settings, eval suites, review rubrics) takes it through one reading path: bounded, regular
// files only, strict UTF-8, one set of YAML rules. Each attack is tried against every loader.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { InputError, parseInputText, readInputFile } from '../../src/core/index.ts';
import { loadSuite as loadEvalSuite } from '../../src/cli/commands/eval-suite.ts';
import { loadTaskFile } from '../../src/envs/index.ts';
import { loadScript } from '../../src/model/script.ts';
import { loadSuite } from '../../src/perturb/suite.ts';
import { loadRewardConfig } from '../../src/reward/config.ts';
import { loadRubric } from '../../src/reward/rubric.ts';

const dir = mkdtempSync(join(tmpdir(), 'gauntlet-user-files-'));
const file = (name: string, content: string | Buffer) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};

const TASK = 'id: notes/t1\nenv: notes\ninstruction: "Do it."\nverifier: { checks: [{ check: table_unchanged, table: pages }] }\ngolden: { steps: [] }\ntags: { domain: d, difficulty: easy }\n';

const LOADERS: Record<string, (path: string) => unknown> = {
  'task file': (p) => loadTaskFile(p),
  'perturbation suite': (p) => loadSuite(p),
  'reward config': (p) => loadRewardConfig(p),
  rubric: (p) => loadRubric(p),
  'model script': (p) => loadScript(p),
  'eval suite': (p) => loadEvalSuite(p),
};

async function refusal(load: (path: string) => unknown, path: string): Promise<InputError> {
  try {
    await load(path);
  } catch (error) {
    assert.ok(error instanceof InputError, `an InputError, not ${String(error)}`);
    return error;
  }
  assert.fail(`${path} was accepted`);
}

describe('files people hand Gauntlet', () => {
  const fifo = join(dir, 'fifo.yaml');
  execFileSync('mkfifo', [fifo]);
  const latin1 = file('latin1.yaml', Buffer.concat([Buffer.from('id: x\ninstruction: caf'), Buffer.from([0xe9]), Buffer.from('\n')]));
  const loop = join(dir, 'loop.yaml');
  symlinkSync(loop, loop);
  const bomb = file('bomb.yaml', ['a: &a [x, x, x, x, x, x, x, x, x]', ...'bcdefg'.split('').map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdefg'[i]}`).join(', ')}]`)].join('\n'));
  const deep = file('deep.yaml', `a: ${'['.repeat(5000)}${']'.repeat(5000)}\nb: [`);

  for (const [name, load] of Object.entries(LOADERS)) {
    describe(name, () => {
      it('refuses a FIFO by its kind instead of waiting forever for a writer', { timeout: 30_000 }, async () => {
        assert.match((await refusal(load, fifo)).message, /fifo\.yaml: is a FIFO \(named pipe\); not read/);
      });

      it('refuses a device such as /dev/zero instead of reading it until memory runs out', { timeout: 30_000 }, async () => {
        assert.match((await refusal(load, '/dev/zero')).message, /\/dev\/zero: is a device; not read/);
      });

      it('refuses bytes that are not UTF-8, naming line and byte, instead of reading U+FFFD', async () => {
        assert.match((await refusal(load, latin1)).message, /latin1\.yaml: is not valid UTF-8 \(line 2, byte 22: e9 0a\)/);
      });

      it('refuses a directory and a symbolic link loop with the reason', async () => {
        assert.match((await refusal(load, dir)).message, /is a directory/);
        assert.match((await refusal(load, loop)).message, /loop\.yaml.*(ELOOP|neither a file)/);
      });

      it('reports an alias bomb as a bad file, not a crash', async () => {
        assert.match((await refusal(load, bomb)).message, /bomb\.yaml: not a usable YAML document/);
      });

      it('refuses deep nesting by line, twice in one process (the second overflow used to abort Node)', async () => {
        for (let i = 0; i < 2; i++) assert.match((await refusal(load, deep)).message, /deep\.yaml(:1)?: nests lists and mappings more than 256 levels deep/);
      });
    });
  }

  it('refuses a file larger than the bound before reading it', () => {
    const big = file('big.yaml', 'a: 1\n'.repeat(1000));
    assert.throws(() => readInputFile(big, { maxBytes: 1000 }), /big\.yaml: is 0\.0 MiB, more than the 0\.0 MiB read from one input file/);
  });

  it('reads a file with a byte order mark and CRLF line endings as the same tasks', () => {
    const plain = loadTaskFile(file('plain.yaml', TASK));
    assert.deepEqual(loadTaskFile(file('bom-crlf.yaml', `\uFEFF${TASK.replaceAll('\n', '\r\n')}`)), plain);
    assert.deepEqual(loadTaskFile(file('bom.json', `\uFEFF${JSON.stringify(plain[0])}`)), plain);
  });

  it('keeps yes, no and on as text (YAML 1.2), and refuses a %YAML 1.1 document that would make them booleans', () => {
    const [task] = loadTaskFile(file('norway.yaml', `${TASK}metadata: { country: no, answer: yes, light: on }\n`));
    assert.deepEqual(task!.metadata, { country: 'no', answer: 'yes', light: 'on' });
    assert.throws(() => loadTaskFile(file('yaml11.yaml', `%YAML 1.1\n---\n${TASK}`)), /yaml11\.yaml:1: not valid YAML: a %YAML 1\.1 document/);
  });

  it('refuses a __proto__ key, which zod would drop without a word', () => {
    assert.throws(() => loadTaskFile(file('proto.yaml', `${TASK}metadata: { __proto__: { owner: ada } }\n`)), /proto\.yaml:7: not valid YAML: the key __proto__ cannot be read/);
    assert.throws(() => loadTaskFile(file('proto.json', '{"metadata": {"__proto__": 1}}')), /proto\.json:1: not valid YAML: the key __proto__ cannot be read/);
  });

  it('names both lines of a key given twice, also when one is written as a number', () => {
    assert.throws(() => parseInputText('a: 1\nb: 2\na: 3\n', 'f.yaml', { lineInWhere: true }), /f\.yaml:3: not valid YAML: duplicate key "a" \(first at line 1\)/);
    assert.throws(() => parseInputText('1: a\n"1": b\n', 'f.yaml'), /f\.yaml: not valid YAML: duplicate key "1" at line 2 \(first at line 1\)/);
    assert.throws(() => parseInputText('{"a": 1,\n "a": 2}', 'f.json', { json: true }), /f\.json: not valid YAML: duplicate key "a" at line 2 \(first at line 1\)/);
  });

  it('reads numbers by YAML 1.2 and refuses those it cannot hold exactly', () => {
    assert.deepEqual(parseInputText('a: 0x10\nb: 0o17\nc: 017\nd: 1_000\ne: 9007199254740991\n', 'f.yaml').value, { a: 16, b: 15, c: 17, d: '1_000', e: 9007199254740991 });
    assert.throws(() => parseInputText('seed: 9007199254740993\n', 'f.yaml'), /the integer 9007199254740993 at line 1 is too large to hold exactly/);
    assert.throws(() => parseInputText('{"seed": 18446744073709551615}', 'f.json'), /the integer 18446744073709551615 at line 1 is too large/);
    assert.throws(() => parseInputText('x: 1e999\n', 'f.yaml'), /the number 1e999 at line 1 is out of range/);
  });

  it('refuses tags that would build something other than plain values', () => {
    for (const tag of ['!!js/function', '!!binary', '!!timestamp', '!custom']) {
      assert.throws(() => parseInputText(`a: ${tag} x\n`, 'f.yaml'), new RegExp(`the tag ${tag} at line 1 is not read`));
    }
    assert.deepEqual(parseInputText('a: !!str 12\n', 'f.yaml').value, { a: '12' });
  });

  it('refuses merge keys in Gauntlet files but merges them in a foreign file such as docker-compose.yaml', () => {
    const text = 'x: &x { image: a }\nservices:\n  web:\n    <<: *x\n';
    assert.throws(() => parseInputText(text, 'f.yaml'), /a merge key \(<<\) at line 4; merge keys are not supported/);
    assert.deepEqual(parseInputText(text, 'docker-compose.yaml', { foreign: true }).value, { x: { image: 'a' }, services: { web: { image: 'a' } } });
  });

  it('reads 100,000 tasks from one JSON file', () => {
    const one = loadTaskFile(file('one.yaml', TASK))[0]!;
    const tasks = Array.from({ length: 100_000 }, (_, i) => ({ ...one, id: `notes/t${i}` }));
    const loaded = loadTaskFile(file('many.json', JSON.stringify({ tasks })));
    assert.equal(loaded.length, 100_000);
    assert.equal(loaded[99_999]!.id, 'notes/t99999');
  });
});
