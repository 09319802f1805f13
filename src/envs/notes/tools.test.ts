import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Environment, JsonValue, Task } from '../../core/index.ts';
import { rowsOf } from '../state.ts';
import { data, episode, error, fixtureTask } from '../test-support.ts';
import { notes } from './index.ts';
import type { NotesFixturesInput } from './fixtures.ts';

const signal = new AbortController().signal;

const taskWith = (fixtures: NotesFixturesInput & { schedule?: JsonValue[] }, checks: JsonValue[] = [{ check: 'workspace_unchanged' }]): Task => fixtureTask('notes', fixtures, checks);

const tracker: NotesFixturesInput = {
  background: false,
  databases: [
    {
      id: 'db',
      parent: 'projects',
      title: 'Tracker',
      schema: { Status: { type: 'select', options: ['Todo', 'Done'] }, Points: { type: 'number' }, Due: { type: 'date' }, Tags: { type: 'multi_select', options: ['api', 'ui'] }, Owner: { type: 'person' }, Flag: { type: 'checkbox' } },
      rows: Array.from({ length: 23 }, (_, i) => ({ id: `r${i + 1}`, title: `Item ${i + 1}`, values: { Status: i % 2 ? 'Done' : 'Todo', Points: i, Due: `2026-04-${String((i % 28) + 1).padStart(2, '0')}`, Tags: i % 3 ? ['api'] : ['api', 'ui'] } })),
    },
  ],
  pages: [{ id: 'long', parent: 'wiki', title: 'Long page', blocks: Array.from({ length: 75 }, (_, i) => `line ${i + 1}`) }],
};

const open = (task: Task, seed = 1): Promise<Environment> => episode(notes, task, seed);

describe('notes tools', () => {
  it('pages through query results with next_cursor until it is null', async () => {
    const env = await open(taskWith(tracker));
    const seen: string[] = [];
    let cursor: JsonValue | undefined;
    do {
      const page = data(await env.call('query_database', { database_id: 'db', limit: 10, ...(cursor ? { cursor } : {}) }, { signal }));
      assert.equal(page.total, 23);
      for (const row of page.rows as { id: string }[]) seen.push(row.id);
      cursor = page.next_cursor;
    } while (cursor);
    assert.equal(seen.length, 23);
    assert.equal(new Set(seen).size, 23);
  });

  it('filters and sorts on typed properties', async () => {
    const env = await open(taskWith(tracker));
    const out = data(
      await env.call('query_database', { database_id: 'db', filter: [{ property: 'Status', operator: 'equals', value: 'done' }, { property: 'Points', operator: 'greater_than', value: 8 }, { property: 'Tags', operator: 'contains', value: 'UI' }], sort: [{ property: 'Points', direction: 'descending' }] }, { signal }),
    );
    assert.deepEqual((out.rows as { id: string }[]).map((r) => r.id), ['r22', 'r16', 'r10']);
  });

  it('reads a long page in slices with offset', async () => {
    const env = await open(taskWith(tracker));
    const first = data(await env.call('get_page', { page_id: 'long' }, { signal }));
    assert.equal((first.blocks as JsonValue[]).length, 30);
    assert.equal(first.next_offset, 30);
    assert.match(String(first.truncated), /offset 30/);
    const last = data(await env.call('get_page', { page_id: 'long', offset: 60, limit: 50 }, { signal }));
    assert.deepEqual((last.blocks as { text: string }[]).map((b) => b.text).slice(-1), ['line 75']);
    assert.equal(last.next_offset, undefined);
  });

  it('paginates search and refuses a cursor from another tool', async () => {
    const env = await open(taskWith(tracker));
    const first = data(await env.call('search', { query: 'item', limit: 20 }, { signal }));
    assert.equal(first.total, 23);
    const second = data(await env.call('search', { query: 'item', limit: 20, cursor: first.next_cursor }, { signal }));
    assert.equal((second.results as JsonValue[]).length, 3);
    assert.match(error(await env.call('query_database', { database_id: 'db', cursor: first.next_cursor }, { signal })), /not returned by query_database/);
  });

  it('explains bad property values, unknown properties and ambiguous people', async () => {
    const env = await open(taskWith(tracker));
    assert.match(error(await env.call('update_row', { row_id: 'r1', properties: { Status: 'Finished' } }, { signal })), /"Finished" is not an option; expected one of "Todo", "Done"/);
    assert.match(error(await env.call('update_row', { row_id: 'r1', properties: { Points: '3' } }, { signal })), /Points.*expected a number/);
    assert.match(error(await env.call('update_row', { row_id: 'r1', properties: { Due: '04/02/2026' } }, { signal })), /expected a date "YYYY-MM-DD"/);
    assert.match(error(await env.call('update_row', { row_id: 'r1', properties: { Flag: 'yes' } }, { signal })), /expected true or false/);
    assert.match(error(await env.call('update_row', { row_id: 'r1', properties: { Priority: 'High' } }, { signal })), /no property "Priority"; its properties are Status \(select\)/);
    assert.match(error(await env.call('update_row', { row_id: 'r1', properties: { Owner: 'Sam' } }, { signal })), /Sam Castellano.*Sam Whitfield/);
    assert.match(error(await env.call('query_database', { database_id: 'db', filter: [{ property: 'Status', operator: 'greater_than', value: 'Todo' }] }, { signal })), /does not apply; use one of equals/);
    assert.match(error(await env.call('get_page', { page_id: 'missing' }, { signal })), /no page with id "missing"/);
    const ok = data(await env.call('update_row', { row_id: 'r1', properties: { Owner: 'Sam Whitfield', Tags: ['UI'] } }, { signal }));
    assert.deepEqual((ok.properties as Record<string, JsonValue>).Owner, 'sam.whitfield@larkspur.example');
  });

  it('refuses edits inside an archived page until it is restored', async () => {
    const env = await open(taskWith(tracker));
    data(await env.call('archive_page', { page_id: 'db' }, { signal }));
    assert.match(error(await env.call('update_row', { row_id: 'r1', properties: { Status: 'Done' } }, { signal })), /inside the archived page "Tracker"/);
    assert.equal((data(await env.call('search', { query: 'item' }, { signal })).total), 0);
    data(await env.call('archive_page', { page_id: 'db', archived: false }, { signal }));
    data(await env.call('update_row', { row_id: 'r1', properties: { Status: 'Done' } }, { signal }));
  });

  it('inserts blocks after a given block without renumbering the others', async () => {
    const env = await open(taskWith(tracker));
    const before = rowsOf(await env.snapshot(), 'blocks').filter((b) => b.page_id === 'long');
    data(await env.call('append_blocks', { page_id: 'long', after_block_id: 'long-b1', blocks: [{ type: 'todo', text: 'inserted' }] }, { signal }));
    const page = data(await env.call('get_page', { page_id: 'long', limit: 3 }, { signal }));
    assert.deepEqual((page.blocks as { text: string }[]).map((b) => b.text), ['line 1', 'inserted', 'line 2']);
    const after = rowsOf(await env.snapshot(), 'blocks').filter((b) => b.page_id === 'long' && b.text !== 'inserted');
    assert.deepEqual(after, before);
  });

  it('lets colleagues edit mid-episode without failing the invariant, but catches the agent touching other pages', async () => {
    const task = taskWith({ ...tracker, schedule: [{ event: 'page_edited_by_colleague', afterCalls: 1, params: { author: 'u-hana', block_id: 'long-b2', text: 'edited by Hana' } }] });
    const env = await open(task);
    await env.call('get_page', { page_id: 'long' }, { signal });
    const blocks = rowsOf(await env.snapshot(), 'blocks');
    assert.equal(blocks.find((b) => b.id === 'long-b2')?.text, 'edited by Hana');
    assert.equal((await env.verify({ answer: null })).passed, true);
    await env.call('update_block', { block_id: 'long-b3', text: 'mine' }, { signal });
    const outcome = await env.verify({ answer: null });
    assert.equal(outcome.passed, false);
    assert.match(outcome.checks[0]?.detail ?? '', /changed block long-b3/);
  });

  it('adds a colleague comment when scheduled, which the agent can then resolve', async () => {
    const task = taskWith({ ...tracker, schedule: [{ event: 'comment_added', afterCalls: 2, params: { id: 'c1', page_id: 'long', author: 'u-nadia', text: 'Question?' } }] });
    const env = await open(task);
    await env.call('get_page', { page_id: 'long' }, { signal });
    assert.equal(data(await env.call('get_page', { page_id: 'long' }, { signal })).comments, undefined);
    const comments = data(await env.call('get_page', { page_id: 'long' }, { signal })).comments as { id: string; author: string }[];
    assert.deepEqual(comments.map((c) => [c.id, c.author]), [['c1', 'Nadia Petrova']]);
    data(await env.call('resolve_comment', { comment_id: 'c1' }, { signal }));
  });

  it('seeds a different background for each seed and the same one for the same seed', async () => {
    const task = taskWith({ pages: [{ id: 'fixture', parent: 'wiki', title: 'Fixture page' }] });
    const titles = async (seed: number) => rowsOf(await (await open(task, seed)).snapshot(), 'pages').map((p) => `${String(p.id)}:${String(p.title)}`);
    const [a, b, c] = [await titles(1), await titles(1), await titles(2)];
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    assert.ok(a.includes('fixture:Fixture page') && c.includes('fixture:Fixture page'));
  });
});
