import type * as Hyparquet from 'hyparquet-writer';
import type { ParquetWriter, SchemaElement } from 'hyparquet-writer';

// A small typed description of a Parquet column, turned into the flat schema hyparquet-writer
// takes: lists are the standard three-level LIST, structs are groups, `json` is UTF-8 text with
// the JSON converted type (readers that know it, like hyparquet, give the value back; pyarrow
// gives the text). Row values are written as they are: arrays for lists, objects for structs.

export type ParquetType =
  | { kind: 'int32' | 'double' | 'boolean' | 'string' | 'json'; nullable: boolean }
  | { kind: 'list'; element: ParquetType; nullable: boolean }
  | { kind: 'struct'; fields: ParquetColumns; nullable: boolean };

export type ParquetColumns = Readonly<Record<string, ParquetType>>;

export const pq = {
  int: (): ParquetType => ({ kind: 'int32', nullable: false }),
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
  private readonly names: string[];
  private readonly rowGroupRows: number;
  private readonly rowGroupValues: number;
  private buffer: Record<string, unknown>[] = [];
  private buffered = 0;
  private written = 0;

  private constructor(options: ParquetFileOptions, { fileWriter, ParquetWriter }: typeof Hyparquet) {
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

  write(row: Record<string, unknown>): void {
    for (const name of this.names) {
      if (!(name in row)) throw new Error(`Parquet row ${this.written} has no column "${name}"`);
    }
    this.buffer.push(row);
    this.buffered += weight(row);
    this.written++;
    if (this.buffer.length >= this.rowGroupRows || this.buffered >= this.rowGroupValues) this.flush();
  }

  private flush(): void {
    if (this.buffer.length === 0) return;
    const rows = this.buffer;
    this.buffer = [];
    this.buffered = 0;
    const columnData = this.names.map((name) => ({ name, data: rows.map((row) => row[name] ?? null) }));
    // fileWriter writes synchronously, so neither call returns a promise.
    void this.writer.write({ columnData, rowGroupSize: rows.length });
  }

  close(): void {
    this.flush();
    void this.writer.finish();
  }
}
