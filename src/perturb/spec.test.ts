import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InputError } from '../core/index.ts';
import { describePerturbations, parsePerturbationText, perturbationIds, resolvePerturbations, splitPerturbFlag } from './index.ts';

function inputError(fn: () => unknown): InputError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof InputError, `expected an InputError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected an InputError');
}

describe('perturbation specs', () => {
  it('reads ids, named parameters and a bare value for the parameter whose choices include it', () => {
    assert.deepEqual(parsePerturbationText('tools.rename'), { id: 'tools.rename', params: {} });
    assert.deepEqual(parsePerturbationText('prompts.system:verbose'), { id: 'prompts.system', params: { variant: 'verbose' } });
    assert.deepEqual(parsePerturbationText('scaffold.tools:native'), { id: 'scaffold.tools', params: { mode: 'native' } });
    assert.deepEqual(parsePerturbationText('scaffold.tools:text,format=minimax-xml'), { id: 'scaffold.tools', params: { mode: 'text', format: 'minimax-xml' } });
    assert.deepEqual(parsePerturbationText('responses.truncate:maxChars=800'), { id: 'responses.truncate', params: { maxChars: 800 } });
    assert.deepEqual(parsePerturbationText('tools.rename:style=case,parameters=false'), { id: 'tools.rename', params: { style: 'case', parameters: false } });
  });

  it('splits a --perturb value into specs, keeping name=value pairs with the spec before them', () => {
    assert.deepEqual(splitPerturbFlag('tools.rename,prompts.system:verbose'), ['tools.rename', 'prompts.system:verbose']);
    assert.deepEqual(splitPerturbFlag('tools.rename:style=case,parameters=false,responses.noise'), ['tools.rename:style=case,parameters=false', 'responses.noise']);
  });

  it('rejects an unknown id, listing every valid one and suggesting the nearest', () => {
    const error = inputError(() => resolvePerturbations(['tools.renam'], '--perturb'));
    assert.equal(error.where, '--perturb');
    assert.match(error.problem, /unknown perturbation "tools.renam" — did you mean tools.rename\?/);
    for (const id of perturbationIds()) assert.ok(error.expected?.includes(id), `${id} listed`);
  });

  it('rejects bad parameters, naming the field and listing the valid parameters with their choices', () => {
    const bad = inputError(() => resolvePerturbations(['tools.rename:style=weird']));
    assert.match(bad.message, /tools\.rename/);
    assert.match(bad.message, /params\.style/);
    assert.match(bad.expected ?? '', /style=synonym\|opaque\|case\|namespace \(default "synonym"\), parameters=boolean \(default true\)/);
    const unknown = inputError(() => resolvePerturbations(['responses.truncate:colour=red']));
    assert.match(unknown.message, /colour/);
    const range = inputError(() => resolvePerturbations(['responses.truncate:maxChars=5']));
    assert.match(range.message, /maxChars/);
    const budget = inputError(() => resolvePerturbations(['scaffold.budget']));
    assert.match(budget.message, /give turns, contextTokens or both/);
  });

  it('names a parameter called like an Object.prototype property as unknown, not as given twice or silently dropped', () => {
    for (const name of ['constructor', 'toString', '__proto__']) {
      const error = inputError(() => resolvePerturbations([`tools.rename:${name}=1`]));
      assert.match(error.message, new RegExp(`Unrecognized key: "${name}"`), name);
      assert.doesNotMatch(error.message, /given twice/, name);
    }
    assert.deepEqual(Object.keys(parsePerturbationText('tools.rename:__proto__=1').params), ['__proto__']);
  });

  it('takes a bare language as the language variant, and refuses a language with another variant', () => {
    assert.deepEqual(resolvePerturbations(['prompts.system:fr']).specs[0]?.params, { variant: 'language', language: 'fr' });
    assert.match(inputError(() => resolvePerturbations(['prompts.system:verbose,language=fr'])).message, /params\.language: a language goes with variant=language/);
  });

  it('rejects a perturbation given twice and two that choose the same setting', () => {
    assert.match(inputError(() => resolvePerturbations(['tools.rename', 'tools.rename:opaque'])).message, /tools\.rename is given twice/);
    assert.match(inputError(() => resolvePerturbations(['scaffold.thinking', 'scaffold.tools'])).message, /scaffold\.thinking and scaffold\.tools both choose the scaffold/);
  });

  it('resolves into catalog order with defaults filled in, whatever order they were given in', () => {
    const a = resolvePerturbations(['prompts.system', 'tools.rename:opaque', 'environment.reseed']);
    const b = resolvePerturbations([{ id: 'environment.reseed' }, { id: 'tools.rename', params: { style: 'opaque' } }, 'prompts.system']);
    assert.deepEqual(a.specs, b.specs);
    assert.deepEqual(
      a.specs.map((s) => s.id),
      ['environment.reseed', 'tools.rename', 'prompts.system'],
    );
    assert.deepEqual(a.specs[1]?.params, { style: 'opaque', parameters: true });
    assert.deepEqual(a.specs[2]?.params, { variant: 'terse' });
  });

  it('describes every perturbation with its parameters', () => {
    const lines = describePerturbations();
    assert.equal(lines.length, perturbationIds().length);
    assert.ok(lines.some((l) => l.startsWith('responses.format:') && l.includes('as=json|text|table')));
  });
});
