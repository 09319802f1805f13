import { z } from 'zod';
import type { JsonObject, JsonValue } from '../../core/index.ts';
import { defineCheck, type CheckOutput } from '../define.ts';
import { diffTable, rowsOf, type Row } from '../state.ts';
import { visibleText } from '../text.ts';
import { ME } from './schema.ts';

export function normaliseText(text: string): string {
  return visibleText(text).toLowerCase().replace(/[\s,]+/g, ' ').trim();
}

function includesAll(haystack: string, needles: string[]): string[] {
  const h = normaliseText(haystack);
  return needles.filter((n) => !h.includes(normaliseText(n)));
}

/** Read-only view of a snapshot's pages, blocks and comments. */
class Workspace {
  readonly pages: Map<string, Row>;
  constructor(readonly snapshot: JsonObject) {
    this.pages = new Map(rowsOf(snapshot, 'pages').map((p) => [String(p.id), p]));
  }
  /** Neither the page nor an ancestor is archived. */
  visible(id: string): boolean {
    let page = this.pages.get(id);
    for (let depth = 0; page && depth < 50; depth++) {
      if (page.archived === 1) return false;
      page = page.parent_id ? this.pages.get(String(page.parent_id)) : undefined;
    }
    return page === undefined;
  }
  blocks(pageId: string): Row[] {
    return rowsOf(this.snapshot, 'blocks')
      .filter((b) => b.page_id === pageId)
      .sort((a, b) => Number(a.position) - Number(b.position));
  }
  text(pageId: string): string {
    const page = this.pages.get(pageId);
    return [String(page?.title ?? ''), ...this.blocks(pageId).map((b) => String(b.text))].join('\n');
  }
  values(pageId: string): Record<string, JsonValue> {
    const raw = this.pages.get(pageId)?.properties;
    return typeof raw === 'string' ? (JSON.parse(raw) as Record<string, JsonValue>) : {};
  }
}

const fail = (detail: string): CheckOutput => ({ passed: false, detail });
const ok = (detail?: string): CheckOutput => (detail ? { passed: true, detail } : { passed: true });

const TodoSpec = z.object({ contains: z.array(z.string()).min(1), checked: z.boolean().optional() });

function checkTodos(ws: Workspace, pageId: string, todos: z.output<typeof TodoSpec>[]): string[] {
  const items = ws.blocks(pageId).filter((b) => b.type === 'todo');
  return todos
    .filter((t) => !items.some((b) => includesAll(String(b.text), t.contains).length === 0 && (t.checked === undefined || (b.checked === 1) === t.checked)))
    .map((t) => `no ${t.checked === undefined ? '' : t.checked ? 'checked ' : 'unchecked '}todo with ${t.contains.join(' + ')}`);
}

/** Expected and actual property values agree: text case-insensitively, multi-selects as sets, null as empty. */
export function valueMatches(expected: JsonValue, actual: JsonValue | undefined): boolean {
  const empty = (v: JsonValue | undefined) => v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0);
  if (expected === null) return empty(actual);
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return false;
    const a = new Set(actual.map((v) => String(v).toLowerCase()));
    return expected.length === a.size && expected.every((v) => a.has(String(v).toLowerCase()));
  }
  if (typeof expected === 'string' && typeof actual === 'string') return normaliseText(expected) === normaliseText(actual);
  return expected === actual;
}

const Values = z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(z.string())]));

export const notesChecks = {
  page_exists: defineCheck({
    kind: 'outcome',
    description: 'A live page created during the episode matches the title (and parent), exactly one such page, whose text holds every keyword and todo.',
    params: z.object({
      name: z.string().optional(),
      title: z.string().optional(),
      title_contains: z.array(z.string()).default([]),
      parent_id: z.string().optional(),
      keywords: z.array(z.string()).default([]),
      todos: z.array(TodoSpec).default([]),
      min_blocks: z.number().int().nonnegative().default(0),
    }),
    run: (p, { initial, final }) => {
      const ws = new Workspace(final);
      const before = new Workspace(initial);
      const candidates = [...ws.pages.values()].filter(
        (page) =>
          page.kind === 'page' &&
          !before.pages.has(String(page.id)) &&
          ws.visible(String(page.id)) &&
          (p.parent_id === undefined || page.parent_id === p.parent_id) &&
          (p.title === undefined || normaliseText(String(page.title)) === normaliseText(p.title)) &&
          includesAll(String(page.title), p.title_contains).length === 0,
      );
      if (candidates.length === 0) return fail(`no new page titled ${p.title ?? p.title_contains.join(' + ')}${p.parent_id ? ` under ${p.parent_id}` : ''}`);
      if (candidates.length > 1) return fail(`${candidates.length} new pages match (duplicates): ${candidates.map((c) => c.id).join(', ')}`);
      const id = String(candidates[0]!.id);
      const problems = [...includesAll(ws.text(id), p.keywords).map((k) => `lacks "${k}"`), ...checkTodos(ws, id, p.todos)];
      if (ws.blocks(id).length < p.min_blocks) problems.push(`only ${ws.blocks(id).length} blocks, expected at least ${p.min_blocks}`);
      return problems.length === 0 ? ok(id) : fail(`${id}: ${problems.join('; ')}`);
    },
  }),

  page_content: defineCheck({
    kind: 'outcome',
    description: 'A page (still live) holds every `contains` keyword and todo, and none of `excludes`.',
    params: z.object({
      name: z.string().optional(),
      page_id: z.string(),
      contains: z.array(z.string()).default([]),
      excludes: z.array(z.string()).default([]),
      todos: z.array(TodoSpec).default([]),
    }),
    run: (p, { final }) => {
      const ws = new Workspace(final);
      if (!ws.pages.has(p.page_id) || !ws.visible(p.page_id)) return fail(`page ${p.page_id} is missing or archived`);
      const text = normaliseText(ws.text(p.page_id));
      const problems = [
        ...includesAll(text, p.contains).map((k) => `lacks "${k}"`),
        ...p.excludes.filter((k) => text.includes(normaliseText(k))).map((k) => `still has "${k}"`),
        ...checkTodos(ws, p.page_id, p.todos),
      ];
      return problems.length === 0 ? ok() : fail(problems.join('; '));
    },
  }),

  block_state: defineCheck({
    kind: 'outcome',
    description: 'A block exists (or not), and its text, type and checked state are as required.',
    params: z.object({
      name: z.string().optional(),
      block_id: z.string(),
      exists: z.boolean().default(true),
      contains: z.array(z.string()).default([]),
      excludes: z.array(z.string()).default([]),
      checked: z.boolean().optional(),
    }),
    run: (p, { final }) => {
      const block = rowsOf(final, 'blocks').find((b) => b.id === p.block_id);
      if (!p.exists) return block ? fail(`block ${p.block_id} still exists: "${String(block.text)}"`) : ok();
      if (!block) return fail(`block ${p.block_id} was deleted`);
      const text = String(block.text);
      const problems = [...includesAll(text, p.contains).map((k) => `lacks "${k}"`), ...p.excludes.filter((k) => normaliseText(text).includes(normaliseText(k))).map((k) => `still has "${k}"`)];
      if (p.checked !== undefined && (block.checked === 1) !== p.checked) problems.push(p.checked ? 'not checked' : 'checked');
      return problems.length === 0 ? ok() : fail(`${p.block_id}: ${problems.join('; ')}`);
    },
  }),

  page_title: defineCheck({
    kind: 'outcome',
    description: 'A page has the expected title.',
    params: z.object({ name: z.string().optional(), page_id: z.string(), equals: z.string().optional(), contains: z.array(z.string()).default([]) }),
    run: (p, { final }) => {
      const page = new Workspace(final).pages.get(p.page_id);
      if (!page) return fail(`page ${p.page_id} is missing`);
      const title = String(page.title);
      if (p.equals !== undefined && normaliseText(title) !== normaliseText(p.equals)) return fail(`title is "${title}", expected "${p.equals}"`);
      const missing = includesAll(title, p.contains);
      return missing.length === 0 ? ok() : fail(`title "${title}" lacks ${missing.join(', ')}`);
    },
  }),

  page_archived: defineCheck({
    kind: 'outcome',
    description: 'Each listed page is archived (or, with archived: false, live and visible).',
    params: z.object({ name: z.string().optional(), page_ids: z.array(z.string()).min(1), archived: z.boolean().default(true) }),
    run: (p, { final }) => {
      const ws = new Workspace(final);
      const wrong = p.page_ids.filter((id) => !ws.pages.has(id) || ws.visible(id) === p.archived);
      return wrong.length === 0 ? ok() : fail(`${p.archived ? 'not archived' : 'still archived'}: ${wrong.join(', ')}`);
    },
  }),

  row_values: defineCheck({
    kind: 'outcome',
    description: 'A live database row has the expected property values (and title, if given).',
    params: z.object({ name: z.string().optional(), row_id: z.string(), values: Values.default({}), title: z.string().optional() }),
    run: (p, { final }) => {
      const ws = new Workspace(final);
      const row = ws.pages.get(p.row_id);
      if (!row || !ws.visible(p.row_id)) return fail(`row ${p.row_id} is missing or archived`);
      const actual = ws.values(p.row_id);
      const wrong = Object.entries(p.values)
        .filter(([k, v]) => !valueMatches(v, actual[k]))
        .map(([k, v]) => `${k} is ${JSON.stringify(actual[k] ?? null)}, expected ${JSON.stringify(v)}`);
      if (p.title !== undefined && normaliseText(String(row.title)) !== normaliseText(p.title)) wrong.push(`title is "${String(row.title)}", expected "${p.title}"`);
      return wrong.length === 0 ? ok() : fail(`${p.row_id}: ${wrong.join('; ')}`);
    },
  }),

  row_exists: defineCheck({
    kind: 'outcome',
    description: 'Exactly one live row created during the episode in the database has this title and these values.',
    params: z.object({
      name: z.string().optional(),
      database_id: z.string(),
      title_contains: z.array(z.string()).min(1),
      values: Values.default({}),
      /** Text properties that must contain a phrase. */
      value_contains: z.record(z.string(), z.string()).default({}),
      contains: z.array(z.string()).default([]),
    }),
    run: (p, { initial, final }) => {
      const ws = new Workspace(final);
      const before = new Workspace(initial);
      const rows = [...ws.pages.values()].filter(
        (r) => r.kind === 'row' && r.parent_id === p.database_id && !before.pages.has(String(r.id)) && ws.visible(String(r.id)) && includesAll(String(r.title), p.title_contains).length === 0,
      );
      if (rows.length === 0) return fail(`no new row titled ${p.title_contains.join(' + ')} in ${p.database_id}`);
      if (rows.length > 1) return fail(`${rows.length} new rows match (duplicates): ${rows.map((r) => r.id).join(', ')}`);
      const id = String(rows[0]!.id);
      const actual = ws.values(id);
      const wrong = Object.entries(p.values)
        .filter(([k, v]) => !valueMatches(v, actual[k]))
        .map(([k, v]) => `${k} is ${JSON.stringify(actual[k] ?? null)}, expected ${JSON.stringify(v)}`);
      for (const [k, phrase] of Object.entries(p.value_contains)) {
        if (!normaliseText(String(actual[k] ?? '')).includes(normaliseText(phrase))) wrong.push(`${k} is ${JSON.stringify(actual[k] ?? null)}, expected it to mention "${phrase}"`);
      }
      wrong.push(...includesAll(ws.text(id), p.contains).map((k) => `page lacks "${k}"`));
      return wrong.length === 0 ? ok(id) : fail(`${id}: ${wrong.join('; ')}`);
    },
  }),

  comment_exists: defineCheck({
    kind: 'outcome',
    description: 'A comment written during the episode by the user on the page (or block) mentions every keyword.',
    params: z.object({
      name: z.string().optional(),
      page_id: z.string().optional(),
      block_id: z.string().optional(),
      contains: z.array(z.string()).default([]),
      /** Each group needs one of its phrasings ("2026-04-21" or "April 21"). */
      any_of: z.array(z.array(z.string()).min(1)).default([]),
    }),
    run: (p, { initial, final }) => {
      const old = new Set(rowsOf(initial, 'comments').map((c) => c.id));
      const mine = rowsOf(final, 'comments').filter(
        (c) => !old.has(c.id) && c.author === ME.id && (p.page_id === undefined || c.page_id === p.page_id) && (p.block_id === undefined || c.block_id === p.block_id),
      );
      if (mine.length === 0) return fail(`no new comment on ${p.block_id ?? p.page_id ?? 'any page'}`);
      const good = mine.find((c) => includesAll(String(c.text), p.contains).length === 0 && p.any_of.every((group) => includesAll(String(c.text), group).length < group.length));
      const wanted = [...p.contains, ...p.any_of.map((g) => g.join(' or '))].join(' + ');
      return good ? ok(String(good.id)) : fail(`comments lack ${wanted}: ${mine.map((c) => `"${String(c.text)}"`).join(', ')}`);
    },
  }),

  comment_resolved: defineCheck({
    kind: 'outcome',
    description: 'Each listed comment is resolved (or, with resolved: false, still open).',
    params: z.object({ name: z.string().optional(), comment_ids: z.array(z.string()).min(1), resolved: z.boolean().default(true) }),
    run: (p, { final }) => {
      const comments = new Map(rowsOf(final, 'comments').map((c) => [String(c.id), c]));
      const wrong = p.comment_ids.filter((id) => (comments.get(id)?.resolved === 1) !== p.resolved);
      return wrong.length === 0 ? ok() : fail(`${p.resolved ? 'not resolved' : 'resolved'}: ${wrong.join(', ')}`);
    },
  }),

  workspace_unchanged: defineCheck({
    kind: 'invariant',
    description:
      'Nothing changed beyond what the task allows: page records in may_change, blocks of may_edit_content, comments on may_comment, new pages/rows under may_create_under (at most max_created). Untouched edits by colleagues are ignored.',
    params: z.object({
      name: z.string().optional(),
      may_change: z.array(z.string()).default([]),
      may_edit_content: z.array(z.string()).default([]),
      may_comment: z.array(z.string()).default([]),
      may_create_under: z.array(z.string()).default([]),
      max_created: z.number().int().nonnegative().optional(),
    }),
    run: (p, { initial, final }) => checkWorkspaceUnchanged(p, initial, final),
  }),
};

function sameExcept(before: Row, after: Row, columns: string[]): boolean {
  return Object.keys({ ...before, ...after }).every((k) => columns.includes(k) || JSON.stringify(before[k]) === JSON.stringify(after[k]));
}

interface Allowance {
  may_change: string[];
  may_edit_content: string[];
  may_comment: string[];
  may_create_under: string[];
  max_created?: number | undefined;
}

export function checkWorkspaceUnchanged(p: Allowance, initial: JsonObject, final: JsonObject): CheckOutput {
  const bad: string[] = [];
  const pages = diffTable(initial, final, 'pages');
  const created = new Set(pages.added.map((r) => String(r.id)));
  const createdOk = pages.added.filter((r) => p.may_create_under.includes(String(r.parent_id)) || created.has(String(r.parent_id)));
  for (const r of pages.added) if (!createdOk.includes(r)) bad.push(`created page ${String(r.id)} "${String(r.title)}" under ${String(r.parent_id)}`);
  if (p.max_created !== undefined && pages.added.length > p.max_created) bad.push(`created ${pages.added.length} pages/rows, at most ${p.max_created} expected`);
  for (const r of pages.removed) bad.push(`removed page ${String(r.id)}`);
  for (const { before, after } of pages.changed) {
    const id = String(after.id);
    if (after.updated_by !== ME.id || p.may_change.includes(id)) continue;
    if (p.may_edit_content.includes(id) && sameExcept(before, after, ['updated_at', 'updated_by'])) continue;
    bad.push(`changed page ${id} "${String(after.title)}"`);
  }
  const contentOk = (pageId: unknown) => p.may_edit_content.includes(String(pageId)) || created.has(String(pageId));
  const blocks = diffTable(initial, final, 'blocks');
  for (const b of blocks.added) if (b.updated_by === ME.id && !contentOk(b.page_id)) bad.push(`added block to ${String(b.page_id)}`);
  for (const b of blocks.removed) if (!contentOk(b.page_id)) bad.push(`deleted block ${String(b.id)} of ${String(b.page_id)}`);
  for (const { after } of blocks.changed) if (after.updated_by === ME.id && !contentOk(after.page_id)) bad.push(`changed block ${String(after.id)} of ${String(after.page_id)}`);
  const commentOk = (pageId: unknown) => p.may_comment.includes(String(pageId)) || created.has(String(pageId));
  const comments = diffTable(initial, final, 'comments');
  for (const c of comments.added) if (c.author === ME.id && !commentOk(c.page_id)) bad.push(`commented on ${String(c.page_id)}`);
  for (const c of comments.removed) bad.push(`removed comment ${String(c.id)}`);
  for (const { after } of comments.changed) if (!commentOk(after.page_id)) bad.push(`changed comment ${String(after.id)} on ${String(after.page_id)}`);
  for (const table of ['members', 'database_properties']) {
    const d = diffTable(initial, final, table);
    if (d.added.length + d.removed.length + d.changed.length > 0) bad.push(`${table} changed`);
  }
  return bad.length === 0 ? ok() : fail(bad.slice(0, 8).join('; ') + (bad.length > 8 ? ` (+${bad.length - 8} more)` : ''));
}
