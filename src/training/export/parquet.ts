import type * as Hyparquet from 'hyparquet-writer';
import type { ParquetWriter, SchemaElement } from 'hyparquet-writer';

// A small typed description of a Parquet column, turned into the flat schema hyparquet-writer
// takes: lists are the standard three-level LIST, structs are groups, `json` is UTF-8 text with
// the JSON converted type (readers that know it, like hyparquet, give the value back; pyarrow
// gives the text). Row values are written as they are: arrays for lists, objects for structs.
// Integers are int32 unless they can pass 2^31 − 1 (seeds reach 2^32 − 1, policy versions are any
// digits): those are int64, written from JS numbers (readers give them back as int64; hyparquet,
// as bigint). Every value is checked against its column before it is buffered, so a value that
// does not fit names its row and field instead of failing deep inside the encoder.

type Primitive = 'int32' | 'int64' | 'double' | 'boolean' | 'string';

export type ParquetType =
  | { kind: Primitive | 'json'; nullable: boolean }
  | { kind: 'list'; element: ParquetType; nullable: boolean }
  | { kind: 'struct'; fields: ParquetColumns; nullable: boolean };

export type ParquetColumns = Readonly<Record<string, ParquetType>>;

export const pq = {
  int: (): ParquetType => ({ kind: 'int32', nullable: false }),
  /** For integers that can pass 2^31 − 1: seeds, policy versions. */
  int64: (): ParquetType => ({ kind: 'int64', nullable: false }),
  double: (): ParquetType => ({ kind: 'double', nullable: false }),
  bool: (): ParquetType => ({ kind: 'boolean', nullable: false }),
  string: (): ParquetType => ({ kind: 'string', nullable: false }),
  json: (): ParquetType => ({ kind: 'json', nullable: false }),
  list: (element: ParquetType): ParquetType => ({ kind: 'list', element, nullable: false }),
  struct: (fields: ParquetColumns): ParquetType => ({ kind: 'struct', fields, nullable: false }),
  nullable: (type: ParquetType): ParquetType => ({ ...type, nullable: true }),
};

function elements(name: string, type: ParquetType): SchemaElement[] {
  const repetition_type = type.nullable ? 'OPTIONAL' : 'REQUIRED';
  switch (type.kind) {
    case 'int32':
      return [{ name, type: 'INT32', repetition_type }];
    case 'int64':
      return [{ name, type: 'INT64', repetition_type }];
    case 'double':
      return [{ name, type: 'DOUBLE', repetition_type }];
    case 'boolean':
      return [{ name, type: 'BOOLEAN', repetition_type }];
    case 'string':
      return [{ name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type }];
    case 'json':
      return [{ name, type: 'BYTE_ARRAY', converted_type: 'JSON', repetition_type }];
    case 'list':
      return [
        { name, repetition_type, converted_type: 'LIST', num_children: 1 },
        { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
        ...elements('element', type.element),
      ];
    case 'struct': {
      const fields = Object.entries(type.fields);
      return [{ name, repetition_type, num_children: fields.length }, ...fields.flatMap(([field, t]) => elements(field, t))];
    }
  }
}

export function parquetSchema(columns: ParquetColumns): SchemaElement[] {
  const entries = Object.entries(columns);
  return [{ name: 'root', num_children: entries.length }, ...entries.flatMap(([name, type]) => elements(name, type))];
}

// Parquet strings are UTF-8, which has no encoding for half of a surrogate pair: the encoder would
// write U+FFFD in its place, so the file would read back as different text than the store holds.
// JSONL keeps such text (as a \u escape). With the `u` flag, a pair is one code point and never matches.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

function loneSurrogate(field: string, value: string): string {
  const at = value.search(LONE_SURROGATE);
  const unit = value.charCodeAt(at).toString(16).toUpperCase();
  return `field "${field}" holds a lone surrogate (\\u${unit} at index ${at}), which UTF-8 cannot encode: Parquet would store U+FFFD instead (expected well-formed Unicode; --format jsonl keeps the text as it is)`;
}

/** Whether a column holds text anywhere (token id lists do not, and are not walked). */
function holdsText(type: ParquetType): boolean {
  if (type.kind === 'string') return true;
  if (type.kind === 'list') return holdsText(type.element);
  if (type.kind === 'struct') return Object.values(type.fields).some(holdsText);
  return false;
}

function textProblemIn(type: ParquetType, value: unknown, field: string): string | null {
  if (type.kind === 'string') return typeof value === 'string' && LONE_SURROGATE.test(value) ? loneSurrogate(field, value) : null;
  if (value === null || typeof value !== 'object' || !holdsText(type)) return null;
  if (type.kind === 'list' && Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = textProblemIn(type.element, value[i], `${field}.${i}`);
      if (found) return found;
    }
  }
  if (type.kind === 'struct' && !Array.isArray(value)) {
    for (const [name, t] of Object.entries(type.fields)) {
      const found = textProblemIn(t, (value as Record<string, unknown>)[name], `${field}.${name}`);
      if (found) return found;
    }
  }
  return null;
}

/**
 * The first text in `row` a Parquet file cannot hold (a lone surrogate), as a sentence naming its
 * field, or null. Only text columns are walked; values of the wrong kind are left to `write`.
 */
export function unencodableText(columns: ParquetColumns, row: Record<string, unknown>): string | null {
  for (const [name, type] of Object.entries(columns)) {
    const found = textProblemIn(type, row[name], name);
    if (found) return found;
  }
  return null;
}

const FITS: Record<Primitive, { expected: string; test: (value: unknown) => boolean }> = {
  int32: { expected: 'int32 (a whole number from -2147483648 to 2147483647)', test: (v) => Number.isInteger(v) && (v as number) >= -(2 ** 31) && (v as number) < 2 ** 31 },
  int64: { expected: 'int64 (a whole number JS holds exactly)', test: (v) => Number.isSafeInteger(v) },
  double: { expected: 'double (a number)', test: (v) => typeof v === 'number' },
  boolean: { expected: 'boolean', test: (v) => typeof v === 'boolean' },
  string: { expected: 'string', test: (v) => typeof v === 'string' && !LONE_SURROGATE.test(v) },
};

/** A value that does not fit its column, named by its row and field (`calls.0.start`). */
function misfit(field: string, value: unknown, expected: string): Error {
  if (typeof value === 'string' && LONE_SURROGATE.test(value)) return new Error(loneSurrogate(field, value));
  const shown = typeof value === 'string' ? JSON.stringify(value.length > 40 ? `${value.slice(0, 39)}…` : value) : Array.isArray(value) ? 'an array' : typeof value === 'object' && value !== null ? 'an object' : String(value);
  return new Error(`field "${field}" holds ${shown}, which does not fit its Parquet column: expected ${expected}`);
}

/** `value` as the writer takes it, checked against its column: int64 numbers become bigints. */
function physical(type: ParquetType, value: unknown, field: string): unknown {
  if (value === null || value === undefined) {
    if (type.nullable) return null;
    throw misfit(field, value, 'a value (the column is not nullable)');
  }
  switch (type.kind) {
    case 'json':
      return value;
    case 'list': {
      if (!Array.isArray(value)) throw misfit(field, value, 'a list');
      const element = type.element;
      if (element.kind === 'list' || element.kind === 'struct' || element.kind === 'json' || element.nullable) return value.map((v, i) => physical(element, v, `${field}.${i}`));
      // Token ids: 10⁵ values a row, checked without a path string or a copy each.
      const fits = FITS[element.kind];
      const bad = value.findIndex((v) => !fits.test(v));
      if (bad !== -1) throw misfit(`${field}.${bad}`, value[bad], fits.expected);
      return element.kind === 'int64' ? value.map((v) => BigInt(v as number)) : value;
    }
    case 'struct': {
      if (typeof value !== 'object' || Array.isArray(value)) throw misfit(field, value, 'an object');
      const object = value as Record<string, unknown>;
      return Object.fromEntries(Object.entries(type.fields).map(([name, t]) => [name, physical(t, object[name], `${field}.${name}`)]));
    }
    default: {
      const fits = FITS[type.kind];
      if (!fits.test(value)) throw misfit(field, value, fits.expected);
      return type.kind === 'int64' ? BigInt(value as number) : value;
    }
  }
}

export interface ParquetFileOptions {
  path: string;
  columns: ParquetColumns;
  /** Key-value metadata stored in the footer (format name, run id). */
  metadata?: Record<string, string>;
  /** Most rows per row group. */
  rowGroupRows?: number;
  /** Most list entries buffered per row group: 100-turn rows hold ~10⁵ ids each, so rows alone do not bound memory. */
  rowGroupValues?: number;
}

/** Top-level list lengths: the bulk of an export row's memory. */
function weight(row: Record<string, unknown>): number {
  let total = 1;
  for (const value of Object.values(row)) if (Array.isArray(value)) total += value.length;
  return total;
}

let hyparquet: Promise<typeof Hyparquet> | undefined;

/** Writes rows to a Parquet file one row group at a time, buffering at most one group. */
export class ParquetRowWriter {
  /** Opens a writer; the Parquet package is loaded here, on first use, not by every command. */
  static async open(options: ParquetFileOptions): Promise<ParquetRowWriter> {
    hyparquet ??= import('hyparquet-writer');
    return new ParquetRowWriter(options, await hyparquet);
  }

  private readonly writer: ParquetWriter;
  private readonly columns: ParquetColumns;
  private readonly names: string[];
  private readonly rowGroupRows: number;
  private readonly rowGroupValues: number;
  private buffer: Record<string, unknown>[] = [];
  private buffered = 0;
  private written = 0;

  private constructor(options: ParquetFileOptions, { fileWriter, ParquetWriter }: typeof Hyparquet) {
    this.columns = options.columns;
    this.names = Object.keys(options.columns);
    this.rowGroupRows = options.rowGroupRows ?? 1024;
    this.rowGroupValues = options.rowGroupValues ?? 4_000_000;
    this.writer = new ParquetWriter({
      writer: fileWriter(options.path),
      schema: parquetSchema(options.columns),
      createdBy: 'gauntlet',
      kvMetadata: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
    });
  }

  get rows(): number {
    return this.written;
  }

  /** Checks and buffers a row; `label` names it in errors (an export's sample id) beside its number. */
  write(row: Record<string, unknown>, label?: string): void {
    const where = `Parquet row ${this.written}${label ? ` (${label})` : ''}`;
    const values: Record<string, unknown> = {};
    for (const name of this.names) {
      if (!(name in row)) throw new Error(`${where} has no column "${name}"`);
      try {
        values[name] = physical(this.columns[name] as ParquetType, row[name], name);
      } catch (error) {
        throw new Error(`${where}: ${(error as Error).message}`, { cause: error });
      }
    }
    this.buffer.push(values);
    this.buffered += weight(row);
    this.written++;
    if (this.buffer.length >= this.rowGroupRows || this.buffered >= this.rowGroupValues) this.flush();
  }

  private flush(): void {
    if (this.buffer.length === 0) return;
    const rows = this.buffer;
    this.buffer = [];
    this.buffered = 0;
    const columnData = this.names.map((name) => ({ name, data: rows.map((row) => row[name]) }));
    // fileWriter writes synchronously, so neither call returns a promise.
    void this.writer.write({ columnData, rowGroupSize: rows.length });
  }

  close(): void {
    this.flush();
    void this.writer.finish();
  }
}
