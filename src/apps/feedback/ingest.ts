// Reading feedback: JSONL, CSV (with a header row) and GitHub issues JSON exports, normalised to one
// report shape. A row that cannot be used is reported (file:line, what) and skipped; the rest is kept.
import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { z } from 'zod';
import { describeZodIssues, errorMessage, InputError } from '../../core/index.ts';
import type { Problem } from '../radar/feeds.ts';

export const FeedbackReport = z.object({
  /** `<file>#<row id>`: unique across the ingested files. */
  id: z.string(),
  source: z.string(),
  title: z.string(),
  body: z.string(),
  url: z.string().nullable(),
  author: z.string().nullable(),
  createdAt: z.string().nullable(),
  labels: z.array(z.string()),
  /** What the user asked the model, what it answered and what they expected, when the report says. */
  prompt: z.string().nullable(),
  response: z.string().nullable(),
  expected: z.string().nullable(),
});
export type FeedbackReport = z.infer<typeof FeedbackReport>;

const optionalText = z
  .union([z.string(), z.number()])
  .transform((v) => String(v).trim())
  .optional()
  .nullable();

/** A JSONL or CSV row; GitHub exports are mapped to it first. Text is in `text`, `body` or `message`. */
const Row = z
  .object({
    id: optionalText,
    title: optionalText,
    text: optionalText,
    body: optionalText,
    message: optionalText,
    url: optionalText,
    author: optionalText,
    user: optionalText,
    createdAt: optionalText,
    created_at: optionalText,
    labels: z.union([z.array(z.string()), z.string()]).optional().nullable(),
    prompt: optionalText,
    response: optionalText,
    expected: optionalText,
  })
  .loose();

const GithubIssue = z
  .object({
    number: z.number().int(),
    title: z.string(),
    body: z.string().nullable().optional(),
    html_url: z.string().optional(),
    user: z.object({ login: z.string() }).nullable().optional(),
    labels: z.array(z.union([z.string(), z.object({ name: z.string() })])).optional(),
    created_at: z.string().optional(),
    pull_request: z.unknown().optional(),
  })
  .loose();

export interface IngestRead {
  reports: FeedbackReport[];
  problems: Problem[];
  rows: number;
}

/** `source` names the file in report ids and problems: its base name unless the caller says otherwise. */
export async function ingestFile(path: string, options: { source?: string } = {}): Promise<IngestRead> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new InputError(path, `cannot read: ${errorMessage(error)}`, 'a JSONL, CSV or GitHub issues JSON file');
  }
  // Spreadsheet exports start with a byte-order mark: left in, it hides the first CSV column's
  // name and makes the first JSON line unreadable.
  if (text.startsWith('\uFEFF')) text = text.slice(1);
  const source = options.source ?? basename(path);
  switch (extname(path).toLowerCase()) {
    case '.jsonl':
    case '.ndjson':
      return fromJsonl(text, source);
    case '.csv':
      return fromCsv(text, source);
    case '.json':
      return fromGithub(text, source, path);
    default:
      throw new InputError(path, `unknown extension '${extname(path)}'`, '.jsonl, .csv or .json (a GitHub issues export)');
  }
}

function fromJsonl(text: string, source: string): IngestRead {
  const read: IngestRead = { reports: [], problems: [], rows: 0 };
  const ids = new Set<string>();
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    read.rows++;
    const where = `${source}:${i + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      read.problems.push({ where, message: `not JSON: ${errorMessage(error)}` });
      return;
    }
    add(read, { value, where, source, fallbackId: String(i + 1), ids });
  });
  return read;
}

function fromCsv(text: string, source: string): IngestRead {
  const read: IngestRead = { reports: [], problems: [], rows: 0 };
  const records = parseCsv(text);
  const ids = new Set<string>();
  const header = records[0];
  if (!header) return { ...read, problems: [{ where: source, message: 'empty CSV: expected a header row' }] };
  const names = header.fields.map((h) => h.trim());
  for (const record of records.slice(1)) {
    if (record.fields.length === 1 && record.fields[0] === '') continue;
    read.rows++;
    const where = `${source}:${record.line}`;
    if (record.error) {
      read.problems.push({ where, message: record.error });
      continue;
    }
    if (record.fields.length !== names.length) {
      read.problems.push({ where, message: `${record.fields.length} fields, the header has ${names.length}` });
      continue;
    }
    add(read, { value: Object.fromEntries(names.map((n, i) => [n, record.fields[i] ?? ''])), where, source, fallbackId: String(record.line), ids });
  }
  return read;
}

function fromGithub(text: string, source: string, path: string): IngestRead {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InputError(path, `not JSON: ${errorMessage(error)}`, 'a GitHub issues export: a JSON array of issues');
  }
  if (!Array.isArray(value)) throw new InputError(path, 'not a JSON array', 'a GitHub issues export: a JSON array of issues');
  const read: IngestRead = { reports: [], problems: [], rows: value.length };
  const ids = new Set<string>();
  value.forEach((entry, i) => {
    const where = `${source}[${i}]`;
    const issue = GithubIssue.safeParse(entry);
    if (!issue.success) return void read.problems.push({ where, message: `not a GitHub issue: ${describeZodIssues(issue.error.issues)}` });
    if (issue.data.pull_request !== undefined) return void read.problems.push({ where, message: `#${issue.data.number} is a pull request, not feedback` });
    const row = {
      id: String(issue.data.number),
      title: issue.data.title,
      body: issue.data.body ?? '',
      url: issue.data.html_url,
      author: issue.data.user?.login,
      createdAt: issue.data.created_at,
      labels: (issue.data.labels ?? []).map((l) => (typeof l === 'string' ? l : l.name)),
    };
    add(read, { value: row, where, source, fallbackId: String(issue.data.number), ids });
  });
  return read;
}

/** `ids` holds the ids taken so far in this file: a set, so a file of many thousand rows is not checked in quadratic time. */
function add(read: IngestRead, input: { value: unknown; where: string; source: string; fallbackId: string; ids: Set<string> }): void {
  const row = Row.safeParse(input.value);
  if (!row.success) return void read.problems.push({ where: input.where, message: describeZodIssues(row.error.issues) });
  const r = row.data;
  const body = r.text || r.body || r.message || '';
  const title = r.title || body.split(/[.\n]/)[0]?.slice(0, 100) || '';
  if (!body && !r.title) return void read.problems.push({ where: input.where, message: 'no text: expected `text`, `body`, `message` or `title`' });
  const id = `${input.source}#${r.id || input.fallbackId}`;
  if (input.ids.has(id)) return void read.problems.push({ where: input.where, message: `id '${r.id}' appears twice in this file` });
  input.ids.add(id);
  const labels = typeof r.labels === 'string' ? r.labels.split(/[;,]/).map((l) => l.trim()).filter(Boolean) : (r.labels ?? []);
  read.reports.push({
    id,
    source: input.source,
    title,
    body,
    url: r.url || null,
    author: r.author || r.user || null,
    createdAt: r.createdAt || r.created_at || null,
    labels,
    prompt: r.prompt || null,
    response: r.response || null,
    expected: r.expected || null,
  });
}

interface CsvRecord {
  line: number;
  fields: string[];
  error?: string;
}

/** RFC 4180: quoted fields may hold commas, quotes ("") and newlines. */
export function parseCsv(text: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let start = 1;
  let error: string | undefined;
  const end = (): void => {
    fields.push(field);
    records.push({ line: start, fields, ...(error ? { error } : {}) });
    fields = [];
    field = '';
    error = undefined;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else {
        if (c === '\n') line++;
        field += c;
      }
    } else if (c === '"') {
      if (field !== '') error = 'a quote inside an unquoted field';
      quoted = true;
    } else if (c === ',') {
      fields.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      end();
      line++;
      start = line;
    } else field += c;
  }
  if (quoted) error = 'a quoted field is not closed before the end of the file';
  if (field !== '' || fields.length > 0 || error) end();
  return records;
}
