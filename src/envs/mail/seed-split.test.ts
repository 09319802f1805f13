import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rowsOf } from '../state.ts';
import { episode, fixtureTask } from '../test-support.ts';
import { mail } from './index.ts';

// The mailbox is seeded in two parts (the task's fixtures from a cached image, then background
// mail per seed); what the first part keeps beside the database must reach the second.

/** The first id the background would give a message: the id formula of newId for msg number 1. */
const FIRST_GENERATED = 'msg_8488';

describe('mail seeding from a task image', () => {
  it('keeps background mail off ids the task reserves for mail that arrives later', async () => {
    const fixtures = {
      background: { min: 5, max: 6 },
      schedule: [{ event: 'new_mail_arrives', afterCalls: 1, params: { id: FIRST_GENERATED, from: 'dana@example.com', subject: 'Later', body: 'Arrives after one call.' } }],
    };
    const env = await episode(mail, fixtureTask('mail', fixtures, [{ check: 'answer_contains', text: 'x' }]));
    const ids = rowsOf(await env.snapshot(), 'messages').map((m) => m.id);
    assert.ok(ids.length >= 5);
    assert.ok(!ids.includes(FIRST_GENERATED), `background took the reserved ${FIRST_GENERATED}`);
    await env.call('list_folders', {}, { signal: new AbortController().signal });
    assert.ok(rowsOf(await env.snapshot(), 'messages').some((m) => m.id === FIRST_GENERATED && m.subject === 'Later'));
    await env.close();
  });

  it('files mail that arrives later into the fixture thread its key names', async () => {
    const fixtures = {
      background: false,
      messages: [{ id: 'msg_1000', thread: 'deal', from: 'dana@example.com', subject: 'Deal', body: 'First.' }],
      schedule: [{ event: 'new_mail_arrives', afterCalls: 1, params: { id: 'msg_1001', thread: 'deal', from: 'dana@example.com', subject: 'Re: Deal', body: 'Second.' } }],
    };
    const env = await episode(mail, fixtureTask('mail', fixtures, [{ check: 'answer_contains', text: 'x' }]));
    await env.call('list_folders', {}, { signal: new AbortController().signal });
    const rows = rowsOf(await env.snapshot(), 'messages');
    const thread = (id: string) => rows.find((m) => m.id === id)?.thread_id;
    assert.ok(thread('msg_1000'));
    assert.equal(thread('msg_1001'), thread('msg_1000'));
    await env.close();
  });
});
