// responses.format: structured tool results shown as indented JSON, as YAML-like text, or as
// tables. Every rendering keeps every value (table cells escape pipes and newlines), so a model
// that can read the format loses nothing.
import { stringify as toYaml } from 'yaml';
import { z } from 'zod';
import type { JsonValue } from '../../core/index.ts';
import { isObject } from '../json-schema.ts';
import { definePerturbation, type LayerSession } from '../types.ts';
import { structuredData } from './structured.ts';

export const RESPONSE_FORMATS = ['json', 'text', 'table'] as const;
type ResponseFormat = (typeof RESPONSE_FORMATS)[number];

function cell(value: JsonValue | undefined): string {
  if (value === undefined) return '';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  // Each line break character escaped on its own: a bare \r would end the row for many readers,
  // and folding \r\n into \n would lose a character.
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r/g, '\\r').replace(/\n/g, '\\n');
}

function isRows(value: JsonValue | undefined): value is { [key: string]: JsonValue }[] {
  return Array.isArray(value) && value.length > 0 && value.every((v) => isObject(v));
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

function rowsTable(rows: readonly { [key: string]: JsonValue }[]): string {
  const keys: string[] = [];
  for (const row of rows) for (const key of Object.keys(row)) if (!keys.includes(key)) keys.push(key);
  return table(
    keys,
    rows.map((row) => keys.map((k) => cell(row[k]))),
  );
}

/** Tables for a JSON value: lists of records as one table each, other fields as a field/value table. */
export function renderTables(value: JsonValue): string {
  if (isRows(value)) return rowsTable(value);
  if (Array.isArray(value)) return value.length === 0 ? '(no rows)' : table(['value'], value.map((v) => [cell(v)]));
  if (!isObject(value)) return cell(value);
  const fields = Object.entries(value);
  const scalars = fields.filter(([, v]) => !isRows(v) && !(Array.isArray(v) && v.length === 0));
  const lists = fields.filter(([, v]) => isRows(v) || (Array.isArray(v) && v.length === 0));
  const parts: string[] = [];
  if (scalars.length > 0) parts.push(table(['field', 'value'], scalars.map(([k, v]) => [cell(k), cell(v)])));
  for (const [key, rows] of lists) parts.push(`${key} (${Array.isArray(rows) ? rows.length : 0} rows):\n${isRows(rows) ? rowsTable(rows) : '(no rows)'}`);
  return parts.join('\n\n');
}

export function renderAs(format: ResponseFormat, value: JsonValue): string {
  switch (format) {
    case 'json':
      return JSON.stringify(value, null, 2);
    case 'text':
      // No line folding: a long value stays on its line, as the model would copy it.
      return toYaml(value, { lineWidth: 0 }).trimEnd();
    case 'table':
      return renderTables(value);
  }
}

export const format = definePerturbation({
  id: 'responses.format',
  family: 'responses',
  summary: 'shows structured tool results as indented JSON (json), YAML-like text (text) or tables (table); text results stay as they are',
  randomised: () => false,
  params: z.object({ as: z.enum(RESPONSE_FORMATS).default('table') }).strict(),
  supports: (target) => (target.tools.length === 0 ? 'the task offers no tools' : null),
  apply(target, { params }) {
    const session: LayerSession = {
      async call(tool, args, below) {
        const outcome = await below(tool, args);
        const data = structuredData(outcome);
        return data === null || !outcome.ok ? outcome : { ...outcome, content: renderAs(params.as, data) };
      },
    };
    return { layer: { tools: target.tools, lift: (steps) => [...steps], lower: (call) => call, open: () => session } };
  },
});
