import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { VerifyContext } from './define.ts';
import { genericChecks } from './checks.ts';

describe('generic checks', () => {
  it('table_unchanged excepts whole keys only, whatever the agent put in a key', async () => {
    const check = genericChecks.table_unchanged!;
    const initial = { kv: [{ key: 'alpha', value: '1' }, { key: 'gamma', value: '3' }] };
    const run = async (rows: object[]) => (await check.run(check.params.parse({ table: 'kv', key: 'key', except: ['alpha'] }), { initial, final: { kv: rows } } as unknown as VerifyContext)).passed;
    assert.equal(await run([{ key: 'alpha', value: 'one' }, { key: 'gamma', value: '3' }]), true);
    assert.equal(await run([{ key: 'alpha', value: '1' }, { key: 'gamma', value: '3' }, { key: 'alpha beta', value: 'x' }]), false, 'a new key that starts with an excepted one');
    assert.equal(await run([{ key: 'alpha', value: '1' }, { key: 'gamma', value: '3' }, { key: 'alpha ', value: 'x' }]), false, 'a trailing space');
  });
});
