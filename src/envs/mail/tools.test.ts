import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { Environment, JsonObject, JsonValue, ToolOutcome } from '../../core/index.ts';
import { rowsOf } from '../state.ts';
import { mailTasks } from './index.ts';
import { episode, signal, toolTask } from './test-support.ts';

type Data = { [key: string]: JsonValue };

async function call(env: Environment, tool: string, args: JsonObject): Promise<Data> {
  const out = await env.call(tool, args, { signal });
  assert.ok(out.ok, `${tool} failed: ${out.ok ? '' : out.error}`);
  return (out.data ?? {}) as Data;
}

async function fails(env: Environment, tool: string, args: JsonObject): Promise<Extract<ToolOutcome, { ok: false }>> {
  const out = await env.call(tool, args, { signal });
  assert.equal(out.ok, false, `${tool} should have failed`);
  return out as Extract<ToolOutcome, { ok: false }>;
}

const ids = (page: Data) => (page.messages as Data[]).map((m) => String(m.id));

const customer = { id: 'msg_1001', thread: 't', from: 'ana.sousa@client.example', fromName: 'Ana Sousa', cc: ['ops@client.example'], to: ['me@northwind.example', 'kai@northwind.example'], subject: 'Renewal question', body: `${'Intro text. '.repeat(12)}The renewal code is RN-8841.`, hoursAgo: 10 };

describe('mail tools', () => {
  it('pages search results 10 at a time, with a total and a cursor that visits each match once', async () => {
    const messages = Array.from({ length: 23 }, (_, i) => ({ id: `msg_${2000 + i}`, from: 'bot@pages.example', subject: `Pagetest ${i}`, body: 'x', hoursAgo: i + 1 }));
    const env = await episode(toolTask({ messages, background: { min: 40, max: 60 } }));
    const seen: string[] = [];
    let cursor: JsonValue = null;
    const sizes: number[] = [];
    do {
      const page = await call(env, 'search_messages', cursor ? { query: 'pagetest', cursor } : { query: 'pagetest' });
      assert.equal(page.total, 23);
      sizes.push(ids(page).length);
      seen.push(...ids(page));
      cursor = page.nextCursor ?? null;
    } while (cursor);
    assert.deepEqual(sizes, [10, 10, 3]);
    assert.deepEqual(seen, messages.map((m) => m.id), 'newest first, no repeats or gaps');
    const big = await call(env, 'search_messages', { query: 'pagetest', pageSize: 25 });
    assert.equal(ids(big).length, 23);
    assert.equal(big.nextCursor, null);
    assert.match((await fails(env, 'search_messages', { query: 'pagetest', cursor: 'page-2' })).error, /invalid cursor/);
    assert.match((await fails(env, 'search_messages', { pageSize: 500 })).error, /pageSize/);
    await env.close();
  });

  it('filters by words, phrases, folder, label, sender, unread and date, skipping trash unless asked', async () => {
    const env = await episode(toolTask({
      messages: [
        customer,
        { id: 'msg_1002', from: 'ana.sousa@client.example', subject: 'Lunch', body: 'Renewal of our lunch tradition?', hoursAgo: 50, read: true, labels: ['personal'] },
        { id: 'msg_1003', folder: 'trash', from: 'spam@junk.example', subject: 'Renewal offer', body: 'cheap', hoursAgo: 5 },
        { id: 'msg_1004', folder: 'archive', from: 'kai@northwind.example', subject: 'Re: renewal code', body: 'The code RN-8841 is live', hoursAgo: 200, read: true },
      ],
    }));
    const search = async (args: JsonObject) => ids(await call(env, 'search_messages', args)).sort();
    assert.deepEqual(await search({ query: 'renewal' }), ['msg_1001', 'msg_1002', 'msg_1004']);
    assert.deepEqual(await search({ query: 'renewal', folder: 'Trash' }), ['msg_1003']);
    assert.deepEqual(await search({ query: '"renewal code"' }), ['msg_1001', 'msg_1004']);
    assert.deepEqual(await search({ query: 'renewal lunch' }), ['msg_1002']);
    assert.deepEqual(await search({ label: 'Personal' }), ['msg_1002']);
    assert.deepEqual(await search({ from: 'sousa', unread: true }), ['msg_1001']);
    assert.deepEqual(await search({ to: 'kai@' }), ['msg_1001']);
    assert.deepEqual(await search({ after: '2026-03-07', before: '2026-03-09T12:00:00Z' }), ['msg_1002']);
    assert.match((await fails(env, 'search_messages', { folder: 'Receipts' })).error, /no folder named "Receipts"; folders: inbox, drafts, sent, archive, trash/);
    assert.match((await fails(env, 'search_messages', { label: 'nope' })).error, /no label "nope"; labels: personal/);
    assert.match((await fails(env, 'search_messages', { after: 'last tuesday' })).error, /after: a date like 2026-03-01/);
    await env.close();
  });

  it('matches words whatever their ASCII case, and other letters exactly as written, as lower() did', async () => {
    const env = await episode(toolTask({
      messages: [
        { id: 'msg_1101', from: 'RENE.DUPONT@Client.example', fromName: 'RENÉ DUPONT', subject: 'ÉTÉ Invoice Q3', body: 'Über-Report attached', hoursAgo: 3 },
        { id: 'msg_1102', from: 'lea@client.example', subject: 'été invoice q3', body: 'über-report attached', hoursAgo: 4 },
        { id: 'msg_1103', from: 'ops@client.example', subject: 'Nothing here', body: '100% done_now', hoursAgo: 5 },
      ],
      background: false,
    }));
    const search = async (args: JsonObject) => ids(await call(env, 'search_messages', args)).sort();
    assert.deepEqual(await search({ query: 'INVOICE q3' }), ['msg_1101', 'msg_1102']);
    assert.deepEqual(await search({ from: 'rene.DUPONT' }), ['msg_1101']);
    assert.deepEqual(await search({ from: 'René' }), [], 'the query is lower-cased, and É is not folded to é (only ASCII is)');
    assert.deepEqual(await search({ query: 'ÉTÉ' }), ['msg_1102'], 'ÉTÉ lower-cases to été, which only the lower-case subject holds');
    assert.deepEqual(await search({ query: 'über-report' }), ['msg_1102']);
    assert.deepEqual(await search({ query: '100%' }), ['msg_1103'], '% and _ are literal');
    assert.deepEqual(await search({ query: 'done_now' }), ['msg_1103']);
    assert.deepEqual(await search({ query: 'done_nox' }), []);
    // What the search relies on: SQLite's LIKE folds ASCII case, and only ASCII case, as lower() does.
    const db = new Database(':memory:');
    db.exec('CREATE TABLE t (v TEXT)');
    for (const v of ['RENÉ DUPONT', 'René Dupont', 'ÉTÉ Invoice Q3', 'été invoice q3', 'Über-Report', '100% done_now', 'ΣΊΣΥΦΟΣ', 'σίσυφος']) db.prepare('INSERT INTO t VALUES (?)').run(v);
    for (const pattern of ['%invoice q3%', '%été%', '%ÉTÉ%', '%über%', '%rené%', '%RENÉ%', '%σίσυφος%', '%100\\%%', '%done\\_now%']) {
      const lowered = db.prepare(`SELECT v FROM t WHERE lower(v) LIKE ? ESCAPE '\\' ORDER BY rowid`).all(pattern);
      const plain = db.prepare(`SELECT v FROM t WHERE v LIKE ? ESCAPE '\\' ORDER BY rowid`).all(pattern);
      assert.deepEqual(plain, lowered, pattern);
    }
    db.close();
    await env.close();
  });

  it('shows snippets in listings and the full body on read_message, which marks it read', async () => {
    const env = await episode(toolTask({ messages: [customer] }));
    const [hit] = (await call(env, 'search_messages', { query: 'renewal' })).messages as Data[];
    assert.ok(String(hit!.snippet).endsWith('…'));
    assert.ok(!String(hit!.snippet).includes('RN-8841'), 'the snippet must not give away the end of the body');
    assert.equal(hit!.read, false);
    const full = await call(env, 'read_message', { messageId: 'msg_1001' });
    assert.match(String(full.body), /RN-8841/);
    assert.deepEqual(full.cc, ['ops@client.example']);
    assert.equal(rowsOf(await env.snapshot(), 'messages')[0]!.read, 1);
    assert.match((await fails(env, 'read_message', { messageId: 'msg_9999' })).error, /no message with id "msg_9999"/);
    await env.close();
  });

  it('replies in the thread to the sender, and with replyAll to everyone but me', async () => {
    const env = await episode(toolTask({ messages: [customer] }));
    await call(env, 'reply', { messageId: 'msg_1001', body: 'Thanks!' });
    await call(env, 'reply', { messageId: 'msg_1001', body: 'Thanks all!', replyAll: true });
    const sent = rowsOf(await env.snapshot(), 'messages').filter((m) => m.folder === 'sent');
    assert.equal(sent.length, 2);
    assert.deepEqual([sent[0]!.to_addrs, sent[0]!.cc_addrs, sent[0]!.subject, sent[0]!.in_reply_to], ['ana.sousa@client.example', '', 'Re: Renewal question', 'msg_1001']);
    assert.deepEqual([sent[1]!.to_addrs, sent[1]!.cc_addrs], ['ana.sousa@client.example, kai@northwind.example', 'ops@client.example']);
    const thread = await call(env, 'read_thread', { messageId: 'msg_1001' });
    assert.equal((thread.messages as Data[]).length, 3);
    await env.close();
  });

  it('forwards the original text under the note, to new recipients', async () => {
    const env = await episode(toolTask({ messages: [customer] }));
    await call(env, 'forward', { messageId: 'msg_1001', to: ['Legal Team <legal@northwind.example>'], note: 'FYI, see the code.' });
    const fwd = rowsOf(await env.snapshot(), 'messages').find((m) => m.folder === 'sent')!;
    assert.equal(fwd.subject, 'Fwd: Renewal question');
    assert.equal(fwd.to_addrs, 'legal@northwind.example');
    assert.match(String(fwd.body), /^FYI, see the code\.\n\n---------- Forwarded message ----------\nFrom: Ana Sousa <ana.sousa@client.example>[\s\S]*RN-8841/);
    await env.close();
  });

  it('deletes to trash first and for good from trash', async () => {
    const env = await episode(toolTask({ messages: [customer] }));
    assert.match((await env.call('delete_message', { messageId: 'msg_1001' }, { signal }) as { content: string }).content, /Moved msg_1001 to trash/);
    assert.equal(rowsOf(await env.snapshot(), 'messages')[0]!.folder, 'trash');
    await call(env, 'delete_message', { messageId: 'msg_1001' });
    assert.equal(rowsOf(await env.snapshot(), 'messages').length, 0);
    await env.close();
  });

  it('files into custom folders and refuses unknown folders, sent and drafts', async () => {
    const env = await episode(toolTask({ messages: [customer] }));
    assert.match((await fails(env, 'move_message', { messageId: 'msg_1001', folder: 'Clients' })).error, /no folder named "Clients".*create_folder/);
    await call(env, 'create_folder', { name: 'Clients' });
    await call(env, 'move_message', { messageId: 'msg_1001', folder: 'clients' });
    assert.equal(rowsOf(await env.snapshot(), 'messages')[0]!.folder, 'Clients');
    assert.match((await fails(env, 'move_message', { messageId: 'msg_1001', folder: 'sent' })).error, /cannot be moved into sent/);
    await env.close();
  });

  it('labels case-insensitively and explains a label that is not there', async () => {
    const env = await episode(toolTask({ messages: [customer], labels: ['Clients'] }));
    await call(env, 'add_label', { messageId: 'msg_1001', label: 'clients' });
    assert.deepEqual(rowsOf(await env.snapshot(), 'message_labels'), [{ message_id: 'msg_1001', label: 'Clients' }]);
    assert.match((await fails(env, 'remove_label', { messageId: 'msg_1001', label: 'vip' })).error, /has no label "vip"; its labels: Clients/);
    await env.close();
  });

  it('keeps drafts unsent until send_draft, and a sent message counts even after it is deleted', async () => {
    const env = await episode(toolTask({ messages: [customer] }));
    const draft = await call(env, 'create_draft', { inReplyTo: 'msg_1001', body: 'Draft reply' });
    assert.equal(rowsOf(await env.snapshot(), 'deliveries').length, 0);
    await call(env, 'send_draft', { draftId: String(draft.id) });
    await call(env, 'delete_message', { messageId: String(draft.id) });
    await call(env, 'delete_message', { messageId: String(draft.id) });
    assert.equal((await env.verify({ answer: null })).passed, false, 'no_other_sent still sees the deleted reply');
    await env.close();
  });

  it('rejects bad arguments with the field and what was expected', async () => {
    const env = await episode(toolTask({ messages: [customer] }));
    const bad = await fails(env, 'send_message', { to: ['bob'], subject: '', body: 'x' });
    assert.equal(bad.kind, 'invalid_arguments');
    assert.match(bad.error, /to\.0: an email address like name@example\.com/);
    assert.match(bad.error, /subject: .*>=1 characters/);
    assert.match((await fails(env, 'send_message', { to: 'bob@x.example', subject: 's', body: 'b' })).error, /to: .*expected array/);
    assert.match((await fails(env, 'read_thread', { threadId: 'thr_1', messageId: 'msg_1001' })).error, /exactly one of threadId or messageId/);
    assert.match((await fails(env, 'update_contact', { contactId: 'ct_0001' })).error, /at least one field/);
    assert.match((await fails(env, 'reply', { messageId: 'msg_1001' })).error, /body: /);
    await env.close();
  });

  it('refuses search text over 1,000 characters as invalid arguments naming the field, and searches with any text up to it', async () => {
    const env = await episode(toolTask({ messages: [customer] }));
    for (const [tool, field] of [['search_messages', 'query'], ['search_messages', 'from'], ['search_messages', 'to'], ['search_contacts', 'query']] as const) {
      const refused = await fails(env, tool, { [field]: 'a'.repeat(50_001) });
      assert.equal(refused.kind, 'invalid_arguments', `${tool} ${field}`);
      assert.match(refused.error, new RegExp(`${field}: at most 1000 characters`));
    }
    // The worst text within the limit: the most words (one LIKE each), escaped characters, 4-byte characters.
    for (const text of ['a '.repeat(500).trim(), '%'.repeat(1_000), '😀'.repeat(500), '_\\'.repeat(500)]) {
      assert.equal((await call(env, 'search_messages', { query: text, from: text, to: text })).total, 0);
      assert.equal((await call(env, 'search_contacts', { query: text })).total, 0);
    }
    await env.close();
  });

  it('refuses a forged cursor past the end or beyond an exact integer as a tool error, in every paged listing', async () => {
    const env = await episode(toolTask({ messages: [customer], contacts: [{ name: 'Ana Sousa', email: 'ana.sousa@client.example' }] }));
    for (const tool of ['list_contacts', 'search_messages']) {
      for (const cursor of ['o99999999999999999999', 'o9007199254740993', 'o5']) {
        const refused = await fails(env, tool, { cursor });
        assert.equal(refused.kind, 'tool_error', `${tool} ${cursor}: ${refused.error}`);
        assert.match(refused.error, /cursor "o\d+"/);
      }
    }
    assert.equal((await call(env, 'list_contacts', { cursor: 'o1' })).total, 1, 'a cursor at the end is an empty last page');
    await env.close();
  });

  it('adds and updates contacts without duplicates', async () => {
    const env = await episode(toolTask({ contacts: [{ id: 'ct_4242', name: 'Ana Sousa', email: 'ana.sousa@client.example' }] }));
    assert.match((await fails(env, 'add_contact', { name: 'Ana S', email: 'ANA.SOUSA@client.example' })).error, /already a contact \(Ana Sousa, ct_4242\); use update_contact/);
    await call(env, 'update_contact', { contactId: 'ct_4242', company: 'Client Co' });
    const found = await call(env, 'search_contacts', { query: 'client co' });
    assert.equal((found.contacts as Data[])[0]!.company, 'Client Co');
    await env.close();
  });

  it('refuses a misspelt argument as a tool error the model can read and fix, adding nothing', async () => {
    const env = await episode(toolTask({}));
    const refused = await fails(env, 'add_contact', { name: 'Sigrun Tveit', email: 'sigrun@halvorsen.example', compnay: 'Halvorsen' });
    assert.equal(refused.kind, 'invalid_arguments');
    assert.equal(refused.error, 'invalid arguments for add_contact:\nunknown key "compnay" (did you mean "company"?); expected one of name, email, company, phone, notes');
    assert.equal((await call(env, 'search_contacts', { query: 'sigrun' })).total, 0);
    await call(env, 'add_contact', { name: 'Sigrun Tveit', email: 'sigrun@halvorsen.example', company: 'Halvorsen' });
    assert.equal(((await call(env, 'search_contacts', { query: 'sigrun' })).contacts as Data[])[0]!.company, 'Halvorsen');
    await env.close();
  });

  it('delivers scheduled mail after the given number of calls, under its fixed id', async () => {
    const task = mailTasks().find((t) => t.id === 'mail/forward-corrected-invoice')!;
    const env = await episode(task, 5);
    const find = async () => ids(await call(env, 'search_messages', { query: 'FJ-0412-R' }));
    assert.deepEqual(await find(), []);
    assert.deepEqual(await find(), []);
    assert.deepEqual(await find(), [], 'the third call itself still sees the old inbox');
    assert.deepEqual(await find(), ['msg_1703']);
    const arrived = rowsOf(await env.snapshot(), 'messages').find((m) => m.id === 'msg_1703')!;
    assert.equal(arrived.sent_at, '2026-03-10T09:01:30.000Z', 'stamped with the episode clock');
    await env.close();
  });

  it('fails a flaky tool once with a transient error, then works', async () => {
    const env = await episode(toolTask({ messages: [customer], flakyTools: ['search_messages'] }));
    const first = await env.call('search_messages', { query: 'renewal' }, { signal });
    assert.equal(first.ok ? '' : first.kind, 'transient');
    assert.deepEqual(ids(await call(env, 'search_messages', { query: 'renewal' })), ['msg_1001']);
    await env.close();
  });

  it('keeps task fixtures and their ids fixed across seeds while background mail changes', async () => {
    const task = mailTasks().find((t) => t.id === 'mail/reply-boiler-visit')!;
    const snapshots = [];
    for (const seed of [1, 1, 2]) {
      const env = await episode(task, seed);
      snapshots.push(await env.snapshot());
      await env.close();
    }
    assert.equal(JSON.stringify(snapshots[0]), JSON.stringify(snapshots[1]));
    assert.notEqual(JSON.stringify(snapshots[0]), JSON.stringify(snapshots[2]));
    for (const snapshot of snapshots) {
      const messages = rowsOf(snapshot, 'messages');
      assert.ok(messages.length >= 40 && messages.length <= 160, `${messages.length} messages`);
      assert.equal(messages.find((m) => m.id === 'msg_2741')?.subject, 'Boiler service visit');
      assert.ok(!messages.some((m) => m.id !== 'msg_2741' && m.id !== 'msg_6190' && m.from_addr === 'gemma.okafor@harbourlets.example'), 'background never uses fixture senders');
    }
  });
});
