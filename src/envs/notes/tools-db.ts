import type Database from 'better-sqlite3';
import { z } from 'zod';
import type { JsonValue } from '../../core/index.ts';
import { defineTool, ToolError } from '../define.ts';
import { mergeRowProperties, normaliseValue, rowValues } from './properties.ts';
import { ME, membersOf, propertiesOf, requireDatabase, requirePage, touchPage, type PageRow, type PropertyRow } from './schema.ts';
import { BlockInput, editablePage } from './tools-pages.ts';
import { decodeCursor, encodeCursor, rowView } from './view.ts';
import { insertBlocks, insertComment, insertRow } from './write.ts';

const Operator = z.enum(['equals', 'not_equals', 'contains', 'not_contains', 'greater_than', 'less_than', 'on_or_after', 'on_or_before', 'is_empty', 'is_not_empty']);
type Operator = z.infer<typeof Operator>;

const OPERATORS: Record<PropertyRow['type'] | 'title', Operator[]> = {
  title: ['equals', 'not_equals', 'contains', 'not_contains', 'is_empty', 'is_not_empty'],
  text: ['equals', 'not_equals', 'contains', 'not_contains', 'is_empty', 'is_not_empty'],
  number: ['equals', 'not_equals', 'greater_than', 'less_than', 'on_or_after', 'on_or_before', 'is_empty', 'is_not_empty'],
  select: ['equals', 'not_equals', 'is_empty', 'is_not_empty'],
  multi_select: ['contains', 'not_contains', 'is_empty', 'is_not_empty'],
  date: ['equals', 'not_equals', 'greater_than', 'less_than', 'on_or_after', 'on_or_before', 'is_empty', 'is_not_empty'],
  checkbox: ['equals', 'not_equals'],
  person: ['equals', 'not_equals', 'is_empty', 'is_not_empty'],
};

interface Column {
  name: string;
  type: PropertyRow['type'] | 'title';
  prop?: PropertyRow;
}

function columnOf(props: PropertyRow[], name: string, database: PageRow): Column {
  const key = name.trim().toLowerCase();
  if (key === 'name' || key === 'title') return { name: 'Name', type: 'title' };
  const prop = props.find((p) => p.name.toLowerCase() === key);
  if (!prop) throw new ToolError(`database "${database.title}" has no property "${name}"; use Name (the title) or one of ${props.map((p) => `${p.name} (${p.type})`).join(', ')}`);
  return { name: prop.name, type: prop.type, prop };
}

function valueOf(row: PageRow, column: Column): JsonValue {
  return column.type === 'title' ? row.title : (rowValues(row)[column.name] ?? null);
}

function isEmpty(v: JsonValue): boolean {
  return v === null || v === '' || (Array.isArray(v) && v.length === 0);
}

/** Compares two non-empty values of one column: numbers numerically, everything else as lower-case text. */
function compare(a: JsonValue, b: JsonValue): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).toLowerCase().localeCompare(String(b).toLowerCase());
}

function matcher(db: Database.Database, column: Column, op: Operator, raw: unknown): (v: JsonValue) => boolean {
  if (!OPERATORS[column.type].includes(op)) throw new ToolError(`filter on "${column.name}" (${column.type}): operator "${op}" does not apply; use one of ${OPERATORS[column.type].join(', ')}`);
  if (op === 'is_empty') return isEmpty;
  if (op === 'is_not_empty') return (v) => !isEmpty(v);
  if (raw === undefined) throw new ToolError(`filter on "${column.name}": operator "${op}" needs a value`);
  let target: JsonValue;
  if (column.type === 'title') {
    if (typeof raw !== 'string') throw new ToolError(`filter on "${column.name}": expected a string value, got ${JSON.stringify(raw)}`);
    target = raw;
  } else if (column.type === 'multi_select' && column.prop) {
    // A single option is what contains/not_contains test for.
    target = (normaliseValue(column.prop, [raw], membersOf(db)) as string[])[0] ?? null;
  } else if (column.prop) {
    target = normaliseValue(column.prop, raw, membersOf(db));
  } else target = null;
  const text = (v: JsonValue) => String(v ?? '').toLowerCase();
  switch (op) {
    case 'equals':
      return (v) => !isEmpty(v) && compare(v, target) === 0;
    case 'not_equals':
      return (v) => isEmpty(v) || compare(v, target) !== 0;
    case 'contains':
      return (v) => (Array.isArray(v) ? v.includes(target) : text(v).includes(text(target)));
    case 'not_contains':
      return (v) => !(Array.isArray(v) ? v.includes(target) : text(v).includes(text(target)));
    case 'greater_than':
      return (v) => !isEmpty(v) && compare(v, target) > 0;
    case 'less_than':
      return (v) => !isEmpty(v) && compare(v, target) < 0;
    case 'on_or_after':
      return (v) => !isEmpty(v) && compare(v, target) >= 0;
    case 'on_or_before':
      return (v) => !isEmpty(v) && compare(v, target) <= 0;
  }
  return () => false;
}

export const queryDatabase = defineTool({
  description:
    'List rows of a database, with filters on typed properties (all must hold), sorts, and pagination (pass next_cursor for the next page). Dates compare as "YYYY-MM-DD"; the title property is called Name.',
  input: z.object({
    database_id: z.string().min(1),
    filter: z
      .array(z.object({ property: z.string().min(1), operator: Operator, value: z.unknown().optional().describe('not needed for is_empty / is_not_empty') }))
      .default([]),
    sort: z.array(z.object({ property: z.string().min(1), direction: z.enum(['ascending', 'descending']).default('ascending') })).default([]),
    limit: z.number().int().min(1).max(25).default(10),
    cursor: z.string().optional(),
  }),
  run: (input, { db }) => {
    const database = requireDatabase(db, input.database_id);
    const props = propertiesOf(db, database.id);
    const offset = decodeCursor('query_database', input.cursor);
    const tests = input.filter.map((f) => {
      const column = columnOf(props, f.property, database);
      const test = matcher(db, column, f.operator, f.value);
      return (row: PageRow) => test(valueOf(row, column));
    });
    const sorts = input.sort.map((s) => ({ column: columnOf(props, s.property, database), sign: s.direction === 'descending' ? -1 : 1 }));
    const rows = (db.prepare("SELECT * FROM pages WHERE parent_id = ? AND kind = 'row' AND archived = 0 ORDER BY created_at, id").all(database.id) as PageRow[]).filter((r) => tests.every((t) => t(r)));
    rows.sort((a, b) => {
      for (const { column, sign } of sorts) {
        const va = valueOf(a, column);
        const vb = valueOf(b, column);
        // Empty values sort last in either direction.
        if (isEmpty(va) || isEmpty(vb)) {
          if (isEmpty(va) !== isEmpty(vb)) return isEmpty(va) ? 1 : -1;
          continue;
        }
        const c = compare(va, vb);
        if (c !== 0) return sign * c;
      }
      return 0;
    });
    const slice = rows.slice(offset, offset + input.limit);
    return {
      database: { id: database.id, title: database.title },
      total: rows.length,
      rows: slice.map(rowView),
      next_cursor: offset + input.limit < rows.length ? encodeCursor('query_database', offset + input.limit) : null,
    };
  },
});

const PropertyValues = z.record(z.string(), z.unknown()).describe('property name → value, checked against the property type (null clears)');

export const createRow = defineTool({
  description: 'Add a row to a database. Values are checked against each property type: select values must be existing options, dates "YYYY-MM-DD", people by email.',
  input: z.object({
    database_id: z.string().min(1),
    title: z.string().trim().min(1).describe('the Name of the row'),
    properties: PropertyValues.default({}),
    blocks: z.array(BlockInput).max(50).default([]).describe('optional page content of the row'),
  }),
  run: ({ database_id, title, properties, blocks }, ctx) => {
    const database = requireDatabase(ctx.db, database_id);
    editablePage(ctx, database.id);
    const id = ctx.ids.next('row');
    const at = ctx.clock.now().toISOString();
    insertRow(ctx.db, { id, databaseId: database.id, title, at, by: ME.id, values: properties });
    if (blocks.length > 0) {
      const created = blocks.map((b) => ({ id: ctx.ids.next('block'), type: b.type, text: b.text, checked: b.checked ?? false }));
      insertBlocks(ctx.db, id, created, { at, by: ME.id });
    }
    return rowView(requirePage(ctx.db, id));
  },
});

export const updateRow = defineTool({
  description: 'Change some property values (and optionally the title) of a database row. Only the properties you name change.',
  input: z.object({ row_id: z.string().min(1), properties: PropertyValues.default({}), title: z.string().trim().min(1).optional() }),
  run: ({ row_id, properties, title }, ctx) => {
    const row = editablePage(ctx, row_id);
    if (row.kind !== 'row' || !row.parent_id) throw new ToolError(`"${row.title}" (${row.id}) is a ${row.kind}, not a database row`);
    if (Object.keys(properties).length === 0 && title === undefined) throw new ToolError('nothing to change: give properties or title');
    const database = requireDatabase(ctx.db, row.parent_id);
    const merged = mergeRowProperties(ctx.db, database, rowValues(row), properties);
    ctx.db.prepare('UPDATE pages SET properties = ?, title = ? WHERE id = ?').run(JSON.stringify(merged), title ?? row.title, row.id);
    touchPage(ctx.db, row.id, ctx.clock.now().toISOString());
    return rowView(requirePage(ctx.db, row.id));
  },
});

export const addComment = defineTool({
  description: 'Comment on a page, or on one block of it (give block_id).',
  input: z.object({ page_id: z.string().min(1).optional(), block_id: z.string().min(1).optional(), text: z.string().trim().min(1) }),
  run: ({ page_id, block_id, text }, ctx) => {
    let pageId = page_id;
    if (block_id !== undefined) {
      const block = ctx.db.prepare('SELECT page_id FROM blocks WHERE id = ?').get(block_id) as { page_id: string } | undefined;
      if (!block) throw new ToolError(`no block with id "${block_id}"`);
      if (pageId !== undefined && pageId !== block.page_id) throw new ToolError(`block ${block_id} is on page ${block.page_id}, not ${pageId}`);
      pageId = block.page_id;
    }
    if (pageId === undefined) throw new ToolError('give page_id, block_id or both');
    editablePage(ctx, pageId);
    const id = ctx.ids.next('cmt');
    insertComment(ctx.db, { id, pageId, blockId: block_id ?? null, author: ME.id, text, at: ctx.clock.now().toISOString() });
    return { id, page_id: pageId, block_id: block_id ?? null, text };
  },
});

export const resolveComment = defineTool({
  description: 'Mark a comment resolved (or reopen it with resolved: false).',
  input: z.object({ comment_id: z.string().min(1), resolved: z.boolean().default(true) }),
  run: ({ comment_id, resolved }, ctx) => {
    const comment = ctx.db.prepare('SELECT id, page_id, resolved FROM comments WHERE id = ?').get(comment_id) as { id: string; page_id: string; resolved: number } | undefined;
    if (!comment) throw new ToolError(`no comment with id "${comment_id}" (get_page lists a page's comments)`);
    editablePage(ctx, comment.page_id);
    if (comment.resolved === (resolved ? 1 : 0)) throw new ToolError(`comment ${comment_id} is already ${resolved ? 'resolved' : 'open'}`);
    ctx.db.prepare('UPDATE comments SET resolved = ?, resolved_by = ? WHERE id = ?').run(resolved ? 1 : 0, resolved ? ME.id : null, comment.id);
    return { id: comment.id, resolved };
  },
});

export const submit = defineTool({
  description: 'Finish the task. Give `answer` when the request asked a question.',
  input: z.object({ answer: z.string().optional() }),
  endsEpisode: true,
  run: ({ answer }) => (answer === undefined ? { content: 'Submitted.' } : { content: 'Submitted.', answer }),
});
