import { fileURLToPath } from 'node:url';
import type { Task, ToolInvocation } from '../../core/index.ts';
import { defineEnvironment, type EpisodeContext } from '../define.ts';
import { loadTaskDirectory } from '../tasks.ts';
import { notesChecks } from './checks.ts';
import { notesEvents } from './events.ts';
import { notesFamilyTasks } from './families/index.ts';
import { NotesFixtures } from './fixtures.ts';
import { NOTES_SCHEMA, NOTES_SYSTEM_PROMPT } from './schema.ts';
import { seedNotes } from './seed.ts';
import { addComment, createRow, queryDatabase, resolveComment, submit, updateRow } from './tools-db.ts';
import { appendBlocks, archivePage, createPage, deleteBlock, getPage, listMembers, search, updateBlock, updatePageTitle } from './tools-pages.ts';

export const notesTools = {
  search,
  get_page: getPage,
  create_page: createPage,
  update_page_title: updatePageTitle,
  append_blocks: appendBlocks,
  update_block: updateBlock,
  delete_block: deleteBlock,
  archive_page: archivePage,
  query_database: queryDatabase,
  create_row: createRow,
  update_row: updateRow,
  add_comment: addComment,
  resolve_comment: resolveComment,
  list_members: listMembers,
  submit,
};

let cached: Task[] | undefined;

/** YAML tasks plus the generated task families (the long, many-record ones). */
export function notesTasks(): Task[] {
  cached ??= [...loadTaskDirectory(fileURLToPath(new URL('./tasks', import.meta.url)), { systemPrompt: NOTES_SYSTEM_PROMPT }), ...notesFamilyTasks()];
  return cached;
}

/** Archive every top-level page: everything in the workspace disappears at once. */
export function notesDestructive({ db }: EpisodeContext): ToolInvocation[] {
  const roots = db.prepare('SELECT id FROM pages WHERE parent_id IS NULL AND archived = 0 ORDER BY id').all() as { id: string }[];
  return roots.map(({ id }) => ({ tool: 'archive_page', arguments: { page_id: id } }));
}

export const notes = defineEnvironment({
  name: 'notes',
  description: 'A Notion-like team workspace: pages of blocks, typed databases, comments. You act as Robin Okafor (Product).',
  schema: NOTES_SCHEMA,
  startTime: '2026-03-16T09:00:00Z',
  stepMs: 20_000,
  seed: seedNotes,
  // The seed writes the database alone: episodes of one world share its seeding.
  seededWorlds: {},
  initialState: NotesFixtures,
  tools: notesTools,
  checks: notesChecks,
  events: notesEvents,
  tasks: notesTasks,
  destructive: notesDestructive,
});

export { NOTES_SCHEMA, NOTES_SYSTEM_PROMPT, ME as NOTES_USER } from './schema.ts';
export { seedNotes, seedNotesWith, ROOTS as NOTES_ROOTS } from './seed.ts';
export { insertFixtures as insertNotesFixtures, NotesFixtures } from './fixtures.ts';
export { notesChecks, checkWorkspaceUnchanged } from './checks.ts';
export { notesEvents } from './events.ts';
export { ROSTER as NOTES_MEMBERS } from './seed-data.ts';
