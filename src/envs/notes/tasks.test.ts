import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { instantiate } from '../instance.ts';
import { generatedTaskSetTests } from '../test-support.ts';
import { notes, notesTasks } from './index.ts';

describe('notes tasks', () => {
  const tasks = notesTasks();

  generatedTaskSetTests(notes, tasks, ['search', 'get_page', 'query_database', 'list_members', 'submit']);

  it('accepts other wordings and orders that hold the same facts', async () => {
    const signal = new AbortController().signal;
    const task = tasks.find((t) => t.id === 'notes/create-vendor-sync-notes')!;
    const env = instantiate(notes);
    await env.reset(task, { seed: 4 });
    const blocks = [
      { type: 'todo', text: 'Me: circulate vendor scorecard' },
      { type: 'todo', text: 'Elena — confirm Copperline Print renewal date on the contract' },
      { type: 'todo', text: 'Oliver — get 2 quotes for badge printers' },
      { type: 'bullet', text: 'Present: Oliver Brandt, Elena Varga, Robin' },
    ];
    const created = await env.call('create_page', { parent_id: 'meetings', title: 'vendor sync 2026-03-16' }, { signal });
    assert.ok(created.ok);
    const id = String(((created.ok ? created.data : {}) as { id: string }).id);
    assert.ok((await env.call('append_blocks', { page_id: id, blocks }, { signal })).ok);
    assert.equal((await env.verify({ answer: null })).passed, true);
    await env.close();
  });
});
