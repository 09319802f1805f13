import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { jsonSchemaFor, PUBLISHED_SCHEMAS, type SchemaName } from '../src/cli/commands/schema.ts';
import { environmentNames, getEnvironment, loadTaskFile } from '../src/envs/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'gauntlet-tasks-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const good = `id: mail/demo
env: mail
instruction: Reply to Ada.
verifier: { checks: [{ check: answer_contains, values: [ok] }] }
golden: { steps: [], answer: ok }
tags: { domain: mail, difficulty: easy }
`;

describe('task files', () => {
  it('loads a valid file', () => {
    const [task] = loadTaskFile(file('good.yaml', good));
    assert.equal(task!.id, 'mail/demo');
    assert.equal(task!.limits.maxTurns, 50);
  });

  it('names the file, the line and the field of a bad value', () => {
    const path = file('bad.yaml', good.replace('difficulty: easy', 'difficulty: trivial'));
    assert.throws(() => loadTaskFile(path), (error: Error) => {
      assert.match(error.message, new RegExp(`${path.replace(/[.]/g, '\\.')}:6: field tags\\.difficulty: .*"easy"`));
      return true;
    });
  });

  it('refuses the domain __proto__, which reports and gate rules keyed by domain would drop without a word', () => {
    const path = file('proto-domain.yaml', good.replace('domain: mail', 'domain: __proto__'));
    assert.throws(() => loadTaskFile(path), (error: Error) => /field tags\.domain: .*__proto__/.test(error.message));
  });

  it('names a missing field and YAML syntax errors by line', () => {
    assert.throws(() => loadTaskFile(file('missing.yaml', good.replace(/^instruction:.*\n/m, ''))), /missing\.yaml:1: field instruction: missing \(expected a string\)/);
    assert.throws(() => loadTaskFile(file('no-tags.yaml', good.replace(/^tags:.*\n/m, ''))), /no-tags\.yaml:1: field tags: missing \(expected an object\)/);
    assert.throws(() => loadTaskFile(file('syntax.yaml', 'id: [unclosed\n')), /syntax\.yaml:\d+: not valid YAML/);
    assert.throws(() => loadTaskFile(join(dir, 'absent.yaml')), /absent\.yaml: cannot read task file \(ENOENT\)/);
  });

  it('reports the index of a bad task in a list', () => {
    const path = file('list.yaml', `tasks:\n  - ${good.replace(/\n/g, '\n    ').trim()}\n  - id: x\n    env: mail\n`);
    assert.throws(() => loadTaskFile(path), /list\.yaml:\d+: field instruction/);
  });
});

describe('published JSON Schemas', () => {
  it('schemas/ matches the zod schemas (regenerate with `gauntlet schema NAME`)', () => {
    for (const name of Object.keys(PUBLISHED_SCHEMAS) as SchemaName[]) {
      const committed = JSON.parse(readFileSync(`schemas/${name}.schema.json`, 'utf8'));
      assert.deepEqual(committed, jsonSchemaFor(name), `schemas/${name}.schema.json is stale`);
    }
  });

  it('every built-in task validates against schemas/task.schema.json', () => {
    const ajv = new Ajv2020({ strict: false });
    const validate = ajv.compile(JSON.parse(readFileSync('schemas/task.schema.json', 'utf8')));
    let count = 0;
    for (const env of environmentNames()) {
      for (const task of getEnvironment(env).tasks()) {
        assert.ok(validate(task), `${task.id}: ${ajv.errorsText(validate.errors)}`);
        count++;
      }
    }
    assert.ok(count > 0);
  });
});
