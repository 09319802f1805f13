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

/**
 * Whether a JSON number reads back as text the way it was written, as far as can be told: an id
 * like 12345678901234567890 or an answer like 1e21 would otherwise become other text
 * (12345678901234567000, 1e+21) without a word.
 */
function readExactly(value: number): boolean {
  return Number.isSafeInteger(value) || (!Number.isInteger(value) && Number.isFinite(value) && !/e/i.test(String(value)));
}

const optionalText = z
  .union([z.string(), z.number()])
  .transform((v, ctx) => {
    if (typeof v === 'number' && !readExactly(v)) {
      ctx.addIssue({ code: 'custom', message: `a number that would not be kept as written (it reads as ${v}); expected it quoted as a string` });
      return z.NEVER;
    }
    return String(v).trim();
  })
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
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new InputError(path, `cannot read: ${errorMessage(error)}`, 'a JSONL, CSV or GitHub issues JSON file');
  }
  let text = utf8Text(bytes, path);
  // Spreadsheet exports start with a byte-order mark: left in, it hides the first CSV column's
  // name and makes the first JSON line unreadable.
  if (text.startsWith('\uFEFF')) text = text.slice(1);
  const source = options.source ?? basename(path);
  const read = readAs(extname(path), text, { source, path });
  // A file with nothing in it is most likely the wrong file (or an export that failed): say so.
  if (read.rows === 0 && read.problems.length === 0) read.problems.push({ where: source, message: `no reports in the file${text.trim() === '' ? ' (it is empty)' : ''}; expected at least one row` });
  return read;
}

function readAs(extension: string, text: string, file: { source: string; path: string }): IngestRead {
  switch (extension.toLowerCase()) {
    case '.jsonl':
    case '.ndjson':
      return fromJsonl(text, file.source);
    case '.csv':
      return fromCsv(text, file.source);
    case '.json':
      // An empty export is a file without reports, not malformed JSON.
      return text.trim() === '' ? { reports: [], problems: [], rows: 0 } : fromGithub(text, file.source, file.path);
    default:
      throw new InputError(file.path, `unknown extension '${extension}'`, '.jsonl, .csv or .json (a GitHub issues export)');
  }
}

/**
 * The file as text. Bytes that are not UTF-8 would otherwise become U+FFFD without a word, and a
 * NUL byte means a binary file, not an export.
 */
function utf8Text(bytes: Buffer, path: string): string {
  const expected = 'UTF-8 text: a JSONL, CSV or GitHub issues JSON export';
  const nul = bytes.indexOf(0);
  if (nul >= 0) throw new InputError(`${path}:${lineAt(bytes, nul)}`, `a NUL byte at byte ${nul}: a binary file`, expected);
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch (_error) {
    // Only on failure: find the first line that does not decode, so the message says where.
    let start = 0;
    for (let line = 1; start <= bytes.length; line++) {
      const end = bytes.indexOf(0x0a, start);
      const stop = end < 0 ? bytes.length : end;
      try {
        new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(start, stop));
      } catch (_lineError) {
        throw new InputError(`${path}:${line}`, 'bytes that are not valid UTF-8 (a different encoding, or a binary file)', expected);
      }
      start = stop + 1;
    }
    throw new InputError(path, 'bytes that are not valid UTF-8', expected);
  }
}

/**
 * `path:line` of a JSON.parse failure: Node 20 names a character position, later versions a line
 * and column; input that ends too soon fails on its last line.
 */
export function jsonErrorWhere(path: string, text: string, error: unknown): string {
  const message = errorMessage(error);
  const line = /\(line (\d+) column \d+\)/.exec(message)?.[1];
  if (line) return `${path}:${line}`;
  const position = /at position (\d+)/.exec(message)?.[1];
  const offset = position === undefined ? (/end of JSON input/.test(message) ? text.trimEnd().length : -1) : Number(position);
  if (offset < 0) return path;
  let count = 1;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) count++;
  return `${path}:${count}`;
}

function lineAt(bytes: Buffer, offset: number): number {
  let line = 1;
  for (let i = bytes.indexOf(0x0a); i >= 0 && i < offset; i = bytes.indexOf(0x0a, i + 1)) line++;
  return line;
}

function fromJsonl(text: string, source: string): IngestRead {
  const read: IngestRead = { reports: [], problems: [], rows: 0 };
  const pending: (Pending | Problem)[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    read.rows++;
    const where = `${source}:${i + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      pending.push({ where, message: `not JSON: ${errorMessage(error)}` });
      return;
    }
    add(pending, { value, where, fallbackId: String(i + 1) });
  });
  return finish(read, pending, source);
}

function fromCsv(text: string, source: string): IngestRead {
  const read: IngestRead = { reports: [], problems: [], rows: 0 };
  const records = parseCsv(text);
  const pending: (Pending | Problem)[] = [];
  const header = records[0];
  if (!header) return { ...read, problems: [{ where: source, message: 'empty CSV: expected a header row' }] };
  const names = header.fields.map((h) => h.trim());
  // Two columns of one name: one of them would be dropped from every row without a word.
  const twice = names.find((name, i) => name !== '' && names.indexOf(name) !== i);
  if (twice !== undefined) return { ...read, rows: records.length - 1, problems: [{ where: `${source}:${header.line}`, message: `the header names column '${twice}' twice; expected each column once (no row of this file was read)` }] };
  for (const record of records.slice(1)) {
    if (record.fields.length === 1 && record.fields[0] === '') continue;
    read.rows++;
    const where = `${source}:${record.line}`;
    if (record.error) {
      pending.push({ where, message: record.error });
      continue;
    }
    if (record.fields.length !== names.length) {
      pending.push({ where, message: `${record.fields.length} fields, the header has ${names.length}` });
      continue;
    }
    add(pending, { value: Object.fromEntries(names.map((n, i) => [n, record.fields[i] ?? ''])), where, fallbackId: String(record.line) });
  }
  return finish(read, pending, source);
}

function fromGithub(text: string, source: string, path: string): IngestRead {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InputError(jsonErrorWhere(path, text, error), `not JSON: ${errorMessage(error)}`, 'a GitHub issues export: a JSON array of issues');
  }
  if (!Array.isArray(value)) throw new InputError(path, 'not a JSON array', 'a GitHub issues export: a JSON array of issues');
  const read: IngestRead = { reports: [], problems: [], rows: value.length };
  const pending: (Pending | Problem)[] = [];
  value.forEach((entry, i) => {
    const where = `${source}[${i}]`;
    const issue = GithubIssue.safeParse(entry);
    if (!issue.success) return void pending.push({ where, message: `not a GitHub issue: ${describeZodIssues(issue.error.issues)}` });
    if (issue.data.pull_request !== undefined) return void pending.push({ where, message: `#${issue.data.number} is a pull request, not feedback` });
    const row = {
      id: String(issue.data.number),
      title: issue.data.title,
      body: issue.data.body ?? '',
      url: issue.data.html_url,
      author: issue.data.user?.login,
      createdAt: issue.data.created_at,
      labels: (issue.data.labels ?? []).map((l) => (typeof l === 'string' ? l : l.name)),
    };
    add(pending, { value: row, where, fallbackId: String(issue.data.number) });
  });
  return finish(read, pending, source);
}

/** A usable row whose id is given once the whole file is read. */
interface Pending {
  row: z.infer<typeof Row>;
  body: string;
  title: string;
  where: string;
  fallbackId: string;
}

/** Problems wait in `pending` too, so they stay in file order beside the repeated-id ones. */
function add(pending: (Pending | Problem)[], input: { value: unknown; where: string; fallbackId: string }): void {
  const row = Row.safeParse(input.value);
  if (!row.success) return void pending.push({ where: input.where, message: describeZodIssues(row.error.issues) });
  const r = row.data;
  const body = r.text || r.body || r.message || '';
  const title = r.title || body.split(/[.\n]/)[0]?.slice(0, 100) || '';
  if (!body && !r.title) return void pending.push({ where: input.where, message: 'no text: expected `text`, `body`, `message` or `title`' });
  pending.push({ row: r, body, title, where: input.where, fallbackId: input.fallbackId });
}

/**
 * Report ids: the row's own id, else its line (or issue number). The ids rows give are reserved
 * first, so a row without one never takes an id a later row names (`line-<n>` then); the same id
 * given twice is the second row's problem.
 */
function finish(read: IngestRead, pending: readonly (Pending | Problem)[], source: string): IngestRead {
  const given = new Set(pending.map((p) => ('row' in p ? p.row.id : null)).filter((id): id is string => Boolean(id)));
  const taken = new Map<string, string>();
  for (const p of pending) {
    if (!('row' in p)) {
      read.problems.push(p);
      continue;
    }
    let local = p.row.id || p.fallbackId;
    if (!p.row.id && (given.has(local) || taken.has(local))) local = `line-${p.fallbackId}`;
    const first = taken.get(local);
    if (first !== undefined) {
      read.problems.push({ where: p.where, message: `id '${local}' appears twice in this file (first at ${first}); expected each row's id once` });
      continue;
    }
    taken.set(local, p.where);
    read.reports.push(report(p, `${source}#${local}`, source));
  }
  return read;
}

function report(p: Pending, id: string, source: string): FeedbackReport {
  const r = p.row;
  const { body, title } = p;
  const labels = typeof r.labels === 'string' ? r.labels.split(/[;,]/).map((l) => l.trim()).filter(Boolean) : (r.labels ?? []);
  return {
    id,
    source,
    title,
    body,
    url: r.url || null,
    author: r.author || r.user || null,
    createdAt: r.createdAt || r.created_at || null,
    labels,
    prompt: r.prompt || null,
    response: r.response || null,
    expected: r.expected || null,
  };
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
